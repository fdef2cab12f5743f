import BinanceWebSocketAPI

/// What happened to one account's polling. The poller reports these; `AccountView.apply` is the
/// one place that turns them into the account's data and self metrics.
public enum PollerEvent: Sendable {
    /// The account method actually polled (changes once after a v1 → v2 fallback).
    case method(String)
    /// The effective interval, after stretching to fit the weight budget.
    case interval(Double)
    /// A due poll was skipped (scheduler deferral, backoff): nothing was sent.
    case skipped
    /// A poll succeeded at Unix time `at`.
    case succeeded(AccountData, at: Double, duration: Double)
    /// A poll failed with the given `code` label.
    case failed(code: String, duration: Double)
    /// An error counted on its own, outside a failed poll (a −1021 that a resync fixed, an
    /// unreadable frame nothing was waiting for).
    case error(code: String)
    /// Request weight spent, handshakes included.
    case spent(Int64)
    /// A connection opened; `reason` when it replaced or followed another one.
    case connected(reason: ReconnectReason?)
    case disconnected
    case clockOffset(seconds: Double)
    /// Binance rejected the key: polling stopped.
    case stopped(AccountStopReason)
    /// What the key may do, from the hourly audit.
    case apiKey(APIRestrictions)
    /// The account's maintenance-margin tiers per symbol (the venue's leverage brackets).
    case brackets([String: [LeverageBracket]])
    /// USD value of one contract per symbol (COIN-M `exchangeInfo`), for revaluing between polls.
    case contractSizes([String: Double])
}

extension PollerEvent {
    /// A failed poll, counted under `code`'s label.
    public static func failed(_ code: PollErrorCode, duration: Double) -> PollerEvent { .failed(code: code.label, duration: duration) }
    /// An error counted on its own, under `code`'s label.
    public static func error(_ code: PollErrorCode) -> PollerEvent { .error(code: code.label) }
}

extension AccountView {
    /// Applies one event: the reducer of an account's state.
    public mutating func apply(_ event: PollerEvent) {
        switch event {
        case .method(let method):
            health.accountMethod = method
        case .interval(let seconds):
            health.pollIntervalSeconds = seconds
        case .skipped:
            health.firstPollAttempted = true
        case .succeeded(let data, let at, let duration):
            if health.revaluedSincePoll, let local = self.data {
                health.reconcileDrift = data.drift(of: local, brackets: brackets, venue: venue, contractSizes: contractSizes)
            }
            health.revaluedSincePoll = false
            self.data = data
            reapplyStreamUpdates(since: at - duration)
            health.polls += 1
            health.lastPollSucceeded = true
            health.lastSuccess = at
            health.pollDurationSeconds = duration
            health.firstPollAttempted = true
            health.stopped = nil
        case .failed(let code, let duration):
            health.polls += 1
            health.lastPollSucceeded = false
            health.errorsByCode[code, default: 0] += 1
            health.pollDurationSeconds = duration
            health.firstPollAttempted = true
        case .error(let code):
            health.errorsByCode[code, default: 0] += 1
        case .spent(let weight):
            health.weightConsumed += UInt64(max(0, weight))
        case .connected(let reason):
            health.connected = true
            if let reason { health.reconnectsByReason[reason.rawValue, default: 0] += 1 }
        case .disconnected:
            health.connected = false
        case .clockOffset(let seconds):
            health.clockOffsetSeconds = seconds
        case .apiKey(let restrictions):
            health.keyRestrictions = restrictions
        case .brackets(let brackets):
            self.brackets = brackets
        case .contractSizes(let sizes):
            contractSizes = sizes
        case .stopped(let reason):
            health.stopped = reason
            health.lastPollSucceeded = false
            health.connected = false
        }
    }
}
