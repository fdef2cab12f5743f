import BinanceWebSocketAPI

/// What one account's requests cost, learnt from Binance's own counter. Binance's documented
/// weights disagree (5 vs 10 for `account.status`), so the real cost of a method is the change
/// in `rateLimits.count` between two answers that fall well inside one calendar minute of
/// exchange time. Other programs on the IP can only inflate a change, so the smallest
/// observation wins, and a change beyond twice the documented weight is discarded (with many
/// accounts polling at once, most changes include other accounts' requests). A value: tested
/// without sockets.
struct WeightLedger: Sendable {
    private(set) var measured: [BinanceMethod: Int64] = [:]
    /// The last `rateLimits.count` seen, with the local time (ms) of the answer.
    private var lastSeen: (time: Int64, count: Int64)?
    /// The venue's documented weights (ws-fapi's, ws-dapi's).
    var api: FuturesVenue.WebSocketAPI = .usdM

    init(api: FuturesVenue.WebSocketAPI = .usdM) { self.api = api }

    /// The weight to budget for `method`: measured, or the venue's documented value until then.
    func weight(of method: BinanceMethod) -> Int64 { measured[method] ?? api.assumedWeight(of: method) }

    /// Records an answered request and returns the weight to account for it.
    mutating func charge(_ method: BinanceMethod, _ rateLimit: RateLimitStatus?, now: Int64, offset: Int64) -> Int64 {
        if let rateLimit, let lastSeen, Self.sameWindow(lastSeen.time + offset, now + offset), rateLimit.count > lastSeen.count {
            let delta = rateLimit.count - lastSeen.count
            // Other requests on the IP (other accounts' included) can only inflate a change; a
            // change beyond twice the documented weight is such a mixture, not a measurement.
            if delta <= 2 * api.assumedWeight(of: method), delta < measured[method] ?? Int64.max { measured[method] = delta }
        }
        let weight = weight(of: method)
        observe(rateLimit, now: now)
        return weight
    }

    /// Records a `rateLimits` answer as the base for the next measurement.
    mutating func observe(_ rateLimit: RateLimitStatus?, now: Int64) {
        if let rateLimit { lastSeen = (now, rateLimit.count) }
    }

    /// Both instants lie in one calendar minute with 2 s to spare on each side, so a window
    /// reset between them (and clock-offset error) cannot make a change look smaller.
    static func sameWindow(_ a: Int64, _ b: Int64) -> Bool {
        let minute = (a - 2_000) / 60_000
        return minute == (a + 2_000) / 60_000 && minute == (b - 2_000) / 60_000 && minute == (b + 2_000) / 60_000
    }
}
