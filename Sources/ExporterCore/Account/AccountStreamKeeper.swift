import BinanceWebSocketAPI
import Logging

/// Keeps one account's listen key alive and its events flowing into the registry.
///
/// It obtains the key with `userDataStream.start` on the account's own WebSocket API connection
/// (through the poller, so the request is weighed by the scheduler and never interleaves with a
/// poll), hands it to the process's `UserStreamHub`, pings it every `pingInterval`, and fetches a
/// new one when Binance says it expired. Every gap in the stream (disconnect, expired key) ends
/// with an immediate poll, so whatever the stream missed is corrected at once.
public actor AccountStreamKeeper {
    public struct Settings: Sendable {
        /// Binance's keys live 60 minutes; a ping every 30 leaves room for a failed one.
        public var pingInterval: Duration = .seconds(30 * 60)
        /// Retry delay while no key can be had (no connection yet, deferral, errors).
        public var retryDelay: Duration = .seconds(5)
        /// Retry delay of an income backfill that could not run (deferral, transport error).
        public var backfillRetryDelay: Duration = .seconds(15)
        /// Maintenance-margin tiers are re-read this often (and after every leverage change).
        public var bracketRefresh: Duration = .seconds(3600)
        /// How far before a detected disconnect the backfill window starts: TCP may have been
        /// dead for a while before anyone noticed. Overlap is harmless (dedupe).
        public var backfillMarginMilliseconds: Int64 = 60_000
        public init() {}
    }

    private enum Input: Sendable {
        case signal(UserStreamSignal)
        case pingDue
    }

    public nonisolated let account: String
    private let poller: AccountPoller
    private let hub: UserStreamHub
    private let registry: MetricsRegistry
    private let settings: Settings
    private let logger: Logger
    /// Binance's income ledger, to count what the stream missed; nil: gaps are not backfilled.
    private let ledger: IncomeLedger?
    private let clock: WallClock
    /// Local ms: when the exporter started watching this account. Nothing before counts.
    private let startedAt: Int64
    /// Local ms: the start of the stream gap not yet backfilled (the start of the exporter first).
    private var unfilledSince: Int64?
    private var backfillRunning = false
    /// Local ms of the last gap's start, to see whether one began during a backfill.
    private var lastGapAt: Int64 = 0
    /// Wallets when the unfilled gap began: realized PnL, commissions and funding all move the
    /// wallet, so a gap after which every wallet is unchanged needs no ledger read.
    private var walletsBeforeGap: [String: Double]?
    /// Why the stream is down, while it is; reported and cleared on the next subscription.
    private var gap: UserStreamGapReason?
    private var subscribedOnce = false
    private var hasKey = false
    /// Events already applied: a connection rotation overlaps two connections for a moment.
    private var recent = RecentSet<String>(capacity: 512)

    public init(
        account: String, poller: AccountPoller, hub: UserStreamHub, registry: MetricsRegistry, settings: Settings = Settings(),
        ledger: IncomeLedger? = nil, clock: WallClock = .system, logger: Logger
    ) {
        self.ledger = ledger
        self.clock = clock
        self.startedAt = clock.nowMilliseconds()
        // Counting starts at the first subscription: a ledger read for the seconds before it
        // would cost 30 weight per account at every start (3000 for 100 accounts, minutes of the
        // default share), for a window in which a monitoring start-up rarely misses anything.
        self.unfilledSince = nil
        self.account = account
        self.poller = poller
        self.hub = hub
        self.registry = registry
        self.settings = settings
        var logger = logger
        logger[metadataKey: "account"] = "\(account)"
        self.logger = logger
    }

    /// Until cancelled. On the way out the key is detached and, if the connection is still
    /// open, stopped (`userDataStream.stop`).
    public func run() async {
        await registry.apply(account: account, stream: .enabled)
        let (inputs, input) = AsyncStream.makeStream(of: Input.self)
        let pingInterval = settings.pingInterval
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: pingInterval)
                    input.yield(.pingDue)
                }
            }
            group.addTask { await self.renew(input) }
            if ledger != nil {
                let refresh = settings.bracketRefresh
                group.addTask {
                    while !Task.isCancelled {
                        await self.refreshBrackets()
                        try? await Task.sleep(for: refresh)
                    }
                }
            }
            for await next in inputs {
                if Task.isCancelled { break }
                switch next {
                case .pingDue:
                    if hasKey { await ping(input, group: &group) }
                case .signal(let signal):
                    await handle(signal, input: input, group: &group)
                }
            }
            group.cancelAll()
        }
        await hub.detach(account: account)
        await registry.apply(account: account, stream: .unsubscribed)
        if hasKey { await poller.stopListenKey() }
    }

    /// Obtains a key (retrying until it has one) and attaches it to the hub. The first time, only
    /// after the account's first poll: with many accounts the weight budget serves their first
    /// polls (what makes them up) before their streams.
    private func renew(_ input: AsyncStream<Input>.Continuation) async {
        hasKey = false
        while !Task.isCancelled, await !poller.hasPolled { try? await Task.sleep(for: .milliseconds(200)) }
        while !Task.isCancelled {
            switch await poller.listenKey(.start) {
            case .key(let key):
                hasKey = true
                await hub.attach(account: account, key: key) { input.yield(.signal($0)) }
                return
            case .gone, .unavailable:
                try? await Task.sleep(for: settings.retryDelay)
            case .deferred(let until):
                // Half a second into the next window at most: ahead of the polls deferred with it.
                let wait = until - clock.nowMilliseconds() + Int64.random(in: 0...500)
                try? await Task.sleep(for: .milliseconds(max(10, min(wait, 60_000))))
            }
        }
    }

    private func ping(_ input: AsyncStream<Input>.Continuation, group: inout DiscardingTaskGroup) async {
        switch await poller.listenKey(.ping) {
        case .key:
            logger.debug("listen key extended")
        case .gone:
            logger.info("listen key no longer exists (-1125); obtaining a new one")
            await lost(.keyExpired, input: input, group: &group)
        case .deferred:
            logger.debug("listen key ping deferred by the weight scheduler; will retry at the next ping")
        case .unavailable(let why):
            // The key lives 60 minutes and is pinged every 30: the next ping has time.
            logger.warning("listen key ping failed; will retry at the next ping", metadata: ["why": "\(why)"])
        }
    }

    private func handle(_ signal: UserStreamSignal, input: AsyncStream<Input>.Continuation, group: inout DiscardingTaskGroup) async {
        switch signal {
        case .subscribed:
            let after = subscribedOnce ? gap : nil
            let wasGap = gap != nil
            gap = nil
            subscribedOnce = true
            await poller.setUserStreamHealthy(true)
            await registry.apply(account: account, stream: .subscribed(after: after))
            if ledger != nil, unfilledSince != nil, !backfillRunning {
                // The gap's poll first: it tells whether any money moved at all.
                backfillRunning = true
                group.addTask { await self.backfill() }
            } else if wasGap {
                // Whatever happened while nothing was subscribed is only in the exchange's state.
                let poller = self.poller
                group.addTask { await poller.pollOnce() }
            }
        case .event(let event):
            guard recent.insert(Self.fingerprint(event)) else { return }
            await registry.apply(account: account, stream: .event(event))
            if case .accountConfigUpdate(let update) = event, update.leverage != nil {
                // A leverage change can change the account's tiers.
                group.addTask { await self.refreshBrackets() }
            }
            if case .listenKeyExpired = event {
                logger.info("listen key expired; obtaining a new one")
                await lost(.keyExpired, input: input, group: &group)
            }
        case .malformed(let problem):
            logger.warning("malformed user stream event skipped", metadata: ["problem": "\(problem)"])
            await registry.apply(account: account, stream: .malformed)
        case .disconnected(let reason):
            await poller.setUserStreamHealthy(false)
            if gap == nil { gap = reason }
            await markGap()
            await registry.apply(account: account, stream: .unsubscribed)
        case .keyRejected:
            await lost(.keyExpired, input: input, group: &group)
        }
    }

    /// `GET /fapi/v1/leverageBracket` (weight 1) through the scheduler; retried a few times.
    private func refreshBrackets() async {
        guard let ledger else { return }
        for attempt in 0..<5 {
            if attempt > 0 { try? await Task.sleep(for: settings.backfillRetryDelay) }
            guard case .admitted = await ledger.scheduler.admit(weight: 1) else { continue }
            do {
                let response = try await ledger.client.leverageBrackets(offsetMilliseconds: await ledger.scheduler.clockOffsetMilliseconds)
                if let used = response.usedWeight { await ledger.scheduler.observe(usedWeight: used) }
                await registry.apply(account: account, [.spent(1), .brackets(response.value)])
                return
            } catch {
                await registry.apply(account: account, .spent(1))
                if case .api(let apiError) = error {
                    if apiError.isBanned { await ledger.scheduler.banned(until: apiError.retryAfter) }
                    if apiError.isRateLimited { await ledger.scheduler.rateLimited(retryAfter: apiError.retryAfter) }
                    if apiError.isCredentialProblem || apiError.status == 404 {
                        logger.warning(
                            "cannot read leverage brackets; maintenance margin between polls uses the rate of the last poll",
                            metadata: ["error": "\(apiError)"])
                        return
                    }
                }
                logger.debug("leverage brackets not read; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    private func markGap() async {
        lastGapAt = clock.nowMilliseconds()
        if unfilledSince == nil {
            unfilledSince = max(startedAt, clock.nowMilliseconds() - settings.backfillMarginMilliseconds)
            walletsBeforeGap = await wallets()
        }
    }

    /// Wallet balance per asset as `/metrics` shows it (the last poll plus the stream's updates).
    private func wallets() async -> [String: Double]? {
        guard let assets = await registry.view(of: account)?.data?.status.assets else { return nil }
        return Dictionary(assets.map { ($0.asset, $0.walletBalance) }, uniquingKeysWith: { first, _ in first })
    }

    /// Counts what the stream missed from Binance's income ledger, from the start of the gap to
    /// a little after the resubscription; retried until it succeeds or Binance refuses.
    private func backfill() async {
        defer { backfillRunning = false }
        guard let ledger else { return }
        await poller.pollOnce()
        if let before = walletsBeforeGap, let after = await wallets(), unfilledSince != nil,
            Set(before.keys) == Set(after.keys), before.allSatisfy({ abs($0.value - (after[$0.key] ?? .nan)) < 1e-9 })
        {
            // With 100 accounts on one stream connection, a reconnect would otherwise cost
            // 3000 weight of ledger reads for nothing.
            logger.debug("no wallet changed during the stream gap; no income to backfill")
            unfilledSince = nil
            walletsBeforeGap = nil
            return
        }
        walletsBeforeGap = nil
        while !Task.isCancelled, let since = unfilledSince {
            let requestedAt = clock.nowMilliseconds()
            let until = requestedAt + 5_000
            let offset = await ledger.scheduler.clockOffsetMilliseconds
            let outcome = await ledger.fetch(from: since + offset, to: until + offset)
            switch outcome {
            case .rows(let rows, let spent):
                await registry.apply(account: account, .spent(spent))
                await registry.apply(account: account, stream: .ledger(rows))
                await registry.apply(account: account, stream: .backfill(succeeded: true))
                logger.info(
                    "income backfilled from the ledger", metadata: ["rows": "\(rows.count)", "window_s": "\((until - since) / 1000)"])
                // A gap that began meanwhile is still to be filled, from its own start.
                unfilledSince = lastGapAt >= requestedAt ? max(startedAt, lastGapAt - settings.backfillMarginMilliseconds) : nil
            case .retryLater(let why, let spent):
                await registry.apply(account: account, .spent(spent))
                await registry.apply(account: account, stream: .backfill(succeeded: false))
                logger.warning("income backfill failed; retrying", metadata: ["why": "\(why)"])
                try? await Task.sleep(for: settings.backfillRetryDelay)
            case .refused(let why, let spent):
                await registry.apply(account: account, .spent(spent))
                await registry.apply(account: account, stream: .backfill(succeeded: false))
                logger.error(
                    "Binance refused the income ledger (GET /fapi/v1/income); income missed during stream gaps will not be counted",
                    metadata: ["why": "\(why)"])
                unfilledSince = nil
                return
            }
        }
    }

    private func lost(_ reason: UserStreamGapReason, input: AsyncStream<Input>.Continuation, group: inout DiscardingTaskGroup) async {
        await poller.setUserStreamHealthy(false)
        await markGap()
        gap = reason
        hasKey = false
        await hub.detach(account: account)
        await registry.apply(account: account, stream: .unsubscribed)
        group.addTask { await self.renew(input) }
    }

    /// What identifies one event across two connections.
    static func fingerprint(_ event: UserDataEvent) -> String {
        switch event {
        case .orderTradeUpdate(let order):
            "O\(order.orderID)/\(order.tradeID ?? 0)/\(order.executionType)/\(order.status)/\(order.eventTime)"
        case .accountUpdate(let update):
            "A\(update.eventTime)/\(update.transactionTime)/\(update.reason)/\(update.balances.map { "\($0.asset)=\($0.walletBalance)" })"
        default:
            "\(event.typeName)/\(event.eventTime ?? 0)"
        }
    }
}
