import Logging
import NIOCore
import NIOPosix

/// What a user data stream connection reports, in arrival order.
public enum UserStreamEvent: Sendable, Equatable {
    /// An event for the listen key `stream` (the stream name of a combined frame).
    case event(stream: String, UserDataEvent)
    /// A frame that could not be read; `stream` when the envelope was readable. The connection
    /// stays open: one bad frame must not cost the events after it.
    case malformed(stream: String?, problem: String)
    /// The connection is gone.
    case closed(reason: CloseReason)
}

/// One connection to Binance's user data streams (`…/private/stream`), carrying the listen keys
/// of any number of accounts: frames are combined (`{"stream": <listenKey>, "data": {…}}`), and
/// keys are added and removed with `SUBSCRIBE` / `UNSUBSCRIBE`, as the official SDK does.
///
/// Listen keys are secrets (whoever holds one reads the account's events, from any IP): they
/// appear in no log line and no error this type produces.
public actor UserStreamConnection {
    private let transport: WebSocketTransport
    private let logger: Logger
    private var nextID: Int64 = 1
    /// SUBSCRIBE/UNSUBSCRIBE requests in flight: the waiting caller, or the answer that came first.
    private enum Ack {
        case waiting(CheckedContinuation<Void, any Error>?)
        case answered(Result<Void, BinanceClientError>)
    }

    private var acks: [Int64: Ack] = [:]
    private var closedReason: CloseReason?
    private var readerTask: Task<Void, Never>?
    private let continuation: AsyncStream<UserStreamEvent>.Continuation
    /// Events in arrival order; finishes when the connection closes.
    public nonisolated let events: AsyncStream<UserStreamEvent>
    /// Local time (ms) the connection was opened, for rotation before Binance's 24 h limit.
    public nonisolated let connectedAt: Int64

    /// The URL of the combined-stream endpoint under a stream base such as
    /// `wss://fstream.binance.com/private` (`StreamLayout.combined`, the layout this connection
    /// speaks).
    public static func streamURL(base: WebSocketURL) -> WebSocketURL { StreamLayout.combined.url(base: base) }

    public static func connect(
        base: WebSocketURL, transport configuration: TransportConfiguration, clock: WallClock = .system, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> UserStreamConnection {
        try await connect(url: streamURL(base: base), transport: configuration, clock: clock, logger: logger, group: group)
    }

    /// A connection to `url` as it is: the `/ws/<listenKey>` form of one key (the PM user
    /// stream), whose frames are raw events. Such a URL holds a secret: never log it.
    public static func connect(
        url: WebSocketURL, transport configuration: TransportConfiguration, clock: WallClock = .system, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> UserStreamConnection {
        let transport = try await WebSocketTransport.connect(url: url, configuration: configuration, group: group)
        let connection = UserStreamConnection(transport: transport, logger: logger, connectedAt: clock.nowMilliseconds())
        await connection.startReading()
        return connection
    }

    private init(transport: WebSocketTransport, logger: Logger, connectedAt: Int64) {
        self.transport = transport
        self.logger = logger
        self.connectedAt = connectedAt
        (events, continuation) = AsyncStream.makeStream(of: UserStreamEvent.self)
    }

    public var isClosed: Bool { closedReason != nil }

    private func startReading() { readerTask = TransportReader.start(transport.events, for: self) }

    private func report(_ event: UserStreamEvent) { continuation.yield(event) }

    /// Parses one frame: an answer to SUBSCRIBE/UNSUBSCRIBE, a combined event frame, or a raw
    /// event frame (the `/private/ws` form).
    private func receive(_ bytes: [UInt8]) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            report(.malformed(stream: nil, problem: "not JSON (\(bytes.count) bytes)"))
            return
        }
        guard case .object(let object) = value else {
            report(.malformed(stream: nil, problem: "not a JSON object"))
            return
        }
        if let data = object["data"], case .string(let stream) = object["stream"] {
            do {
                report(.event(stream: stream, try UserDataEventDecoder.decode(data)))
            } catch {
                report(.malformed(stream: stream, problem: error.description))
            }
            return
        }
        if object["e"] != nil {
            do {
                report(.event(stream: "", try UserDataEventDecoder.decode(value)))
            } catch {
                report(.malformed(stream: nil, problem: error.description))
            }
            return
        }
        if case .number(let text) = object["id"], let id = Int64(text), acks[id] != nil {
            if let error = object["error"], error != .null {
                let code = error["code"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0
                let message = error["msg"].flatMap { if case .string(let m) = $0 { m } else { nil } } ?? ""
                settle(id, .failure(.api(APIError(method: "SUBSCRIBE", status: 400, code: code, message: message))))
            } else {
                settle(id, .success(()))
            }
            return
        }
        logger.debug("ignoring unknown stream frame", metadata: ["bytes": "\(bytes.count)"])
    }

    private func didClose(_ reason: CloseReason) {
        guard closedReason == nil else { return }
        closedReason = reason
        for id in acks.keys { settle(id, .failure(.connectionClosed("\(reason)"))) }
        continuation.yield(.closed(reason: reason))
        continuation.finish()
    }

    /// Adds listen keys to this connection; returns when Binance confirmed.
    public func subscribe(_ keys: [String], timeout: Duration = .seconds(10)) async throws(BinanceClientError) {
        try await request("SUBSCRIBE", keys, timeout: timeout)
    }

    /// Removes listen keys from this connection; returns when Binance confirmed.
    public func unsubscribe(_ keys: [String], timeout: Duration = .seconds(10)) async throws(BinanceClientError) {
        try await request("UNSUBSCRIBE", keys, timeout: timeout)
    }

    private func request(_ method: String, _ keys: [String], timeout: Duration) async throws(BinanceClientError) {
        if let closedReason { throw .connectionClosed("\(closedReason)") }
        guard !keys.isEmpty else { return }
        let id = nextID
        nextID += 1
        let text = "{\"method\":\"\(method)\",\"params\":[\(keys.map(JSONString.quote).joined(separator: ","))],\"id\":\(id)}"
        // Registered before it is written: the answer may come back before the caller waits.
        acks[id] = .waiting(nil)
        do {
            try await transport.send(text: text)
        } catch {
            acks.removeValue(forKey: id)
            throw .transport("\(error)")
        }
        // The answer, or the deadline: whichever comes first settles the request.
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await self.answer(id)
                    return true
                }
                group.addTask {
                    do {
                        try await Task.sleep(for: timeout)
                        await self.settle(id, .failure(.timeout(method: method)))
                    } catch {
                        // Cancelled: by the answer (then this settles nothing), or with the caller.
                        await self.settle(id, .failure(.cancelled))
                    }
                    return false
                }
                while let answered = try await group.next() {
                    if answered {
                        group.cancelAll()
                        return
                    }
                }
            }
        } catch let error as BinanceClientError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Waits for request `id`'s outcome (at once if it is already known).
    private func answer(_ id: Int64) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            switch acks[id] {
            case .answered(let outcome):
                acks.removeValue(forKey: id)
                waiter.resume(with: outcome.mapError { $0 as any Error })
            case .waiting, nil:
                acks[id] = .waiting(waiter)
            }
        }
    }

    /// Settles request `id` once: its waiter resumes, or the outcome waits for it.
    private func settle(_ id: Int64, _ outcome: Result<Void, BinanceClientError>) {
        switch acks[id] {
        case .waiting(let waiter?):
            acks.removeValue(forKey: id)
            waiter.resume(with: outcome.mapError { $0 as any Error })
        case .waiting(nil):
            acks[id] = .answered(outcome)
        case .answered, nil:
            break
        }
    }

    /// Closes with 1000.
    public func close() async {
        await transport.close()
        didClose(.closedByClient)
        readerTask?.cancel()
    }
}

extension UserStreamConnection: TransportReading {
    nonisolated static func prepare(_ bytes: [UInt8]) -> [UInt8] { bytes }
    func receive(_ frame: [UInt8], size: Int) { receive(frame) }
    func receiveUnexpected(_ what: String) { report(.malformed(stream: nil, problem: "unexpected \(what)")) }
    func transportClosed(_ reason: CloseReason) { didClose(reason) }
}
