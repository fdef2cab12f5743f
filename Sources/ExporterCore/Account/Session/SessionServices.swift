import BinanceWebSocketAPI
import Logging

/// The timing of an account session: every knob with its production default, in one value.
public struct SessionTiming: Sendable {
    public var backoff = Backoff()
    /// Rotate the WebSocket API connection before Binance's 24 h limit.
    public var maxConnectionAgeSeconds: Double = 23 * 3600
    /// Where in the interval this account's first poll falls (0..<1), to spread accounts.
    public var staggerFraction: Double = 0
    public var clockSyncSamples = 1
    /// Re-measure the clock offset this often (weight 2), besides at connect and after −1021.
    public var clockResyncSeconds: Double = 300
    /// Each request's deadline (never longer than the effective interval; at least 3 s).
    public var requestTimeout: Duration = .seconds(10)
    /// While the account's user stream and the mark feed are both healthy, poll this often
    /// instead (`--poll.reconcile-interval`); nil: always the normal interval.
    public var reconcileIntervalSeconds: Double?
    /// The user stream's key renewal and gap backfill.
    public var stream = UserStreamLifecycle.Settings()
    /// Maintenance-margin tiers are re-read this often (and after every leverage change).
    public var bracketRefreshSeconds: Double = 3600
    /// Attempts per bracket refresh, `stream.backfillRetryMilliseconds` apart.
    public var bracketAttempts = 5
    /// An all-symbol read of the open orders this often (finds orders on symbols without a
    /// position), besides the per-symbol reads at every reconcile.
    public var fullOrderListSeconds: Double = 6 * 3600
    /// The first all-symbol read falls within this long of start, by the account's phase, so
    /// that accounts started together do not all pay weight 80 at once.
    public var fullOrderListSpreadSeconds: Double = 3600
    /// The API key's permissions are read this often.
    public var auditIntervalSeconds: Double = 3600
    /// False: polls run only when asked (`pollOnce`); tests that drive polls one by one use it.
    public var pollsOnSchedule = true

    public init() {}
}

/// What an account session shares with the other sessions of its process (scheduler, registry,
/// stream hub, mark feed) and how it reaches Binance. Production and tests build sessions from
/// the same value; tests swap the connector, REST client, hub and feed for in-memory ones.
public struct SessionServices: Sendable {
    public var scheduler: WeightScheduler
    public var registry: MetricsRegistry
    public var connector: AccountConnector
    /// The REST client for an account's key; nil: no REST companion (no income backfill,
    /// leverage brackets or key audit).
    public var rest: (@Sendable (APICredentials) -> any AccountREST)?
    /// The process's user stream connections; nil: no account follows a user stream.
    public var hub: (any UserStreamAttaching)?
    /// The process's mark price feed; with a user stream it makes values live between polls.
    public var markFeed: (any MarkFeedWatching)?
    public var clock: WallClock = .system
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    public var timing = SessionTiming()
    public var logger: Logger

    public init(scheduler: WeightScheduler, registry: MetricsRegistry, connector: AccountConnector, logger: Logger) {
        self.scheduler = scheduler
        self.registry = registry
        self.connector = connector
        self.logger = logger
    }
}
