/// When an account polls next, as a value with pure transitions (no clock, no sleeping): the
/// session feeds it what happened and sleeps until `nextDue`.
///
/// Modes: **normal** (every effective interval: the configured one stretched to fit the weight
/// budget), **deferred** (the scheduler refused; retry when it will admit), **reconciling** (the
/// user stream and the mark feed keep the values live, so a poll only reconciles, at the
/// reconcile interval and at this account's own phase within it) and **stopped** (Binance
/// rejected the key). All times are local Unix milliseconds.
struct PollCadence: Sendable, Equatable {
    enum Mode: Sendable, Equatable {
        case normal
        case reconciling
        case stopped
    }

    /// What a change of the feeds' health asks of the session.
    enum Reaction: Sendable, Equatable {
        /// Poll at once: a feed failed while the values depended on it.
        case pollNow
        /// Nothing changes now; the next poll's end decides the cadence.
        case none
    }

    let configuredMilliseconds: Int64
    /// nil: this account never reconciles (no user stream, or reconcile disabled).
    let reconcileMilliseconds: Int64?
    /// This account's place in the reconcile interval, 0..<1 (from the scheduler).
    var phase: Double = 0
    /// ≥ 1: how much the scheduler stretches every interval to fit the budget.
    var stretch: Double = 1
    private(set) var mode = Mode.normal
    private(set) var streamHealthy = false
    private(set) var feedHealthy = false
    /// When the first poll is due (start plus the account's stagger).
    private(set) var firstDue: Int64
    private(set) var lastStart: Int64?
    private(set) var retryAt: Int64?

    init(configuredSeconds: Double, reconcileSeconds: Double?, firstDue: Int64) {
        configuredMilliseconds = Int64((configuredSeconds * 1000).rounded())
        reconcileMilliseconds = reconcileSeconds.map { Int64(($0 * 1000).rounded()) }
        self.firstDue = firstDue
    }

    /// Both feeds healthy: the values on `/metrics` are live between polls.
    var live: Bool { streamHealthy && feedHealthy && reconcileMilliseconds != nil }

    var effectiveMilliseconds: Int64 { Int64((Double(configuredMilliseconds) * stretch).rounded()) }

    /// The interval `binance_futures_poll_interval_seconds` shows.
    var intervalSeconds: Double {
        if mode == .reconciling, let reconcile = reconcileMilliseconds { return Double(max(reconcile, effectiveMilliseconds)) / 1000 }
        return Double(effectiveMilliseconds) / 1000
    }

    /// The interval the weight demand is computed from (the stretch is not part of it).
    var demandIntervalSeconds: Double {
        if mode == .reconciling, let reconcile = reconcileMilliseconds { return Double(max(reconcile, configuredMilliseconds)) / 1000 }
        return Double(configuredMilliseconds) / 1000
    }

    /// When the next poll is due; nil when stopped.
    var nextDue: Int64? {
        if mode == .stopped { return nil }
        if let retryAt { return retryAt }
        guard let lastStart else { return firstDue }
        if mode == .reconciling, let reconcile = reconcileMilliseconds {
            // At least half an interval after the last poll, then the account's next phase slot:
            // a poll that just happened is not repeated, and steady state is one per interval.
            return aligned(lastStart + max(effectiveMilliseconds, reconcile / 2), interval: reconcile)
        }
        return lastStart + effectiveMilliseconds
    }

    /// The first time at or after `time` that falls on this account's phase of `interval`.
    func aligned(_ time: Int64, interval: Int64) -> Int64 {
        guard interval > 0 else { return time }
        let offset = Int64((phase * Double(interval)).rounded(.down))
        let cycles = (time - offset + interval - 1).floorDivided(by: interval)
        return offset + cycles * interval
    }

    /// A poll starts now.
    mutating func started(at now: Int64) {
        lastStart = now
        retryAt = nil
    }

    /// The scheduler refused the poll; it will admit at `retry` (local ms, jitter included). Never
    /// later than a whole interval from now.
    mutating func deferred(retry: Int64, now: Int64) {
        retryAt = min(max(retry, now + 50), now + Int64(intervalSeconds * 1000))
    }

    /// A poll ended (answered or failed): the feeds' health now decides the next interval.
    mutating func finished() {
        guard mode != .stopped else { return }
        mode = live ? .reconciling : .normal
    }

    mutating func setStream(healthy: Bool) -> Reaction { update { $0.streamHealthy = healthy } }

    mutating func setFeed(healthy: Bool) -> Reaction { update { $0.feedHealthy = healthy } }

    private mutating func update(_ change: (inout PollCadence) -> Void) -> Reaction {
        change(&self)
        guard mode == .reconciling, !live else { return .none }
        // Nothing may stay as old as the reconcile interval without the feeds that made it live.
        mode = .normal
        return .pollNow
    }

    /// Binance rejected the key: no more polls until a reload.
    mutating func stop() { mode = .stopped }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
