/// One per-minute request weight window with its own 429 and 418 state: the IP's window (fapi,
/// dapi, ws-fapi, ws-dapi) or papi's. Binance documents papi's limit (6000 per minute per IP)
/// apart from the futures one; `SimulatorConfiguration.papiSharesIPWeight` picks which window
/// papi is counted in, so tests can cover a client that budgets either way.
struct WeightWindow: Sendable {
    var minute: Int64 = 0
    var count: Int64 = 0
    /// Set by a 429: a request before this time earns a ban.
    var rateLimitedUntil: Int64 = 0
    var bannedUntil: Int64 = 0
    var bans = 0

    mutating func roll(to now: Int64) {
        let current = now / 60_000
        if current != minute {
            minute = current
            count = 0
        }
    }
}

/// Why a papi request was refused before it was served.
struct WeightRefusal {
    var status: Int
    var message: String
    /// When the refusal ends (`Retry-After`).
    var until: Int64
}

extension ExchangeState {
    /// The IP's own window as a value (its fields predate `WeightWindow`).
    var ipWindow: WeightWindow {
        get { WeightWindow(minute: minute, count: count, rateLimitedUntil: rateLimitedUntil, bannedUntil: bannedUntil, bans: bans) }
        set {
            minute = newValue.minute
            count = newValue.count
            rateLimitedUntil = newValue.rateLimitedUntil
            bannedUntil = newValue.bannedUntil
            bans = newValue.bans
        }
    }

    /// The count of the window papi is counted in, rolled to `now`.
    mutating func papiCount(shared: Bool, now: Int64) -> Int64 {
        if shared {
            roll(to: now)
            return count
        }
        papiWindow.roll(to: now)
        return papiWindow.count
    }

    /// Binance's order for a request: a ban answers 418; a request while a 429 is pending earns a
    /// ban (doubling for repeat offenders) and 418. Nil: no ban.
    mutating func papiBan(shared: Bool, now: Int64, banMilliseconds: Int64) -> WeightRefusal? {
        var window = shared ? ipWindow : papiWindow
        defer {
            if shared { ipWindow = window } else { papiWindow = window }
        }
        if window.bannedUntil <= now, window.rateLimitedUntil > now {
            window.bans += 1
            window.bannedUntil = now + banMilliseconds << Int64(min(window.bans - 1, 10))
        }
        guard window.bannedUntil > now else { return nil }
        stats.answered418 += 1
        return WeightRefusal(
            status: 418, message: "Way too many requests; IP banned until \(window.bannedUntil).", until: window.bannedUntil)
    }

    /// Charges `weight` in papi's window, or answers 429 when it would pass `limit` (the window
    /// then refuses everything until the next minute, and the next request there is banned).
    mutating func chargePapi(_ weight: Int64, shared: Bool, limit: Int64, now: Int64) -> WeightRefusal? {
        let current = papiCount(shared: shared, now: now)
        if current + weight > limit {
            let until = (now / 60_000 + 1) * 60_000
            if shared { rateLimitedUntil = until } else { papiWindow.rateLimitedUntil = until }
            stats.answered429 += 1
            return WeightRefusal(status: 429, message: "Too many requests; current limit is \(limit) requests per minute.", until: until)
        }
        addPapiWeight(weight, shared: shared, now: now, ownClient: true)
        return nil
    }

    /// Adds weight to papi's window: the client's own requests, or other programs on the IP.
    mutating func addPapiWeight(_ weight: Int64, shared: Bool, now: Int64, ownClient: Bool) {
        if shared {
            charge(weight, now: now, ownClient: ownClient)
        } else {
            papiWindow.roll(to: now)
            papiWindow.count += weight
        }
        if ownClient { stats.papiWeightByMinute[now / 60_000, default: 0] += weight }
    }
}
