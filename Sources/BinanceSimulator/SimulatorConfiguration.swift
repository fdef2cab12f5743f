import NIOCore
import NIOSSL

/// Exchange rules the simulator enforces. Defaults are Binance's published values.
public struct SimulatorConfiguration: Sendable {
    /// REQUEST_WEIGHT per calendar minute per IP.
    public var weightLimit: Int64 = 2400
    /// papi (Portfolio Margin REST) in the same per-IP window as fapi, dapi, ws-fapi and ws-dapi,
    /// with `weightLimit`; false (Binance's documented PM limit): a window of its own with
    /// `papiWeightLimit` and its own 429 and 418 state.
    public var papiSharesIPWeight = false
    /// papi's REQUEST_WEIGHT per calendar minute per IP when it has its own window.
    public var papiWeightLimit: Int64 = 6000
    public var handshakeWeight: Int64 = 5
    public var sessionWeight: Int64 = 2
    public var v2Weight: Int64 = 5
    /// The 2024 changelog says 10 for v1 methods; their pages say 5.
    public var v1Weight: Int64 = 10
    /// ws-dapi `account.status`, `account.position`, `account.balance` (the COIN-M SDK's docstrings: 5 each).
    public var coinMAccountWeight: Int64 = 5
    /// `userDataStream.start/ping/stop` (the SDK's docstrings: 1 each).
    public var listenKeyWeight: Int64 = 1
    /// A listen key lives this long after its last start or ping (Binance: 60 minutes).
    public var listenKeyValidityMilliseconds: Int64 = 3_600_000
    /// How often `!markPrice@arr@1s` is pushed (Binance: 1 s).
    public var markPriceInterval: TimeAmount = .seconds(1)
    /// Serve `/sapi/...` (a testnet has no spot API: 404).
    public var serveSpotAPI = true
    /// A stream connection is closed after this long (Binance: 24 hours).
    public var streamMaxAge: TimeAmount = .hours(24)
    /// First ban length; doubles for repeat offenders (Binance: 2 minutes up to 3 days).
    public var banMilliseconds: Int64 = 120_000
    /// Binance pings every 3 minutes and drops clients that do not answer within 10.
    public var serverPingInterval: TimeAmount? = .seconds(180)
    public var pongTimeout: TimeAmount = .seconds(600)
    public var maxFrameSize = 1 << 20
    public var market = Market.standard()
    /// Serve `wss://` with this server context (tests of the client's TLS and CA options).
    public var tls: NIOSSLContext?

    public init() {}
}

/// An error the simulator should return instead of a normal answer, e.g. a burst of −1001.
public struct ForcedError: Sendable, Equatable {
    public var status: Int
    public var code: Int
    public var message: String
    /// Only for this method; nil for any account method.
    public var method: String?

    public init(status: Int, code: Int, message: String, method: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.method = method
    }
}

/// Faults that change how the simulator answers. Changed at run time by tests and demo.
public struct Faults: Sendable {
    /// Delay before each answer.
    public var responseDelayMilliseconds: Int64 = 0
    /// Accept requests but never answer.
    public var silent = false
    /// The exchange clock runs this far ahead of the local clock (negative: behind).
    public var clockSkewMilliseconds: Int64 = 0
    /// Do not answer client pings.
    public var ignoreClientPings = false
    /// Answers the next requests with these errors, one per request, first in first out.
    public var forcedErrors: [ForcedError] = []
    /// Methods answered as unknown (e.g. a retired v1 method).
    public var unknownMethods: Set<String> = []
    /// Refuse WebSocket handshakes with this HTTP status (e.g. 403 WAF).
    public var rejectHandshakesWithStatus: Int?
    /// `Retry-After` seconds sent with those refusals.
    public var rejectHandshakesRetryAfterSeconds: Int?
    /// Send answers as a text frame plus continuation frames of at most this many bytes.
    public var fragmentSize: Int?
    /// Replace the next answers, one each, first in first out, with a frame that cannot be
    /// read: what a lossy proxy or a broken exchange gateway sends in place of the answer.
    public var corruptAnswers: [AnswerCorruption] = []
    /// Refuse user stream handshakes (503) while the WebSocket API still works.
    public var rejectStreamHandshakes = false
    /// Generate account activity but push none of it (a stream that silently lost events).
    public var pauseUserStream = false
    /// Stop pushing mark prices (the feed goes silent; the connection stays).
    public var pauseMarkPrices = false
    /// `GET /fapi/v1/openOrders` and `/fapi/v1/openAlgoOrders` answer 404 `{"code":-1,"msg":"Not
    /// found."}`: a testnet or gateway without the endpoints.
    public var openOrdersNotFound = false

    public init() {}
}

/// How an answer is corrupted by `Faults.corruptAnswers`.
public enum AnswerCorruption: Sendable, Equatable {
    /// Text that is not JSON.
    case garbage
    /// The answer cut off in the middle (its id still readable by a lenient parser, not by ours).
    case truncated
    /// A binary frame, which the WebSocket API never sends.
    case binary
}

/// What the simulator saw; tests assert on it.
public struct SimulatorStats: Sendable {
    public var requestsByMethod: [String: Int] = [:]
    public var handshakes = 0
    public var rejectedHandshakes = 0
    public var answered429 = 0
    public var answered418 = 0
    public var signatureFailures = 0
    public var timestampFailures = 0
    public var logons = 0
    public var pongsReceived = 0
    /// Close frames received from clients (a clean shutdown sends one).
    public var closeFramesReceived = 0
    /// Weight charged to the exporter's own requests and handshakes, per calendar minute.
    public var clientWeightByMinute: [Int64: Int64] = [:]
    /// Highest IP-wide count seen per minute (background included).
    public var peakCountByMinute: [Int64: Int64] = [:]
    /// Local ms times of account-method requests, per API key (staggering tests).
    public var accountRequestTimes: [String: [Int64]] = [:]
    public var streamHandshakes = 0
    public var marketStreamHandshakes = 0
    /// `!markPrice@arr@1s` frames pushed.
    public var markPriceFrames = 0
    public var restRequestsByPath: [String: Int] = [:]
    /// Request weight charged per REST path (`openOrders` without `symbol` costs 40, with it 1).
    public var restWeightByPath: [String: Int64] = [:]
    /// Weight charged to the client's papi requests per calendar minute, in whichever window
    /// papi is counted in (`SimulatorConfiguration.papiSharesIPWeight`).
    public var papiWeightByMinute: [Int64: Int64] = [:]
    public var listenKeysIssued = 0
    public var listenKeyPings = 0
    public var listenKeysExpired = 0
    /// Event frames written to user stream clients.
    public var userStreamEventsSent = 0

    public var totalRequests: Int { requestsByMethod.values.reduce(0, +) }

    /// Keeps the last 1000 request times per key, so a long `--demo` run does not grow.
    mutating func recordAccountRequest(apiKey: String, at time: Int64) {
        var times = accountRequestTimes[apiKey, default: []]
        if times.count >= 1000 { times.removeFirst(times.count - 999) }
        times.append(time)
        accountRequestTimes[apiKey] = times
    }

    /// Drops per-minute entries older than `minute` (an hour of history is kept).
    mutating func forget(minutesBefore minute: Int64) {
        clientWeightByMinute = clientWeightByMinute.filter { $0.key >= minute }
        papiWeightByMinute = papiWeightByMinute.filter { $0.key >= minute }
        peakCountByMinute = peakCountByMinute.filter { $0.key >= minute }
    }
}
