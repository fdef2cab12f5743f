import BinanceWebSocketAPI
import Logging
import NIOCore
import NIOPosix

/// Settings of the process's mark-price feed.
public struct MarkFeedSettings: Sendable {
    /// The market stream base, e.g. `wss://fstream.binance.com/market`.
    public var base: WebSocketURL
    /// The venue's mark price streams (all symbols on USDⓈ-M; per pair on COIN-M) and row tag.
    public var venue: FuturesVenue.MarketStream = .usdM
    public var transport = TransportConfiguration()
    public var clock: WallClock = .system
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    public var backoff = Backoff()
    public var maxConnectionAgeSeconds: Double = 23 * 3600
    /// No frame for this long: the feed is unhealthy (frames come every second).
    public var staleAfterMilliseconds: Int64 = 3_000

    public init(base: WebSocketURL) { self.base = base }
}

/// One public `!markPrice@arr@1s` connection for the whole process. Every frame goes to the
/// registry, which revalues open positions at once. The feed pushes its health to the account
/// sessions that watch it (they choose between their normal interval and the reconcile
/// interval): nobody asks it in a loop.
public actor MarkPriceFeed {
    private let settings: MarkFeedSettings
    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private let group: any EventLoopGroup
    private var connection: MarketStreamConnection?
    private var lastFrameAt: Int64 = 0
    private var backoff: Backoff
    private var stopped = false
    private var healthy = false
    private var watchers: [Int: @Sendable (Bool) -> Void] = [:]
    private var nextWatcher = 0
    /// The symbols each account holds: a per-pair venue subscribes their pairs' streams.
    private var symbolsByAccount: [String: Set<String>] = [:]

    public init(
        settings: MarkFeedSettings, scheduler: WeightScheduler, registry: MetricsRegistry, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.settings = settings
        self.scheduler = scheduler
        self.registry = registry
        var logger = logger
        logger[metadataKey: "component"] = "mark-feed"
        self.logger = logger
        self.group = group
        self.backoff = settings.backoff
    }

    private var now: Int64 { settings.clock.nowMilliseconds() }

    /// Connected, and a frame arrived within `staleAfterMilliseconds`.
    public var isHealthy: Bool { connection != nil && now - lastFrameAt <= settings.staleAfterMilliseconds }

    public func shutdown() { stopped = true }

    /// `sink` hears the feed's health now and at every change, until `unwatch`. It is called on
    /// the feed's actor and must not block (an account session yields it into its inputs).
    public func watch(_ sink: @escaping @Sendable (Bool) -> Void) -> Int {
        nextWatcher += 1
        watchers[nextWatcher] = sink
        sink(healthy)
        return nextWatcher
    }

    public func unwatch(_ id: Int) { watchers.removeValue(forKey: id) }

    /// `account` holds positions in `symbols`: on a venue with per-pair streams (COIN-M) their
    /// pairs are subscribed on the open connection (and at every reconnect). Pairs no account
    /// holds any more stay subscribed until the next reconnect: their rows cost nothing.
    public func track(account: String, symbols: Set<String>) async {
        guard symbolsByAccount[account] != symbols else { return }
        symbolsByAccount[account] = symbols.isEmpty ? nil : symbols
        guard let connection else { return }
        do {
            try await connection.subscribe(settings.venue.streams(for: trackedSymbols))
        } catch {
            logger.warning("mark price subscription failed; the next reconnect subscribes again", metadata: ["error": "\(error)"])
        }
    }

    private var trackedSymbols: Set<String> { symbolsByAccount.values.reduce(into: []) { $0.formUnion($1) } }

    /// Pushes a change of `isHealthy` to the watchers.
    private func updateHealth() {
        let now = isHealthy
        guard now != healthy else { return }
        healthy = now
        for sink in watchers.values { sink(now) }
    }

    /// Frames stop without the connection closing: the feed turns unhealthy when the last frame
    /// is `staleAfterMilliseconds` old, not when someone next asks.
    private func watchStaleness() async {
        while !Task.isCancelled && !stopped {
            let deadline = healthy ? lastFrameAt + settings.staleAfterMilliseconds + 1 : now + settings.staleAfterMilliseconds
            do { try await settings.clock.sleep(untilMilliseconds: deadline) } catch { return }
            updateHealth()
        }
    }

    /// Until cancelled or shut down: keeps one connection, reconnecting with backoff and rotating
    /// it before 24 h (make-before-break).
    public func run() async {
        await registry.setMarkFeed(connected: false)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchStaleness() }
            await connectAndRead()
            group.cancelAll()
        }
        healthy = true
        connection = nil
        updateHealth()
    }

    private func connectAndRead() async {
        while !Task.isCancelled && !stopped {
            guard let fresh = await open() else {
                try? await settings.clock.sleep(for: .milliseconds(Int(backoff.nextDelay(random: settings.random) * 1000)))
                continue
            }
            connection = fresh
            await registry.setMarkFeed(connected: true)
            let reason = await read(fresh)
            if connection === fresh { connection = nil }
            updateHealth()
            await registry.setMarkFeed(connected: false)
            if Task.isCancelled || stopped { break }
            logger.warning("mark price feed closed; reconnecting", metadata: ["reason": "\(reason)"])
            try? await settings.clock.sleep(for: .milliseconds(Int(backoff.nextDelay(random: settings.random) * 1000)))
        }
        if let connection { await connection.close() }
    }

    private func open() async -> MarketStreamConnection? {
        if case .deferred = await scheduler.admit(weight: BinanceMethod.streamHandshakeWeight) { return nil }
        do {
            let fresh = try await MarketStreamConnection.connect(
                base: settings.base, venue: settings.venue, symbols: trackedSymbols, transport: settings.transport, clock: settings.clock,
                group: group)
            logger.info("mark price feed connected", metadata: ["url": "\(UserStreamConnection.streamURL(base: settings.base))"])
            return fresh
        } catch {
            logger.warning("mark price feed connect failed; retrying with backoff", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Reads until the connection closes (or is due for rotation); returns why it ended.
    private func read(_ connection: MarketStreamConnection) async -> String {
        for await event in connection.events {
            if stopped { break }
            switch event {
            case .markPrices(let updates):
                lastFrameAt = now
                backoff.reset()
                updateHealth()
                await registry.updateMarks(updates)
                if Double(now - connection.connectedAt) > settings.maxConnectionAgeSeconds * 1000 {
                    await connection.close()
                    return "max age"
                }
            case .malformed(let problem):
                logger.warning("malformed mark price frame skipped", metadata: ["problem": "\(problem)"])
            case .closed(let reason):
                return "\(reason)"
            }
        }
        return "closed"
    }
}
