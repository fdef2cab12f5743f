import BinanceWebSocketAPI

/// The last successful poll of one account: an immutable value, safe to hand to any thread.
public struct AccountData: Sendable {
    public var status: AccountStatus
    /// From `v2/account.position` when positions detail is on.
    public var positionDetails: [PositionDetail]?
    /// Unix seconds when the poll completed.
    public var polledAt: Double

    public init(status: AccountStatus, positionDetails: [PositionDetail]?, polledAt: Double) {
        self.status = status
        self.positionDetails = positionDetails
        self.polledAt = polledAt
    }
}

/// Why an account is not being polled, when it is not.
public enum AccountStopReason: String, Sendable, CaseIterable {
    /// −2015/−2014/−1022/… : a human must fix the key, retrying cannot help.
    case credentialsRejected = "credentials_rejected"
}

/// The exporter's own view of one account's polling, exported as self metrics.
public struct AccountHealth: Sendable {
    public var lastPollSucceeded = false
    public var lastSuccess: Double?
    public var pollDurationSeconds: Double = 0
    public var pollIntervalSeconds: Double
    public var polls: UInt64 = 0
    public var errorsByCode: [String: UInt64] = [:]
    public var weightConsumed: UInt64 = 0
    public var connected = false
    public var reconnectsByReason: [String: UInt64] = [:]
    public var clockOffsetSeconds: Double = 0
    public var firstPollAttempted = false
    public var stopped: AccountStopReason?
    /// local − Binance per field at the last reconcile (a poll after mark-price revaluation).
    public var reconcileDrift: [String: Double] = [:]
    /// Positions were revalued from the mark feed since the last poll.
    public var revaluedSincePoll = false
    /// The key's permissions from the last successful audit.
    public var keyRestrictions: APIRestrictions?
    /// The method actually polled (after a v1 → v2 fallback this is `v2/account.status`).
    public var accountMethod: String = BinanceMethod.accountStatus.rawValue

    public init(pollIntervalSeconds: Double) { self.pollIntervalSeconds = pollIntervalSeconds }
}

/// Everything the exporter publishes about one account.
public struct AccountView: Sendable {
    public var name: String
    public var data: AccountData?
    public var health: AccountHealth
    public var activity = AccountActivity()
    /// USD per contract by symbol (COIN-M), for revaluing between polls.
    public var contractSizes: [String: Double] = [:]
    /// Open orders, for order counts and position protection.
    public var orders = OrderBook()
    /// Maintenance-margin tiers per symbol, for recomputing maintenance margin between polls.
    public var brackets: [String: [LeverageBracket]] = [:]
    /// The account's venue: which positions the mark feed can revalue, in which asset.
    public var venue: FuturesVenue

    public init(name: String, data: AccountData? = nil, health: AccountHealth, venue: FuturesVenue = .usdM) {
        self.name = name
        self.data = data
        self.health = health
        self.venue = venue
    }

    /// Fresh when the last success is younger than three intervals.
    public func isFresh(now: Double) -> Bool {
        guard let lastSuccess = health.lastSuccess, data != nil else { return false }
        return now - lastSuccess <= 3 * health.pollIntervalSeconds
    }
}

/// IP-wide and process-wide scheduler state, exported without an `account` label.
public struct SchedulerView: Sendable, Equatable {
    public var weightUsed: Int64?
    public var weightLimit: Int64?
    public var deferralsByReason: [String: UInt64] = ["own_share": 0, "ip_headroom": 0, "retry_after": 0, "banned": 0]
    public var rateLimitedUntil: Double = 0
    public var bannedUntil: Double = 0

    public init() {}
}
