/// The REQUEST_WEIGHT entry of a response's `rateLimits`: IP-wide usage in the current minute.
public struct RateLimitStatus: Sendable, Equatable {
    public var limit: Int64
    public var count: Int64

    public init(limit: Int64, count: Int64) {
        self.limit = limit
        self.count = count
    }
}

/// An error answer from Binance: HTTP-like `status`, negative `code`, `msg`, and the rate-limit
/// data of 429/418 answers.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var method: String
    public var status: Int
    public var code: Int
    public var message: String
    /// Epoch ms when requests are accepted again (429/418 `error.data.retryAfter`).
    public var retryAfter: Int64?
    public var serverTime: Int64?
    public var rateLimit: RateLimitStatus?

    public init(
        method: String, status: Int, code: Int, message: String, retryAfter: Int64? = nil, serverTime: Int64? = nil,
        rateLimit: RateLimitStatus? = nil
    ) {
        self.method = method
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.serverTime = serverTime
        self.rateLimit = rateLimit
    }

    /// −1003 TOO_MANY_REQUESTS: the code of 429 and 418 answers, also when Binance's answer
    /// (a handshake, a REST body) carries none.
    public static let tooManyRequestsCode = -1003
    /// −1021 INVALID_TIMESTAMP: the request's timestamp is outside `recvWindow`.
    public static let invalidTimestampCode = -1021

    public var isRateLimited: Bool { status == 429 }
    public var isBanned: Bool { status == 418 }
    public var isInvalidTimestamp: Bool { code == Self.invalidTimestampCode }
    /// Key revoked, IP not whitelisted, bad key format or signature: a human must fix the key.
    public var isCredentialProblem: Bool { [-2015, -2014, -1022, -1002, -4056].contains(code) || status == 401 }
    /// Binance documents no code for an unknown method; recognise the messages its gateways use
    /// and -1020 (UNSUPPORTED_OPERATION), so a deprecated v1 method can fall back to v2.
    public var isUnknownMethod: Bool {
        let text = message.lowercased()
        return code == -1020 || text.contains("unknown method") || text.contains("invalid method")
            || text.contains("method not found") || text.contains("not supported")
    }

    public var description: String { "\(method): Binance error \(code) (status \(status)): \(message)" }
}

/// Everything a request can end in. A closed set, so callers can switch over it; no case ever
/// carries a secret, a signature or a payload.
public enum BinanceClientError: Error, Sendable, CustomStringConvertible {
    /// Binance answered with an error.
    case api(APIError)
    /// The WebSocket handshake got an HTTP answer other than 101 (429/418 during a ban, 403 WAF…),
    /// with the `Retry-After` seconds Binance documents for 418/429 when present.
    case handshakeRejected(httpStatus: Int, retryAfterSeconds: Int?)
    /// TCP/TLS/WebSocket failure.
    case transport(String)
    /// The client cannot make the request as configured: no credentials, a key that cannot
    /// sign, a TLS trust file that cannot be loaded. Retrying does not help.
    case configuration(String)
    /// No answer within the deadline; the connection may be silent or dead.
    case timeout(method: String)
    /// The answer arrived but its payload was not what the method documents.
    case decode(method: String, DecodeError)
    /// The connection closed while the request was in flight.
    case connectionClosed(String)
    /// The caller cancelled the request.
    case cancelled

    public var description: String {
        switch self {
        case .api(let error): error.description
        case .handshakeRejected(let status, let retryAfter):
            "WebSocket handshake rejected with HTTP \(status)" + (retryAfter.map { " (Retry-After \($0) s)" } ?? "")
        case .transport(let reason): "transport error: \(reason)"
        case .configuration(let problem): "configuration error: \(problem)"
        case .timeout(let method): "\(method): no response before the deadline"
        case .decode(let method, let error): "\(method): cannot decode response: \(error)"
        case .connectionClosed(let reason): "connection closed: \(reason)"
        case .cancelled: "request cancelled"
        }
    }
}
