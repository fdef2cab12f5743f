import BinanceWebSocketAPI
import Logging
import NIOConcurrencyHelpers

/// One account's whole life on the exchange, with one owner: its WebSocket API connection and
/// polls, its user data stream (listen key, subscription, gaps, income backfill), its REST
/// companion (leverage brackets, the key audit) and its cadence.
///
/// Everything that happens to the account arrives as a typed `Input` on one serial loop: a timer
/// that fell due, a poll asked for, a connection event, a stream signal, a change of the mark
/// feed's health. Nobody waits for another component's flag: whoever knows pushes. What is still
/// state lives in values with pure transitions (`PollCadence`, `UserStreamLifecycle`,
/// `ConnectionLifecycle`); this actor performs what they decide. All times come from the injected
/// clock, which also sleeps, so tests step through hours in memory. The registry is written,
/// never read back. Stream events go to the registry on a path of their own (`pumpEvents`), so a
/// slow poll never delays them.
public actor AccountSession {
    enum Input: Sendable {
        /// The timer of this generation fell due.
        case wake(generation: Int)
        /// Poll now, and resume when done (`pollOnce`).
        case pollRequested(CheckedContinuation<Void, Never>)
        case connection(ConnectionEvent, any AccountConnection)
        /// Subscribed, disconnected, key rejected (events take the pump), with the local time
        /// the hub sent it: a gap starts when it happened, not when the loop got to it.
        case stream(UserStreamSignal, at: Int64)
        /// Wallet balances an `ACCOUNT_UPDATE` reported.
        case wallets([String: Double])
        case leverageChanged
        /// An order event named this symbol: the next read covers it.
        case orderSymbol(String)
        /// `ACCOUNT_UPDATE` reports open positions (amount ≠ 0) in these symbols. Closed ones are
        /// left to the next poll: in hedge mode the other side may still be open.
        case positionsOpened(Set<String>)
        case listenKeyExpired
        case feedHealth(Bool)
    }

    public nonisolated let account: AccountConfiguration
    let services: SessionServices
    let logger: Logger
    let inputs: AsyncStream<Input>
    let input: Inbox<Input>
    /// Stream events and malformed frames, applied to the registry in order by `pumpEvents`.
    let streamEvents: AsyncStream<UserStreamSignal>
    let streamEventInput: Inbox<UserStreamSignal>
    /// Inputs and stream events sent and not yet handled: zero when the session is idle.
    private nonisolated let pending: NIOLockedValueBox<Int>

    // The connection.
    var lifecycle: ConnectionLifecycle
    var connection: (any AccountConnection)?
    /// Connections opened since the loop last looked: their events need a reader.
    var unmonitored: [any AccountConnection] = []
    var backoff: Backoff
    var ledger = WeightLedger()
    var version: MethodVersion
    var fallbackAllowed: Bool
    var lastClockSync: Int64?
    var offsetMilliseconds: Int64 = 0

    // The cadence.
    var cadence: PollCadence
    var reportedInterval: Double?
    /// True once a poll was sent (answered or failed, not skipped).
    public internal(set) var hasPolled = false

    // The user stream and the REST companion.
    var stream: UserStreamLifecycle?
    /// What this session knows of the wallets: its last poll and the stream's updates since.
    var wallets: [String: Double]?
    /// Local ms when the last successful poll ended.
    var lastPollEnded: Int64?
    let rest: (any AccountREST)?
    let audit: APIKeyAudit?
    var bracketsDue: Int64?
    var bracketAttempt = 0
    var auditDue: Int64?
    /// The next open-order read; nil before the first poll and once the lists were refused.
    var ordersDue: Int64?
    var fullOrderListDue: Int64?
    /// Binance refused the lists (permission, or a venue/testnet without them): not asked again.
    var ordersRefused = false
    /// Symbols with a position at the last poll, and symbols of known orders: the reads cover them.
    var positionSymbols: Set<String> = []
    var orderSymbols: Set<String> = []

    // The timer.
    var timerGeneration = 0
    var timerDeadline: Int64?

    public init(account: AccountConfiguration, services: SessionServices) {
        self.account = account
        self.services = services
        var logger = services.logger
        logger[metadataKey: "account"] = "\(account.name)"
        self.logger = logger
        let pending = NIOLockedValueBox(0)
        self.pending = pending
        let (inputs, input) = AsyncStream.makeStream(of: Input.self)
        self.inputs = inputs
        self.input = Inbox(input, pending: pending)
        let (streamEvents, streamEventInput) = AsyncStream.makeStream(of: UserStreamSignal.self)
        self.streamEvents = streamEvents
        self.streamEventInput = Inbox(streamEventInput, pending: pending)
        let timing = services.timing
        backoff = timing.backoff
        lifecycle = ConnectionLifecycle(maxAgeSeconds: timing.maxConnectionAgeSeconds)
        // A venue without v2 methods (COIN-M, Portfolio Margin) polls v1 and has nothing to fall back to.
        let hasV2 = account.venue.pollWeights.methods.contains(.accountStatusV2)
        ledger = WeightLedger(api: account.venue.pollWeights)
        version = account.accountMethod == .v2 && hasV2 ? .v2 : .v1
        fallbackAllowed = account.accountMethod == .v1WithFallback && hasV2
        let now = services.clock.nowMilliseconds()
        let live = account.userStream && services.hub != nil
        cadence = PollCadence(
            configuredSeconds: account.intervalSeconds,
            // Only values the stream and the marks keep current may be polled less often.
            reconcileSeconds: live && services.markFeed != nil && account.venue.valuesLiveBetweenPolls
                ? timing.reconcileIntervalSeconds : nil,
            firstDue: now + Int64(account.intervalSeconds * timing.staggerFraction * 1000))
        let client = services.rest.map { $0(account.credentials) }
        rest = client
        var streamSettings = timing.stream
        streamSettings.backfills = streamSettings.backfills && client != nil && account.venue.valuesLiveBetweenPolls
        stream = live ? UserStreamLifecycle(settings: streamSettings, startedAt: now) : nil
        audit = client.map {
            APIKeyAudit(
                account: account.name, client: $0, scheduler: services.scheduler, registry: services.registry, logger: services.logger)
        }
        if client != nil {
            auditDue = now
            if live && account.venue.valuesLiveBetweenPolls { bracketsDue = now }
        }
    }

    var now: Int64 { services.clock.nowMilliseconds() }
    var scheduler: WeightScheduler { services.scheduler }
    var registry: MetricsRegistry { services.registry }

    /// Nothing sent to the session waits to be handled (tests on a manual clock step time only
    /// when every session is idle, so that what a step caused happens at that step's time).
    public nonisolated var isIdle: Bool { pending.withLockedValue { $0 == 0 } }

    /// True once Binance rejected this account's key: only a reload (SIGHUP) restarts it.
    public var isStopped: Bool { lifecycle.isStopped }

    func report(_ events: PollerEvent...) async { await registry.apply(account: account.name, events) }

    /// Until cancelled. On the way out the listen key is detached and stopped, the connection
    /// closed, and the account's demand removed from the scheduler.
    public func run() async {
        await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds, venue: account.venue)
        await report(.method(statusMethod.rawValue))
        if let reconcile = cadence.reconcileMilliseconds {
            cadence.phase = await scheduler.reconcilePhase(account: account.name)
            stream?.pingPhase = .init(offset: Int64(cadence.phase * Double(reconcile)), interval: reconcile)
            logger.debug("reconcile phase", metadata: ["offset_s": "\(Double(reconcile) * cadence.phase / 1000)"])
        }
        await updateStretch()
        if stream != nil { await registry.apply(account: account.name, stream: .enabled) }
        let input = self.input
        var feedWatch: Int?
        if cadence.reconcileMilliseconds != nil, let feed = services.markFeed {
            feedWatch = await feed.watch { input.yield(.feedHealth($0)) }
        }
        await withDiscardingTaskGroup { group in
            let events = streamEvents
            let registry = self.registry
            let name = account.name
            let clock = services.clock
            group.addTask { await Self.pumpEvents(events, account: name, registry: registry, session: input, clock: clock) }
            schedule(&group)
            for await next in inputs {
                if Task.isCancelled {
                    // Stopping: nothing more is sent; a poll someone waits for is let go.
                    if case .pollRequested(let done) = next { done.resume() }
                    input.done()
                    continue
                }
                await handle(next)
                schedule(&group)
                input.done()
            }
            streamEventInput.finish()
            group.cancelAll()
        }
        if let feedWatch, let feed = services.markFeed { await feed.unwatch(feedWatch) }
        await shutdown()
    }

    /// One poll now, in turn with everything else the session does; returns when it is done.
    /// Tests drive polls with it. It waits for `run` to take it: call it on a running session.
    public func pollOnce() async {
        await withCheckedContinuation { input.yield(.pollRequested($0)) }
    }

    private func handle(_ next: Input) async {
        switch next {
        case .wake(let generation):
            guard generation == timerGeneration else { return }
            timerDeadline = nil
            await runWhatIsDue()
        case .pollRequested(let done):
            await pollNow()
            done.resume()
        case .connection(let event, let source):
            await handle(event: event, from: source)
        case .stream(let signal, let at):
            await handle(signal, at: at)
        case .wallets(let changed):
            wallets = (wallets ?? [:]).merging(changed) { $1 }
        case .leverageChanged:
            // A leverage change can change the account's tiers.
            if rest != nil, stream != nil {
                bracketsDue = now
                bracketAttempt = 0
            }
        case .orderSymbol(let symbol):
            orderSymbols.insert(symbol)
        case .positionsOpened(let symbols):
            // A position the stream opened is valued live at once (a per-pair feed subscribes
            // its pair) and covered by the next order read, not only after the next poll.
            await positionsChanged(positionSymbols.union(symbols))
        case .listenKeyExpired:
            logger.info("listen key expired; obtaining a new one")
            await keyLost(.keyExpired)
        case .feedHealth(let healthy):
            if cadence.setFeed(healthy: healthy) == .pollNow {
                logger.info("a live feed failed; polling now and at the normal interval again")
                await pollNow()
            }
        }
    }

    private func runWhatIsDue() async {
        if services.timing.pollsOnSchedule, let due = cadence.nextDue, due <= now { await pollNow() }
        if stream?.takeKeyRequest(now: now) == true { await requestKey() }
        if stream?.takePing(now: now) == true { await pingKey() }
        if let since = stream?.takeLedgerRead(now: now) { await readLedger(since: since) }
        if let due = bracketsDue, due <= now { await refreshBrackets() }
        if let due = ordersDue, due <= now { await readOrders() }
        if let due = auditDue, due <= now, let audit {
            auditDue = now + Int64(services.timing.auditIntervalSeconds * 1000)
            await audit.check()
        }
    }

    /// Starts readers for new connections and makes sure a timer fires by the next due time.
    private func schedule(_ group: inout DiscardingTaskGroup) {
        let input = self.input
        for fresh in unmonitored {
            group.addTask {
                for await event in fresh.events { input.yield(.connection(event, fresh)) }
            }
        }
        unmonitored.removeAll()
        var due: [Int64] = [stream?.nextDue, bracketsDue, auditDue, ordersDue].compactMap { $0 }
        if services.timing.pollsOnSchedule, let poll = cadence.nextDue { due.append(poll) }
        guard let next = due.min() else { return }
        // A timer that fires earlier wakes the loop, which then schedules this one.
        if let pending = timerDeadline, pending <= next { return }
        timerGeneration += 1
        timerDeadline = next
        let generation = timerGeneration
        let clock = services.clock
        group.addTask {
            do { try await clock.sleep(untilMilliseconds: next) } catch { return }
            input.yield(.wake(generation: generation))
        }
    }

    /// Applies stream events to the registry in arrival order, dropping those already applied (a
    /// connection rotation overlaps two connections for a moment), and tells the session what it
    /// must act on.
    private static func pumpEvents(
        _ events: AsyncStream<UserStreamSignal>, account: String, registry: MetricsRegistry, session: Inbox<Input>, clock: WallClock
    ) async {
        var recent = RecentSet<String>(capacity: 512)
        for await signal in events {
            defer { session.done() }
            switch signal {
            case .event(let event):
                guard recent.insert(Self.fingerprint(event)) else { continue }
                await registry.apply(account: account, stream: .event(event))
                switch event {
                case .accountUpdate(let update):
                    if !update.balances.isEmpty {
                        session.yield(.wallets(Dictionary(update.balances.map { ($0.asset, $0.walletBalance) }) { $1 }))
                    }
                    let opened = Set(update.positions.filter { $0.amount != 0 }.map(\.symbol))
                    if !opened.isEmpty { session.yield(.positionsOpened(opened)) }
                case .accountConfigUpdate(let update) where update.leverage != nil:
                    session.yield(.leverageChanged)
                case .listenKeyExpired:
                    session.yield(.listenKeyExpired)
                case .orderTradeUpdate(let order) where order.openOrder != nil && order.executionType == "NEW":
                    session.yield(.orderSymbol(order.symbol))
                case .algoUpdate(let update) where update.openOrder != nil:
                    session.yield(.orderSymbol(update.order.symbol))
                default:
                    break
                }
            case .malformed:
                await registry.apply(account: account, stream: .malformed)
            case .subscribed, .disconnected, .keyRejected:
                session.yield(.stream(signal, at: clock.nowMilliseconds()))
            }
        }
    }

    /// A stream continuation that counts what was sent and not yet handled.
    struct Inbox<Element: Sendable>: Sendable {
        let continuation: AsyncStream<Element>.Continuation
        let pending: NIOLockedValueBox<Int>

        init(_ continuation: AsyncStream<Element>.Continuation, pending: NIOLockedValueBox<Int>) {
            self.continuation = continuation
            self.pending = pending
        }

        func yield(_ element: Element) {
            pending.withLockedValue { $0 += 1 }
            if case .terminated = continuation.yield(element) { pending.withLockedValue { $0 -= 1 } }
        }

        /// One element was handled.
        func done() { pending.withLockedValue { $0 -= 1 } }

        func finish() { continuation.finish() }
    }

    /// What identifies one event across two connections.
    static func fingerprint(_ event: UserDataEvent) -> String {
        switch event {
        case .orderTradeUpdate(let order):
            "O\(order.orderID)/\(order.tradeID ?? 0)/\(order.executionType)/\(order.status)/\(order.eventTime)"
        case .accountConfigUpdate(let update):
            "C\(update.leverage?.symbol ?? "")/\(update.leverage?.leverage ?? 0)/\(update.multiAssetsMargin.map { "\($0)" } ?? "")/\(update.eventTime)"
        case .algoUpdate(let update):
            "G\(update.order.id)/\(update.status)/\(update.eventTime)"
        case .accountUpdate(let update):
            "A\(update.eventTime)/\(update.transactionTime)/\(update.reason)/\(update.balances.map { "\($0.asset)=\($0.walletBalance)" })"
        default:
            "\(event.typeName)/\(event.eventTime ?? 0)"
        }
    }

    private func shutdown() async {
        if stream != nil, let hub = services.hub {
            await hub.detach(account: account.name)
            await registry.apply(account: account.name, stream: .unsubscribed)
            if case .held = stream?.key { await stopListenKey() }
        }
        if let connection {
            self.connection = nil
            await connection.close()
        }
        await scheduler.unregister(account: account.name)
    }
}
