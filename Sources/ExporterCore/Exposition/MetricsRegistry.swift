import BinanceWebSocketAPI
import Foundation

/// Build identity shown in `exporter_build_info` and on the landing page, and the share of the
/// accounts this replica owns (`shard_info`).
public struct BuildInfo: Sendable {
    public var version: String
    public var revision: String
    /// This replica's shard, 0..<totalShards (`--shard`).
    public var shard = 0
    /// How many replicas share the accounts (`--total-shards`).
    public var totalShards = 1

    public init(version: String, revision: String) {
        self.version = version
        self.revision = revision
    }
}

/// Owns every account's published view and the scheduler view, and re-renders the scrape cache
/// when they change. Updates that arrive close together are coalesced into one render; a
/// maintenance loop re-renders when an account crosses its staleness limit, so stale values
/// disappear even when nothing else happens.
public actor MetricsRegistry {
    public nonisolated let cache = ScrapeCache()
    private var views: [String: AccountView] = [:]
    private var scheduler = SchedulerView()
    private var configReload: (success: Bool, at: Double)?
    private let build: BuildInfo
    /// Families that never change (build and shard identity), built once: a render only links them.
    private let constantFamilies: [MetricFamily]
    private let now: @Sendable () -> Double
    private let coalesce: Duration
    private let includeProcessMetrics: Bool
    private var renderPending = false
    /// Render requests for the maintenance loop; at most one is outstanding (`renderPending`).
    private let renderRequests = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    private var lastRender: Double = 0
    private var lastFreshness: [String: Bool] = [:]
    /// Rendered sample lines per account; only changed accounts are re-rendered.
    private var fragments: [String: ExpositionAssembler.Fragment] = [:]
    private var dirty: Set<String> = []

    public init(
        build: BuildInfo, coalesce: Duration = .milliseconds(250), includeProcessMetrics: Bool = true,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.build = build
        constantFamilies = [
            MetricCatalog.buildInfo.family([Sample([("version", build.version), ("revision", build.revision)], 1)]),
            MetricCatalog.shardInfo.family([Sample([("shard", String(build.shard)), ("total_shards", String(build.totalShards))], 1)]),
            MetricCatalog.shards.family([Sample([], Double(build.totalShards))]),
        ]
        self.coalesce = coalesce
        self.includeProcessMetrics = includeProcessMetrics
        self.now = now
    }

    /// Starts publishing `account`; `venue` decides how the mark feed revalues its positions.
    public func register(account: String, pollIntervalSeconds: Double, venue: FuturesVenue = .usdM) {
        if views[account] == nil {
            views[account] = AccountView(name: account, health: AccountHealth(pollIntervalSeconds: pollIntervalSeconds), venue: venue)
        }
        dirty.insert(account)
        scheduleRender()
    }

    public func remove(account: String) {
        views.removeValue(forKey: account)
        lastFreshness.removeValue(forKey: account)
        fragments.removeValue(forKey: account)
        dirty.remove(account)
        scheduleRender()
    }

    /// Applies a poller's events to its account, in order, and schedules one render.
    public func apply(account: String, _ events: [PollerEvent]) {
        guard var view = views[account], !events.isEmpty else { return }
        for event in events { view.apply(event) }
        views[account] = view
        dirty.insert(account)
        scheduleRender()
    }

    public func apply(account: String, _ event: PollerEvent) { apply(account: account, [event]) }

    /// The latest mark price per symbol, from the process's feed.
    private var marks: [String: MarkPriceUpdate] = [:]
    private var markFeedConnected: Bool?
    private var lastMarkFrame: Double = 0

    /// A mark price frame (every symbol of the feed): every account with open positions is
    /// revalued at once.
    public func updateMarks(_ updates: [MarkPriceUpdate]) {
        for update in updates { marks[update.symbol] = update }
        lastMarkFrame = now()
        let marks = self.marks
        // Portfolio Margin views are not revalued from marks (their CM legs would be taken for linear ones).
        for (name, var view) in views where view.venue.valuesLiveBetweenPolls {
            guard var data = view.data,
                data.revalue(
                    at: { marks[$0]?.markPrice }, brackets: view.brackets, venue: view.venue, contractSizes: view.contractSizes)
            else {
                continue
            }
            view.data = data
            view.health.revaluedSincePoll = true
            views[name] = view
            dirty.insert(name)
        }
        scheduleRender()
    }

    public func setMarkFeed(connected: Bool) {
        markFeedConnected = connected
        scheduleRender()
    }

    /// One account's current view (tests and diagnostics).
    public func view(of account: String) -> AccountView? { views[account] }

    /// Applies a user stream event to its account and schedules one render: an instant update
    /// reaches `/metrics` within the coalescing delay (250 ms by default).
    public func apply(account: String, stream event: StreamEvent) {
        guard var view = views[account] else { return }
        view.apply(event, now: now())
        views[account] = view
        dirty.insert(account)
        scheduleRender()
    }

    public func updateScheduler(_ view: SchedulerView) {
        guard view != scheduler else { return }
        scheduler = view
        scheduleRender()
    }

    public func setConfigReload(success: Bool) {
        let previous = configReload
        configReload = (success, success ? now() : (previous?.at ?? 0))
        scheduleRender()
    }

    /// Asks the maintenance loop for a render `coalesce` from now; changes in between share it.
    /// Without a running maintenance loop (tests), `renderNow()` renders on demand.
    private func scheduleRender() {
        guard !renderPending else { return }
        renderPending = true
        renderRequests.continuation.yield()
    }

    /// The families of the current state; pure apart from process metrics.
    public func families() -> [MetricFamily] {
        let time = now()
        return views.keys.sorted().flatMap { accountFamilies($0, now: time) } + globalFamilies(now: time)
    }

    private func accountFamilies(_ name: String, now time: Double) -> [MetricFamily] {
        guard let view = views[name] else { return [] }
        var sink = FamilySink()
        if let data = view.data, view.isFresh(now: time) {
            AccountFamilies.appendValues(account: name, data: data, venue: view.venue, to: &sink)
            AccountFamilies.appendOrders(account: name, data: data, orders: view.orders, venue: view.venue, to: &sink)
        }
        AccountFamilies.appendHealth(account: name, view: view, now: time, to: &sink)
        AccountFamilies.appendActivity(account: name, view: view, to: &sink)
        return sink.all
    }

    private func globalFamilies(now time: Double) -> [MetricFamily] {
        var sink = FamilySink()
        AccountFamilies.appendScheduler(scheduler, now: time, to: &sink)
        if let markFeedConnected {
            sink.add(MetricCatalog.markFeedConnected, [], markFeedConnected ? 1 : 0)
            sink.add(MetricCatalog.markFeedLastFrame, [], lastMarkFrame)
            // Only symbols someone holds: all 600 would drown the exposition.
            var held = Set<String>()
            for view in views.values where view.isFresh(now: time) {
                for position in view.data?.status.positions ?? [] where position.positionAmount != 0 { held.insert(position.symbol) }
            }
            for symbol in held.sorted() {
                guard let mark = marks[symbol] else { continue }
                sink.add(MetricCatalog.markPrice, [("symbol", symbol)], mark.markPrice)
                if let rate = mark.fundingRate { sink.add(MetricCatalog.fundingRate, [("symbol", symbol)], rate) }
                if let next = mark.nextFundingTime {
                    sink.add(MetricCatalog.nextFundingTimestamp, [("symbol", symbol)], Double(next) / 1000)
                }
            }
        }
        for family in constantFamilies { sink.set(family) }
        if let configReload {
            sink.add(MetricCatalog.configReloadSuccess, [], configReload.success ? 1 : 0)
            sink.add(MetricCatalog.configReloadTimestamp, [], configReload.at)
        }
        if includeProcessMetrics {
            for family in ProcessMetrics.families() { sink.add(family) }
        }
        return sink.all
    }

    /// Re-renders changed accounts, assembles the body, compresses it once, publishes it.
    public func renderNow() {
        renderPending = false
        let time = now()
        lastRender = time
        // Values of an account that turned stale (or fresh again) must be re-rendered.
        let freshness = views.mapValues { $0.isFresh(now: time) }
        for (name, fresh) in freshness where lastFreshness[name] != fresh { dirty.insert(name) }
        lastFreshness = freshness
        for name in dirty { fragments[name] = ExpositionAssembler.Fragment(accountFamilies(name, now: time)) }
        dirty.removeAll()
        let ordered = fragments.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { fragments[$0]! }
        cache.publish(ExpositionAssembler(fragments: ordered + [ExpositionAssembler.Fragment(globalFamilies(now: time))]))
        cache.setReady(!views.isEmpty && views.values.allSatisfy { $0.health.firstPollAttempted })
    }

    /// Re-renders when freshness flips or a ban ends, and at least every `refresh` for process metrics.
    public func maintain(refresh: Double = 5) {
        let time = now()
        let freshness = views.mapValues { $0.isFresh(now: time) }
        let banEdge = [scheduler.rateLimitedUntil, scheduler.bannedUntil].contains { $0 > lastRender && $0 <= time }
        if freshness != lastFreshness || banEdge || time - lastRender >= refresh {
            renderNow()
        }
    }

    /// Until cancelled: renders coalesced changes, and runs `maintain` once a second.
    public func runMaintenance() async {
        let requests = renderRequests.stream
        let coalesce = self.coalesce
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in requests {
                    try? await Task.sleep(for: coalesce)
                    await self.renderNow()
                }
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                maintain()
            }
            group.cancelAll()
        }
    }
}
