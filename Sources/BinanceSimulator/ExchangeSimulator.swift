import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// An in-process Binance USDⓈ-M and COIN-M Futures exchange on 127.0.0.1, for tests and
/// `--demo`: the WebSocket APIs (ws-fapi, ws-dapi), the user data and market streams (fstream's
/// `/private` and `/market`, dstream), and the REST endpoints the exporter reads (fapi, dapi,
/// sapi, and papi for Portfolio Margin accounts), all on one port and in one per-IP weight
/// window, as Binance counts them since the COIN-M/USDⓈ-M integration (papi in a window of its
/// own unless `SimulatorConfiguration.papiSharesIPWeight`).
///
/// It enforces the protocol as documented (signatures of all three key types, the timestamp
/// rule, weight per calendar minute including handshakes, 429 then 418 bans) so that client bugs
/// surface here rather than against the real exchange, and it can inject faults on demand.
public final class ExchangeSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    let rules: ExchangeRules
    let state: NIOLockedValueBox<ExchangeState>
    let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    let streamClients = NIOLockedValueBox<[ObjectIdentifier: StreamClient]>([:])
    let marketClients = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    let serverChannel = NIOLockedValueBox<(any Channel)?>(nil)
    /// Tests: sees every user stream event as it is written (listen key, event type, JSON).
    let eventObserver = NIOLockedValueBox<(@Sendable (String, String, String) -> Void)?>(nil)
    let clock: @Sendable () -> Int64
    let logger: Logger

    public init(
        configuration: SimulatorConfiguration = SimulatorConfiguration(),
        clock: @escaping @Sendable () -> Int64 = { SimulatorClock.nowMilliseconds() },
        logger: Logger = Logger(label: "binance-simulator")
    ) {
        self.configuration = configuration
        self.rules = ExchangeRules(configuration: configuration)
        self.state = NIOLockedValueBox(ExchangeState(market: configuration.market))
        self.clock = clock
        self.logger = logger
    }

    /// Binds 127.0.0.1 on `port` (0 picks a free one) and returns the port.
    @discardableResult
    public func start(port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Int {
        let simulator = self
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = simulator.configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    let fallback = HandshakeFallbackHandler(simulator: simulator)
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: simulator.configuration.maxFrameSize,
                        shouldUpgrade: { channel, head in
                            let route = SimulatorRoute(uri: head.uri)
                            let refusal = route.isWebSocketAPI ? simulator.admitHandshake() : simulator.admitStreamHandshake(route)
                            fallback.refusal.withLockedValue { $0 = refusal }
                            return channel.eventLoop.makeSucceededFuture(refusal == nil ? HTTPHeaders() : nil)
                        },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                                        maxAccumulatedFrameSize: simulator.configuration.maxFrameSize))
                                let route = SimulatorRoute(uri: head.uri)
                                if route.isWebSocketAPI {
                                    try channel.pipeline.syncOperations.addHandler(
                                        SimulatorConnectionHandler(
                                            simulator: simulator, connectedSince: simulator.clock(),
                                            venue: route == .coinMAPI ? .coinM : .usdM))
                                } else if route == .marketStream {
                                    try channel.pipeline.syncOperations.addHandler(MarketStreamConnectionHandler(simulator: simulator))
                                } else {
                                    try channel.pipeline.syncOperations.addHandler(
                                        UserStreamConnectionHandler(simulator: simulator, route: route))
                                }
                            }
                        })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(fallback, promise: nil)
                            }
                        ))
                    try channel.pipeline.syncOperations.addHandler(fallback)
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        serverChannel.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// `ws://127.0.0.1:PORT/ws-fapi/v1` once started.
    public var url: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/ws-fapi/v1"
    }

    public func stop() async {
        let channel = serverChannel.withLockedValue { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await channel?.close()
        dropAllConnections()
        dropUserStreams()
        dropMarketStreams()
    }

    /// `ws://127.0.0.1:PORT/ws-dapi/v1` once started: the COIN-M WebSocket API
    /// (`--binance.coinm-ws-url`).
    public var coinmURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/ws-dapi/v1"
    }

    /// `ws://127.0.0.1:PORT/dstream` once started: dstream (`--binance.coinm-stream-url`).
    /// `<base>/ws/<listenKey>` is a COIN-M account's raw user data stream; `<base>/stream`
    /// (`?streams=a/b`, `SUBSCRIBE`) the combined streams: `<pair>@markPrice@1s`,
    /// `<symbol>@markPrice@1s` (and their 3 s forms without `@1s`), `!markPrice@arr@1s`, and
    /// COIN-M listen keys.
    public var coinmStreamURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/dstream"
    }

    /// `ws://127.0.0.1:PORT/pm` once started: the Portfolio Margin user data stream base
    /// (`--binance.pm-stream-url`; Binance: `wss://fstream.binance.com/pm`). `<base>/ws/<listenKey>`
    /// is a PM account's raw stream, as Binance documents it; `<base>/stream` the combined form
    /// (`SUBSCRIBE` with the listen key, `{stream,data}` frames) the official PM SDK uses.
    public var pmStreamURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/pm"
    }

    /// `http://127.0.0.1:PORT` once started: the dapi REST base (`--binance.coinm-rest-url`).
    public var coinmRestURL: String { restURL }

    /// `http://127.0.0.1:PORT` once started: the REST base (`--binance.rest-url`, `--binance.spot-rest-url`).
    public var restURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "http" : "https")://127.0.0.1:\(port)"
    }

    /// `ws://127.0.0.1:PORT/market` once started: the market stream base (`--binance.market-stream-url`).
    public var marketStreamURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/market"
    }

    /// `ws://127.0.0.1:PORT/private` once started: the user data stream base (`--binance.stream-url`).
    public var streamURL: String {
        let port = serverChannel.withLockedValue { $0?.localAddress?.port } ?? 0
        return "\(configuration.tls == nil ? "ws" : "wss")://127.0.0.1:\(port)/private"
    }

    /// Called for every handshake: charges 5 weight, or returns the HTTP status that refuses it.
    func admitHandshake() -> Int? {
        let now = clock()
        return state.withLockedValue { state -> Int? in
            let now = now + state.faults.clockSkewMilliseconds
            if let status = state.faults.rejectHandshakesWithStatus {
                state.stats.rejectedHandshakes += 1
                return status
            }
            if state.bannedUntil > now {
                state.stats.rejectedHandshakes += 1
                return 418
            }
            state.roll(to: now)
            if state.rateLimitedUntil > now || state.count + configuration.handshakeWeight > configuration.weightLimit {
                state.stats.rejectedHandshakes += 1
                return 429
            }
            state.charge(configuration.handshakeWeight, now: now, ownClient: true)
            state.stats.handshakes += 1
            return nil
        }
    }

    /// Seconds until a ban or rate limit ends, for the `Retry-After` header of refused handshakes.
    func retryAfterSeconds(status: Int) -> Int? {
        let now = clock()
        return state.withLockedValue { state -> Int? in
            let now = now + state.faults.clockSkewMilliseconds
            if let forced = state.faults.rejectHandshakesWithStatus, forced == status {
                return state.faults.rejectHandshakesRetryAfterSeconds
            }
            let until = status == 418 ? state.bannedUntil : status == 429 ? max(state.rateLimitedUntil, (now / 60_000 + 1) * 60_000) : 0
            guard until > now else { return nil }
            return Int((until - now + 999) / 1000)
        }
    }

    // MARK: accounts and market

    /// Adds (or replaces) the account of `account.apiKey` on `account.venue`. One API key may
    /// hold a USDⓈ-M and a COIN-M account: add it twice, once per venue. A key with a Portfolio
    /// Margin account is a PM key: fapi, dapi, ws-fapi and ws-dapi refuse it (−2015).
    public func addAccount(_ account: SimulatedAccount) {
        state.withLockedValue { state in
            let id = account.venue.accountID(account.apiKey)
            state.accounts[id] = account
            // A new account's status is where its stream starts: no `riskLevelChange` for it.
            state.riskLevels[id] = nil
        }
        reportRiskLevelChanges()
    }

    /// `venue` nil: the key's USDⓈ-M account, or else its COIN-M or Portfolio Margin account.
    public func updateAccount(apiKey: String, venue: SimulatedVenue? = nil, _ change: @Sendable (inout SimulatedAccount) -> Void) {
        state.withLockedValue { state in
            let id = state.accountID(apiKey, venue)
            if var account = state.accounts[id] {
                change(&account)
                state.accounts[id] = account
            }
        }
        reportRiskLevelChanges()
    }

    /// `venue` nil: the key's USDⓈ-M account, or else its COIN-M or Portfolio Margin account.
    public func account(apiKey: String, venue: SimulatedVenue? = nil) -> SimulatedAccount? {
        state.withLockedValue { $0.accounts[$0.accountID(apiKey, venue)] }
    }

    /// A key deleted by its owner: signed requests get −2015 and a logged-on session gets an
    /// `id: null` error, on both venues.
    public func revokeKey(_ apiKey: String) {
        for venue in SimulatedVenue.allCases { updateAccount(apiKey: apiKey, venue: venue) { $0.revoked = true } }
    }

    public func setMarkPrice(_ symbol: String, _ price: Double) {
        state.withLockedValue { $0.market.markPrices[symbol] = price }
        reportRiskLevelChanges()
    }

    public func markPrice(_ symbol: String) -> Double {
        state.withLockedValue { $0.market.price(symbol) }
    }

    /// Moves every mark price by a random walk step of at most `maxRelativeStep`; a COIN-M
    /// contract's mark is also pulled a tenth of the way back to its USDⓈ-M reference (plus
    /// its basis), so the two venues stay close over a long demo.
    public func tickPrices(maxRelativeStep: Double = 0.002) {
        state.withLockedValue { state in
            for (symbol, price) in state.market.markPrices {
                let step = Double.random(in: -maxRelativeStep...maxRelativeStep)
                state.market.markPrices[symbol] = max(price * (1 + step), 0.0001)
            }
            for contract in state.market.coinM {
                guard let reference = state.market.markPrices[contract.reference], let price = state.market.markPrices[contract.symbol]
                else { continue }
                state.market.markPrices[contract.symbol] = price + (reference * (1 + contract.basis) - price) * 0.1
            }
        }
        reportRiskLevelChanges()
    }

    // MARK: faults and load

    public func updateFaults(_ change: @Sendable (inout Faults) -> Void) {
        state.withLockedValue { change(&$0.faults) }
    }

    /// Weight spent by other programs on the same IP in the current minute.
    public func addBackgroundWeight(_ weight: Int64) {
        let now = clock()
        state.withLockedValue { state in
            state.charge(weight, now: now + state.faults.clockSkewMilliseconds, ownClient: false)
        }
    }

    public var stats: SimulatorStats { state.withLockedValue { $0.stats } }

    public var ipWeightCount: Int64 {
        let now = clock()
        return state.withLockedValue { state in
            state.roll(to: now + state.faults.clockSkewMilliseconds)
            return state.count
        }
    }

    public func resetStats() { state.withLockedValue { $0.stats = SimulatorStats() } }

    /// Lifts a ban and a pending rate limit (tests of recovery), papi's own included.
    public func liftBan() {
        state.withLockedValue {
            $0.bannedUntil = 0
            $0.rateLimitedUntil = 0
            $0.papiWindow.bannedUntil = 0
            $0.papiWindow.rateLimitedUntil = 0
        }
    }

    public var openConnections: Int { connections.withLockedValue { $0.count } }

    /// Drops every TCP connection without a close frame (1006 on the client).
    public func dropAllConnections() {
        for channel in connections.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }

    /// Sends a close frame with `code` to every client, then closes.
    public func closeAllConnections(code: WebSocketErrorCode = .goingAway) {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            var data = ByteBuffer()
            data.write(webSocketErrorCode: code)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    /// Sends a raw text frame to every client (garbage, truncated JSON, events).
    public func broadcast(text: String) {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil)
        }
    }

    public func broadcastBinary(_ bytes: [UInt8]) {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)), promise: nil)
        }
    }

    /// The `serverShutdown` event Binance sends before closing a connection.
    public func announceShutdown() {
        broadcast(text: "{\"event\":{\"e\":\"serverShutdown\",\"E\":\(clock())}}")
    }

    /// Sends a ping to every client (tests that the client answers).
    public func pingAll(payload: String = "sim") {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: payload)), promise: nil)
        }
    }
}

/// Wall-clock milliseconds for the simulator's own default clock.
public enum SimulatorClock {
    public static func nowMilliseconds() -> Int64 {
        Int64((NIODeadline.now().uptimeNanoseconds / 1_000_000)) + bootOffset
    }

    private static let bootOffset: Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let wall = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
        return wall - Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }()
}

/// Answers HTTP requests that were not upgraded: 418/429 during bans, 400 otherwise.
final class HandshakeFallbackHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let simulator: ExchangeSimulator
    /// The status the upgrade check refused this handshake with; nil for a plain HTTP request.
    let refusal = NIOLockedValueBox<Int?>(nil)
    private let head = NIOLockedValueBox<HTTPRequestHead?>(nil)

    init(simulator: ExchangeSimulator) { self.simulator = simulator }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let requestHead) = part { head.withLockedValue { $0 = requestHead } }
        guard case .end = part else { return }
        let requestHead = head.withLockedValue { $0 }
        var headers = HTTPHeaders()
        let status: Int
        var body = ByteBuffer()
        if refusal.withLockedValue({ $0 }) == nil, let requestHead,
            let answer = simulator.handleREST(method: requestHead.method, uri: requestHead.uri, headers: requestHead.headers)
        {
            status = answer.status
            for (name, value) in answer.headers { headers.add(name: name, value: value) }
            headers.add(name: "Content-Type", value: "application/json")
            body = ByteBuffer(string: answer.body)
        } else {
            status = refusal.withLockedValue { $0 } ?? simulator.admitHandshake() ?? 400
            if let seconds = simulator.retryAfterSeconds(status: status) { headers.add(name: "Retry-After", value: String(seconds)) }
        }
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
