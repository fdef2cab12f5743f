import BinanceWebSocketAPI
import Logging

/// The weight budget rules of SPEC §7, as flags give them.
public struct WeightPolicy: Sendable {
    /// Fraction of the IP's REQUEST_WEIGHT limit the exporter itself may spend per minute.
    public var maxShare: Double = 0.2
    /// Never push the IP-wide count above (1 − headroom) × limit.
    public var ipHeadroom: Double = 0.2
    /// Assumed until the first `rateLimits` arrives.
    public var defaultLimit: Int64 = 2400

    public init(maxShare: Double = 0.2, ipHeadroom: Double = 0.2) {
        self.maxShare = maxShare
        self.ipHeadroom = ipHeadroom
    }
}

/// Why a request was not sent; the `reason` label of `scheduler_deferrals_total`.
public enum DeferralReason: String, Sendable, CaseIterable {
    case ownShare = "own_share"
    case ipHeadroom = "ip_headroom"
    case retryAfter = "retry_after"
    case banned
}

public enum Admission: Sendable, Equatable {
    case admitted
    /// Not sent; retry no earlier than `until` (exchange ms).
    case deferred(DeferralReason, until: Int64)
}

/// One scheduler per process: every account shares the IP's REQUEST_WEIGHT budget.
///
/// Before each request (or handshake) it checks the exporter's own spend in the current
/// calendar minute of exchange time against `maxShare × limit`, and the IP-wide count (learned
/// from every `rateLimits`, including other programs' use) against `(1 − headroom) × limit`.
/// It honours 429 `retryAfter` and 418 bans for every account. It never queues: a refused
/// request is skipped and the caller tries at its next turn.
public actor WeightScheduler {
    public let policy: WeightPolicy
    private let clock: WallClock
    private let logger: Logger
    private var offsetMilliseconds: Int64 = 0
    private var limit: Int64
    private var observedCount: (minute: Int64, count: Int64)?
    private var ownSpend: (minute: Int64, weight: Int64) = (0, 0)
    private var retryAfter: Int64 = 0
    private var bannedUntil: Int64 = 0
    private var deferrals: [DeferralReason: UInt64] = [:]
    private var demands: [String: Double] = [:]
    private var stretchLogged = false
    private var onChange: (@Sendable (SchedulerView) async -> Void)?

    public init(policy: WeightPolicy, clock: WallClock = .system, logger: Logger) {
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.limit = policy.defaultLimit
    }

    /// Publishes every change (the registry's `updateScheduler`).
    public func setObserver(_ observer: @escaping @Sendable (SchedulerView) async -> Void) async {
        onChange = observer
        await observer(view)
    }

    private var now: Int64 { clock.nowMilliseconds() + offsetMilliseconds }
    private func minute(of time: Int64) -> Int64 { time >= 0 ? time / 60_000 : (time - 59_999) / 60_000 }

    /// Exchange − local clock offset; windows are calendar minutes of exchange time.
    public func setClockOffset(milliseconds: Int64) { offsetMilliseconds = milliseconds }

    public var ownBudget: Int64 { Int64((policy.maxShare * Double(limit)).rounded(.down)) }
    public var ipCeiling: Int64 { Int64(((1 - policy.ipHeadroom) * Double(limit)).rounded(.down)) }

    /// Asks to spend `weight` now. Admitted weight is counted at once.
    public func admit(weight: Int64) async -> Admission {
        let time = now
        let current = minute(of: time)
        let nextWindow = (current + 1) * 60_000
        let decision: Admission
        if bannedUntil > time {
            decision = .deferred(.banned, until: bannedUntil)
        } else if retryAfter > time {
            decision = .deferred(.retryAfter, until: retryAfter)
        } else {
            if ownSpend.minute != current { ownSpend = (current, 0) }
            let ipCount = observedCount?.minute == current ? observedCount!.count : 0
            if ownSpend.weight + weight > ownBudget {
                decision = .deferred(.ownShare, until: nextWindow)
            } else if ipCount + weight > ipCeiling {
                decision = .deferred(.ipHeadroom, until: nextWindow)
            } else {
                ownSpend.weight += weight
                observedCount = (current, ipCount + weight)
                decision = .admitted
            }
        }
        if case .deferred(let reason, _) = decision {
            deferrals[reason, default: 0] += 1
            await publish()
        }
        return decision
    }

    /// Learns the limit and the IP-wide count from a response's `rateLimits`. A status without a
    /// limit (papi's `X-MBX-USED-WEIGHT-1M`) may be the count of a window of its own, lower than
    /// the fapi/dapi one, or of the shared one: it only ever raises the count, which is right in
    /// both cases (papi's own requests are admitted against the shared budget anyway).
    public func observe(_ rateLimit: RateLimitStatus?) async {
        guard let rateLimit else { return }
        let current = minute(of: now)
        if rateLimit.limit > 0 {
            limit = rateLimit.limit
            observedCount = (current, rateLimit.count)
        } else {
            let known = observedCount?.minute == current ? observedCount!.count : 0
            guard rateLimit.count > known else { return }
            observedCount = (current, rateLimit.count)
        }
        await publish()
    }

    /// Learns the IP-wide count from a REST answer's `X-MBX-USED-WEIGHT-1M` header, which gives
    /// no limit: the limit stays what `rateLimits` said.
    public func observe(usedWeight count: Int64) async {
        observedCount = (minute(of: now), count)
        await publish()
    }

    /// Exchange − local clock offset in ms, as the pollers last measured it (REST timestamps).
    public var clockOffsetMilliseconds: Int64 { offsetMilliseconds }

    /// 429 −1003: nobody sends until `retryAfter`, or the next minute when Binance gives none.
    public func rateLimited(retryAfter until: Int64?) async {
        let time = now
        retryAfter = max(retryAfter, until ?? (minute(of: time) + 1) * 60_000)
        logger.warning("rate limited by Binance (429); pausing all requests", metadata: ["until_ms": "\(retryAfter)"])
        await publish()
    }

    /// 418: the IP is banned; no requests and no handshakes until it ends.
    public func banned(until: Int64?) async {
        let time = now
        bannedUntil = max(bannedUntil, until ?? time + 120_000)
        logger.error("IP banned by Binance (418); all requests stopped", metadata: ["until_ms": "\(bannedUntil)"])
        await publish()
    }

    /// The one reaction to a refusal from Binance, whatever sent the request (a WebSocket API
    /// call, a connection's handshake, a REST call): a 418 stops every request of the IP until
    /// the ban ends, a 429 pauses them until Binance's `retryAfter`, and the IP-wide count the
    /// answer carries is learnt. Returns true when `error` was such a refusal (it cost no weight).
    @discardableResult
    public func absorb(_ error: BinanceClientError) async -> Bool {
        switch error {
        case .api(let apiError):
            guard apiError.isBanned || apiError.isRateLimited else { return false }
            if let rateLimit = apiError.rateLimit {
                let current = minute(of: now)
                if rateLimit.limit > 0 {
                    limit = rateLimit.limit
                    observedCount = (current, rateLimit.count)
                } else {
                    // papi's count (no limit): it may be a window of its own; it only raises.
                    let known = observedCount?.minute == current ? observedCount!.count : 0
                    observedCount = (current, max(known, rateLimit.count))
                }
            }
            if apiError.isBanned {
                await banned(until: apiError.retryAfter)
            } else {
                await rateLimited(retryAfter: apiError.retryAfter)
            }
            return true
        case .handshakeRejected(let status, let retryAfterSeconds):
            guard status == 418 || status == 429 else { return false }
            let until = retryAfterSeconds.map { now + Int64($0) * 1000 }
            if status == 418 {
                await banned(until: until)
            } else {
                await rateLimited(retryAfter: until)
            }
            return true
        default:
            return false
        }
    }

    /// Per-account demand in weight per minute; returns the factor (≥ 1) by which every
    /// interval must stretch so that the sum fits the exporter's share (with 10% kept for
    /// handshakes and clock syncs).
    public func register(account: String, weightPerMinute: Double) -> Double {
        demands[account] = weightPerMinute
        let factor = stretchFactor
        if factor > 1, !stretchLogged {
            stretchLogged = true
            logger.warning(
                "configured accounts cannot fit the weight budget; stretching poll intervals",
                metadata: [
                    "factor": "\(factor)", "demand_per_minute": "\(Int(demands.values.reduce(0, +)))",
                    "budget_per_minute": "\(Int(Double(ownBudget) * 0.9))",
                ])
        }
        return factor
    }

    public func unregister(account: String) {
        demands.removeValue(forKey: account)
        phaseSlots.removeValue(forKey: account)
    }

    /// Reconcile phase slots by account: slot n reconciles at `phase(ofSlot: n)` of the interval.
    private var phaseSlots: [String: Int] = [:]

    /// Where in the reconcile interval `account` reconciles (0..<1). Accounts that turn live
    /// together would otherwise reconcile together, and a minute carrying all of them is what
    /// pushes a shared IP over its limit. Each account takes the lowest free slot, and slot n sits
    /// at the n-th point of the van der Corput sequence (0, ½, ¼, ¾, ⅛, …): any first n slots are
    /// spread evenly over the interval, and an account keeps its phase while others come and go.
    public func reconcilePhase(account: String) -> Double {
        if let slot = phaseSlots[account] { return Self.phase(ofSlot: slot) }
        let taken = Set(phaseSlots.values)
        var slot = 0
        while taken.contains(slot) { slot += 1 }
        phaseSlots[account] = slot
        return Self.phase(ofSlot: slot)
    }

    /// The van der Corput sequence in base 2: `slot`'s bits mirrored behind the binary point.
    static func phase(ofSlot slot: Int) -> Double {
        var rest = slot
        var phase = 0.0
        var weight = 0.5
        while rest > 0 {
            if rest & 1 == 1 { phase += weight }
            rest >>= 1
            weight /= 2
        }
        return phase
    }

    /// ≥ 1: how much every interval must stretch so that all accounts' demand fits 90 % of the
    /// exporter's share (the rest is kept for handshakes and clock syncs).
    public var stretchFactor: Double {
        let total = demands.values.reduce(0, +)
        let budget = Double(ownBudget) * 0.9
        guard total > budget, budget > 0 else { return 1 }
        return total / budget
    }

    public var view: SchedulerView {
        var view = SchedulerView()
        let current = minute(of: now)
        if let observedCount {
            view.weightUsed = observedCount.minute == current ? observedCount.count : 0
            view.weightLimit = limit
        }
        for reason in DeferralReason.allCases { view.deferralsByReason[reason.rawValue] = deferrals[reason] ?? 0 }
        view.rateLimitedUntil = Double(retryAfter) / 1000
        view.bannedUntil = Double(bannedUntil) / 1000
        return view
    }

    private func publish() async {
        if let onChange { await onChange(view) }
    }
}
