/// One account's user data stream as a value with pure transitions: the listen key, the
/// subscription, the gaps and the income backfill that closes each gap. The session performs
/// the actions it returns (requests, timers, reports); nothing here sleeps or talks to Binance.
/// Times are local Unix milliseconds.
public struct UserStreamLifecycle: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// Binance's keys live 60 minutes; a ping every 30 leaves room for a failed one.
        public var pingIntervalMilliseconds: Int64 = 30 * 60_000
        /// Retry delay while no key can be had (no connection yet, transport errors).
        public var keyRetryMilliseconds: Int64 = 5_000
        /// Retry delay of an income backfill that could not run (deferral, transport error).
        public var backfillRetryMilliseconds: Int64 = 15_000
        /// How far before a detected disconnect the backfill window starts: TCP may have been
        /// dead for a while before anyone noticed. Overlap is harmless (dedupe).
        public var backfillMarginMilliseconds: Int64 = 60_000
        /// Whether gaps are backfilled from the income ledger at all.
        public var backfills = true
    }

    enum KeyState: Sendable, Equatable {
        /// Not wanted yet: the account's first poll comes first.
        case waitingForFirstPoll
        /// Wanted: request one at `at` (a retry, or a deferral's end).
        case wanted(at: Int64)
        /// A request is in flight.
        case requesting
        /// Held and attached to the stream hub; ping at `pingAt`.
        case held(pingAt: Int64)
    }

    enum Backfill: Sendable, Equatable {
        case idle
        /// The gap's poll runs first: it tells whether any wallet moved at all.
        case awaitingPoll
        /// A ledger read is due at `at` (now, or a retry).
        case due(at: Int64)
        /// A ledger read for the window from `since` is in flight, sent at `requestedAt`.
        case reading(requestedAt: Int64)
    }

    /// What the session must do.
    enum Action: Sendable, Equatable {
        case report(StreamEvent)
        case setStreamHealthy(Bool)
        /// Detach the key from the hub (it is gone).
        case detach
        /// Poll now: whatever happened while nothing was subscribed is only in the exchange's state.
        case pollNow
    }

    /// Where pings fall: at the account's reconcile phase, so that accounts whose keys were
    /// obtained together do not all ping in one minute. nil: a whole ping interval after the last.
    struct PingPhase: Sendable, Equatable {
        var offset: Int64
        var interval: Int64
    }

    let settings: Settings
    var pingPhase: PingPhase?
    /// Local ms when watching began: nothing before counts.
    let startedAt: Int64
    private(set) var key = KeyState.waitingForFirstPoll
    private(set) var subscribed = false
    private(set) var subscribedOnce = false
    /// Why the stream is down, while it is; reported and cleared on the next subscription.
    private(set) var gap: UserStreamGapReason?
    /// The start of the gap not yet backfilled.
    private(set) var unfilledSince: Int64?
    /// The last gap's start, to see whether one began during a backfill.
    private(set) var lastGapAt: Int64 = 0
    /// Wallets when the unfilled gap began: realized PnL, commissions and funding all move the
    /// wallet, so a gap after which every wallet is unchanged needs no ledger read.
    private(set) var walletsBeforeGap: [String: Double]?
    private(set) var backfill = Backfill.idle

    init(settings: Settings, startedAt: Int64) {
        self.settings = settings
        self.startedAt = startedAt
    }

    /// The next time something is due (key request, ping, ledger read).
    var nextDue: Int64? {
        var times: [Int64] = []
        switch key {
        case .wanted(let at): times.append(at)
        case .held(let pingAt): times.append(pingAt)
        case .waitingForFirstPoll, .requesting: break
        }
        if case .due(let at) = backfill { times.append(at) }
        return times.min()
    }

    /// The account's first poll was sent: the stream may start (with many accounts the budget
    /// serves first polls, which make accounts up, before streams).
    mutating func firstPollSent(now: Int64) {
        if key == .waitingForFirstPoll { key = .wanted(at: now) }
    }

    /// Is a key request due now? If so, it is in flight from here on.
    mutating func takeKeyRequest(now: Int64) -> Bool {
        guard case .wanted(let at) = key, at <= now else { return false }
        key = .requesting
        return true
    }

    /// `userDataStream.start` answered with a key: the session attaches it to the hub.
    mutating func keyObtained(now: Int64) { key = .held(pingAt: nextPing(after: now)) }

    /// A whole ping interval after `now`, or the last phase slot before it.
    private func nextPing(after now: Int64) -> Int64 {
        let plain = now + settings.pingIntervalMilliseconds
        guard let phase = pingPhase, phase.interval > 0, phase.interval < settings.pingIntervalMilliseconds else { return plain }
        let earliest = plain - phase.interval
        let cycles = (earliest - phase.offset + phase.interval - 1) / phase.interval
        return phase.offset + cycles * phase.interval
    }

    /// No key now; ask again at `retry` (a deferral's end) or after the retry delay.
    mutating func keyUnavailable(now: Int64, retry: Int64? = nil) {
        key = .wanted(at: retry ?? now + settings.keyRetryMilliseconds)
    }

    /// Is a ping due now? The next one is then scheduled a whole interval later (a failed ping
    /// leaves the key 30 more minutes; the next one has time).
    mutating func takePing(now: Int64) -> Bool {
        guard case .held(let pingAt) = key, pingAt <= now else { return false }
        key = .held(pingAt: nextPing(after: now))
        return true
    }

    /// The key is subscribed on an open connection.
    mutating func subscribedNow() -> [Action] {
        let after = subscribedOnce ? gap : nil
        let wasGap = gap != nil
        gap = nil
        subscribed = true
        subscribedOnce = true
        var actions: [Action] = [.setStreamHealthy(true), .report(.subscribed(after: after))]
        if settings.backfills, unfilledSince != nil, backfill == .idle {
            backfill = .awaitingPoll
            actions.append(.pollNow)
        } else if wasGap {
            actions.append(.pollNow)
        }
        return actions
    }

    /// The connection carrying the key is gone; the hub resubscribes by itself.
    mutating func disconnected(_ reason: UserStreamGapReason, now: Int64, wallets: [String: Double]?) -> [Action] {
        subscribed = false
        if gap == nil { gap = reason }
        markGap(now: now, wallets: wallets)
        return [.setStreamHealthy(false), .report(.unsubscribed)]
    }

    /// The key is gone (expired, or refused on a ping or subscribe): a new one is needed.
    mutating func keyLost(_ reason: UserStreamGapReason, now: Int64, wallets: [String: Double]?) -> [Action] {
        subscribed = false
        markGap(now: now, wallets: wallets)
        gap = reason
        key = .wanted(at: now)
        return [.setStreamHealthy(false), .detach, .report(.unsubscribed)]
    }

    private mutating func markGap(now: Int64, wallets: [String: Double]?) {
        lastGapAt = now
        if unfilledSince == nil {
            unfilledSince = max(startedAt, now - settings.backfillMarginMilliseconds)
            walletsBeforeGap = wallets
        }
    }

    /// A poll ended; during a backfill it is the gap's poll, and its wallets decide whether the
    /// ledger must be read (with 100 accounts on one stream connection, a reconnect would
    /// otherwise cost 3000 weight of ledger reads for nothing).
    mutating func polled(wallets: [String: Double]?, now: Int64) {
        guard backfill == .awaitingPoll else { return }
        if let before = walletsBeforeGap, let after = wallets, Set(before.keys) == Set(after.keys),
            before.allSatisfy({ abs($0.value - (after[$0.key] ?? .nan)) < 1e-9 })
        {
            unfilledSince = nil
            walletsBeforeGap = nil
            backfill = .idle
            return
        }
        walletsBeforeGap = nil
        backfill = .due(at: now)
    }

    /// Is a ledger read due now? Returns the window's start; the read is in flight from here on.
    mutating func takeLedgerRead(now: Int64) -> Int64? {
        guard case .due(let at) = backfill, at <= now, let since = unfilledSince else { return nil }
        backfill = .reading(requestedAt: now)
        return since
    }

    /// The ledger covered the window: a gap that began meanwhile is still to be filled, from its
    /// own start.
    mutating func ledgerRead(now: Int64) {
        guard case .reading(let requestedAt) = backfill else { return }
        if lastGapAt >= requestedAt {
            unfilledSince = max(startedAt, lastGapAt - settings.backfillMarginMilliseconds)
            backfill = .due(at: now)
        } else {
            unfilledSince = nil
            backfill = .idle
        }
    }

    /// The read failed for now (deferral, transport error, 5xx): retry later.
    mutating func ledgerReadFailed(now: Int64) {
        backfill = .due(at: now + settings.backfillRetryMilliseconds)
    }

    /// The account stopped (rejected key): nothing more is requested.
    mutating func halt() {
        key = .waitingForFirstPoll
        backfill = .idle
    }

    /// Binance refused the ledger for good (no permission): gaps are no longer backfilled.
    mutating func ledgerRefused() {
        unfilledSince = nil
        walletsBeforeGap = nil
        backfill = .idle
    }
}
