import Logging
import NIOCore
import NIOPosix

/// A decoded answer plus the IP-wide weight usage Binance reported with it.
public struct Response<Value: Sendable>: Sendable {
    public let value: Value
    public let rateLimit: RateLimitStatus?

    public init(value: Value, rateLimit: RateLimitStatus?) {
        self.value = value
        self.rateLimit = rateLimit
    }
}

/// Unsolicited things that happen to a connection; the owner decides whether to reconnect.
public enum ConnectionEvent: Sendable, Equatable {
    /// Binance announced that this connection will close soon.
    case serverShutdown
    /// An `id: null` error: the session's key became invalid (e.g. −2015).
    case sessionError(code: Int, message: String)
    /// A frame that was not valid JSON or not a known message.
    case protocolError(String)
    /// The connection is gone; every pending request has failed.
    case closed(reason: CloseReason)
}

/// Settings for one connection. Every knob in one value, with production defaults.
public struct ConnectionConfiguration: Sendable {
    public var url: WebSocketURL
    public var transport = TransportConfiguration()
    public var requestTimeout: Duration = .seconds(10)
    /// Binance recommends 5000 ms or less; Spot caps it at 60000.
    public var recvWindow: Int64 = 5000
    /// Timestamps are biased this far into the past: a future timestamp has only 1 s of slack,
    /// a past one has `recvWindow`.
    public var timestampBiasMilliseconds: Int64 = 100

    public init(url: WebSocketURL) { self.url = url }
}

/// One Binance WebSocket API connection: unique request ids, responses matched by id in any
/// order, a deadline per request, signing, `session.logon` for Ed25519 keys, and a clock-offset
/// estimate. When the connection drops every pending request fails at once; nothing leaks.
///
/// It never reconnects by itself: reconnecting costs weight, so the owner (the poller, which
/// asks the scheduler) decides when.
public actor BinanceConnection {
    public let configuration: ConnectionConfiguration
    private let credentials: APICredentials?
    private let clock: WallClock
    private let logger: Logger
    let transport: WebSocketTransport
    private var pending = PendingRequests()
    private var nextID: Int64 = 1
    private var closedReason: CloseReason?
    private var readerTask: Task<Void, Never>?
    private let eventContinuation: AsyncStream<ConnectionEvent>.Continuation

    /// Events in arrival order; finishes when the connection closes.
    public nonisolated let events: AsyncStream<ConnectionEvent>
    /// Exchange time minus local time, in ms, from the last `synchroniseClock`.
    public private(set) var clockOffsetMilliseconds: Int64 = 0
    /// True after a successful `session.logon`: account requests then carry no signature.
    public private(set) var isLoggedOn = false
    /// Local time (ms) when the connection was established.
    public nonisolated let connectedAt: Int64

    /// Opens the WebSocket. Costs the venue's handshake weight on Binance
    /// (`FuturesVenue.WebSocketAPI.handshakeWeight`, 5 on USDⓈ-M).
    public static func connect(
        configuration: ConnectionConfiguration, credentials: APICredentials?, clock: WallClock = .system,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> BinanceConnection {
        let transport = try await WebSocketTransport.connect(
            url: configuration.url, configuration: configuration.transport, group: group)
        let connection = BinanceConnection(
            configuration: configuration, credentials: credentials, clock: clock, logger: logger, transport: transport)
        await connection.startReading()
        return connection
    }

    private init(
        configuration: ConnectionConfiguration, credentials: APICredentials?, clock: WallClock, logger: Logger,
        transport: WebSocketTransport
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.clock = clock
        self.logger = logger
        self.transport = transport
        self.connectedAt = clock.nowMilliseconds()
        self.requestTimeout = configuration.requestTimeout
        (events, eventContinuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
    }

    public var isClosed: Bool { closedReason != nil }

    /// The deadline of each request from now on; starts at `configuration.requestTimeout`. The
    /// owner shortens it to its poll interval, so a silent connection is given up before the
    /// next poll is due instead of after a fixed time that may span several polls.
    public private(set) var requestTimeout: Duration

    public func setRequestTimeout(_ timeout: Duration) { requestTimeout = max(.milliseconds(1), timeout) }

    /// The connection's one task: the shared reader that delivers frames in order, and beside it
    /// one sweep that fails requests past their deadline. Both end when the connection closes.
    private func startReading() {
        readerTask = TransportReader.start(transport.events, for: self) { [weak self] in
            while !Task.isCancelled, let wait = await self?.expireOverdue() {
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// Fails overdue requests; returns how long to sleep until the next check (nil: closed).
    /// Checks at least every second, and often enough for short deadlines.
    private func expireOverdue() -> Duration? {
        guard closedReason == nil else { return nil }
        let now = ContinuousClock.now
        let cadence = min(.seconds(1), requestTimeout / 4)
        guard let next = pending.expire(now: now) else { return cadence }
        return max(.milliseconds(1), min(cadence, next - now))
    }

    /// A frame that cannot be read. With exactly one request in flight it can only have been
    /// that request's answer (Binance sends nothing else unasked but events, which parse), so the
    /// request fails now instead of waiting out its deadline; otherwise nothing can be matched
    /// and the owner hears of it as a protocol error. Either way it is counted once.
    private func unreadable(_ problem: String, size: Int) {
        let unanswered = pending.unanswered
        if unanswered.count == 1, let (id, method) = unanswered.first {
            logger.warning(
                "unreadable frame in place of the only pending answer; failing that request now",
                metadata: ["method": "\(method)", "bytes": "\(size)", "problem": "\(problem)"])
            pending.finish(id: id, .failure(.decode(method: method, DecodeError(path: "frame", problem: problem))))
            return
        }
        logger.warning("discarding malformed frame", metadata: ["bytes": "\(size)", "problem": "\(problem)"])
        eventContinuation.yield(.protocolError(problem))
    }

    private func deliver(_ message: Result<InboundMessage, any Error>, size: Int) {
        switch message {
        case .failure(let error):
            unreadable("\(error)", size: size)
        case .success(.event(let type, _)):
            if type == "serverShutdown" {
                logger.info("server announced shutdown of this connection")
                eventContinuation.yield(.serverShutdown)
            } else {
                logger.debug("ignoring connection event", metadata: ["event": "\(type)"])
            }
        case .success(.unknown):
            logger.debug("ignoring unknown frame", metadata: ["bytes": "\(size)"])
        case .success(.response(let envelope)):
            guard let id = envelope.id else {
                let code = envelope.error?.code ?? 0
                let text = envelope.error?.message ?? "status \(envelope.status)"
                logger.error("session-level error; failing all requests on this connection", metadata: ["code": "\(code)"])
                eventContinuation.yield(.sessionError(code: code, message: text))
                pending.finishAll(.success(envelope))
                return
            }
            if pending.finish(id: id, .success(envelope)) == nil {
                logger.debug("discarding late or unknown response", metadata: ["id": "\(id)"])
            }
        }
    }

    /// Why the connection closed, once it has: a request that failed because of the close is
    /// reported with the close's reason, whichever of the two the caller hears first.
    public var closeReason: CloseReason? { closedReason }

    private func didClose(reason: CloseReason) {
        guard closedReason == nil else { return }
        closedReason = reason
        pending.finishAll(.failure(.connectionClosed("\(reason)")))
        eventContinuation.yield(.closed(reason: reason))
        eventContinuation.finish()
    }

    private func cancel(id: String) {
        pending.finish(id: id, .failure(.cancelled))
    }

    /// Sends a request and waits for the response with the same id. Throws `.api` for error
    /// answers (with their rate-limit data), never returns a non-200 envelope.
    public func send(method: String, params: RequestParameters = RequestParameters()) async throws(BinanceClientError)
        -> ResponseEnvelope
    {
        if let closedReason { throw .connectionClosed("\(closedReason)") }
        let id = String(nextID)
        nextID += 1
        let text = JSONWriter.request(id: id, method: method, params: params)
        // Registered before it is written: the answer may come back before the caller waits.
        pending.add(id: id, method: method, deadline: ContinuousClock.now.advanced(by: requestTimeout))
        do {
            try await transport.send(text: text)
        } catch {
            didClose(reason: .sendFailed("\(error)"))
        }
        let envelope: ResponseEnvelope
        do {
            envelope = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResponseEnvelope, any Error>) in
                    pending.wait(id: id, continuation)
                }
            } onCancel: {
                Task { [weak self] in await self?.cancel(id: id) }
            }
        } catch let error as BinanceClientError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
        if let apiError = envelope.apiError(method: method) { throw .api(apiError) }
        return envelope
    }

    /// The ms timestamp to put in a request: local time plus the exchange offset, slightly in the past.
    public func timestamp() -> Int64 {
        clock.nowMilliseconds() + clockOffsetMilliseconds - configuration.timestampBiasMilliseconds
    }

    /// Sends a USER_DATA request: adds `timestamp`/`recvWindow`, and `apiKey` + `signature`
    /// unless the connection is logged on. Signs immediately before sending.
    public func sendSigned(method: String, params: RequestParameters = RequestParameters()) async throws(BinanceClientError)
        -> ResponseEnvelope
    {
        try await send(method: method, params: try stamped(params, signed: !isLoggedOn))
    }

    /// Authenticates the connection with an Ed25519 key (weight 2).
    @discardableResult
    public func logon() async throws(BinanceClientError) -> Response<SessionStatus> {
        let method = BinanceMethod.sessionLogon.rawValue
        let envelope = try await send(method: method, params: try stamped(RequestParameters(), signed: true))
        let status = try decode(envelope, method: method, ResultDecoder.session)
        isLoggedOn = true
        return status
    }

    /// `params` with `timestamp` and `recvWindow`, and when `signed`, `apiKey` and the signature
    /// over all of them: the one place where requests are signed.
    private func stamped(_ params: RequestParameters, signed: Bool) throws(BinanceClientError) -> RequestParameters {
        guard let credentials else { throw .configuration("no API credentials configured") }
        var params = params
        if signed { params.set("apiKey", .string(credentials.apiKey)) }
        params.set("timestamp", .int(timestamp()))
        params.set("recvWindow", .int(configuration.recvWindow))
        guard signed else { return params }
        do {
            params.set("signature", .string(try credentials.signer.sign(params.signaturePayload)))
        } catch {
            throw .configuration("signing failed (\(credentials.signer.keyType.rawValue) key)")
        }
        return params
    }

    /// Measures the clock offset with `session.status` (weight 2 per sample): the sample with
    /// the smallest round trip wins; offset = serverTime − midpoint of send and receive.
    @discardableResult
    public func synchroniseClock(samples: Int = 1) async throws(BinanceClientError) -> (offset: Int64, rateLimit: RateLimitStatus?) {
        var best: (rtt: Int64, offset: Int64)?
        var lastLimit: RateLimitStatus?
        for _ in 0..<max(1, samples) {
            let t0 = clock.nowMilliseconds()
            let envelope = try await send(method: BinanceMethod.sessionStatus.rawValue)
            let t1 = clock.nowMilliseconds()
            let status = try decode(envelope, method: BinanceMethod.sessionStatus.rawValue, ResultDecoder.session)
            lastLimit = status.rateLimit
            let offset = status.value.serverTime - (t0 + t1) / 2
            if best == nil || t1 - t0 < best!.rtt { best = (t1 - t0, offset) }
        }
        clockOffsetMilliseconds = best?.offset ?? 0
        return (clockOffsetMilliseconds, lastLimit)
    }

    public func sessionStatus() async throws(BinanceClientError) -> Response<SessionStatus> {
        let method = BinanceMethod.sessionStatus.rawValue
        return try decode(try await send(method: method), method: method, ResultDecoder.session)
    }

    public func accountStatus(_ version: MethodVersion) async throws(BinanceClientError) -> Response<AccountStatus> {
        let method = BinanceMethod.accountStatus(version).rawValue
        return try decode(try await sendSigned(method: method), method: method) { (value) throws(DecodeError) in
            try ResultDecoder.accountStatus(value, version: version)
        }
    }

    public func positions(_ version: MethodVersion, symbol: String? = nil) async throws(BinanceClientError)
        -> Response<[PositionDetail]>
    {
        let method = BinanceMethod.positions(version).rawValue
        var params = RequestParameters()
        if let symbol { params.set("symbol", .string(symbol)) }
        return try decode(try await sendSigned(method: method, params: params), method: method, ResultDecoder.positions)
    }

    public func balances(_ version: MethodVersion) async throws(BinanceClientError) -> Response<[BalanceEntry]> {
        let method = BinanceMethod.balances(version).rawValue
        return try decode(try await sendSigned(method: method), method: method, ResultDecoder.balances)
    }

    /// `userDataStream.start` (weight 1): a listen key for this account's user data stream,
    /// valid 60 minutes; Binance returns the account's active key if it has one and extends it.
    /// Takes the API key only: no timestamp, no signature (the logged-on session's key when
    /// logged on).
    public func startUserDataStream() async throws(BinanceClientError) -> Response<String> {
        try await listenKeyRequest(.userDataStreamStart)
    }

    /// `userDataStream.ping` (weight 1): extends the listen key by 60 minutes. −1125 means the
    /// key no longer exists.
    @discardableResult
    public func pingUserDataStream() async throws(BinanceClientError) -> Response<String> {
        try await listenKeyRequest(.userDataStreamPing)
    }

    /// `userDataStream.stop` (weight 1): closes the user data stream. Returns the weight usage.
    @discardableResult
    public func stopUserDataStream() async throws(BinanceClientError) -> RateLimitStatus? {
        try await send(method: BinanceMethod.userDataStreamStop.rawValue, params: try apiKeyOnly()).rateLimit
    }

    private func listenKeyRequest(_ method: BinanceMethod) async throws(BinanceClientError) -> Response<String> {
        let envelope = try await send(method: method.rawValue, params: try apiKeyOnly())
        return try decode(envelope, method: method.rawValue) { (value) throws(DecodeError) in
            try FieldReader(value, path: "result").string("listenKey")
        }
    }

    private func apiKeyOnly() throws(BinanceClientError) -> RequestParameters {
        guard let credentials else { throw .configuration("no API credentials configured") }
        var params = RequestParameters()
        if !isLoggedOn { params.set("apiKey", .string(credentials.apiKey)) }
        return params
    }

    private func decode<T: Sendable>(
        _ envelope: ResponseEnvelope, method: String, _ decoder: (JSONValue) throws(DecodeError) -> T
    ) throws(BinanceClientError) -> Response<T> {
        guard let result = envelope.result else {
            throw .decode(method: method, DecodeError(path: "result", problem: "missing"))
        }
        do {
            return Response(value: try decoder(result), rateLimit: envelope.rateLimit)
        } catch {
            throw .decode(method: method, error)
        }
    }

    /// Closes with 1000 and fails anything still pending.
    public func close() async {
        await transport.close()
        didClose(reason: .closedByClient)
        readerTask?.cancel()
    }
}

extension BinanceConnection: TransportReading {
    /// Parsed off the actor: a v1 status frame is hundreds of KB.
    nonisolated static func prepare(_ bytes: [UInt8]) -> Result<InboundMessage, any Error> {
        do {
            return .success(try EnvelopeClassifier.classify(try JSONParser.parse(bytes)))
        } catch {
            return .failure(error)
        }
    }

    func receive(_ frame: Result<InboundMessage, any Error>, size: Int) { deliver(frame, size: size) }

    func receiveUnexpected(_ what: String) { unreadable("unexpected \(what)", size: 0) }

    func transportClosed(_ reason: CloseReason) { didClose(reason: reason) }
}
