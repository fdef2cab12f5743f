/// A dstream mark price stream name: `<pair>@markPrice[@1s]` (every contract of the pair, an
/// array), `<symbol>@markPrice[@1s]` (one contract, an object) or `!markPrice@arr[@1s]` (every
/// COIN-M contract). Names are lower case, as Binance's are.
struct MarkStreamName: Equatable {
    /// The pair or symbol in lower case; nil for `!markPrice@arr`.
    var target: String?
    /// `@1s`: every second; otherwise every 3 seconds.
    var everySecond: Bool

    init?(_ name: String) {
        var rest = Substring(name)
        everySecond = rest.hasSuffix("@1s")
        if everySecond { rest = rest.dropLast(3) }
        if rest == "!markPrice@arr" {
            target = nil
            return
        }
        guard rest.hasSuffix("@markPrice") else { return nil }
        let target = rest.dropLast("@markPrice".count)
        guard !target.isEmpty, !target.contains("@") else { return nil }
        self.target = String(target)
    }
}

extension ExchangeSimulator {
    /// The frame of one dstream mark price stream now, in the combined envelope
    /// (`{"stream":…,"data":…}`) or raw; nil when the stream names no listed contract (Binance
    /// sends nothing for it).
    public func coinMMarkPriceFrame(_ stream: String, raw: Bool = false) -> String? {
        guard let name = MarkStreamName(stream) else { return nil }
        let now = clock()
        return state.withLockedValue { state -> String? in
            let now = now + state.faults.clockSkewMilliseconds
            let data: String
            if let target = name.target {
                if let contract = state.market.coinM.first(where: { $0.symbol.lowercased() == target }) {
                    data = Self.coinMMarkRow(contract, market: state.market, now: now, averagePrice: false)
                } else {
                    let contracts = state.market.coinM.filter { $0.pair.lowercased() == target }
                    guard !contracts.isEmpty else { return nil }
                    data = JSONOut.array(contracts.map { Self.coinMMarkRow($0, market: state.market, now: now, averagePrice: false) })
                }
            } else {
                data = JSONOut.array(state.market.coinM.map { Self.coinMMarkRow($0, market: state.market, now: now, averagePrice: false) })
            }
            return raw ? data : "{\"stream\":\(JSONOut.quote(stream)),\"data\":\(data)}"
        }
    }

    /// One COIN-M mark price row (the COIN-M SDK's `MarkPriceStreamResponse`: `st` 2; a dated
    /// contract has no funding: `r` "" and `T` 0). `averagePrice`: also `ap`, for fstream's
    /// all-market array whose rows follow the USDⓈ-M model.
    static func coinMMarkRow(_ contract: CoinMContract, market: Market, now: Int64, averagePrice: Bool) -> String {
        let price = market.price(contract.symbol)
        var out = JSONOut()
        out.string("e", "markPriceUpdate")
        out.int("E", now)
        out.string("s", contract.symbol)
        out.dec("p", price)
        out.dec("P", price * 1.0001)
        out.dec("i", price * 0.9999)
        if contract.isPerpetual {
            out.dec("r", market.fundingRate(contract.symbol))
        } else {
            out.string("r", "")
        }
        if averagePrice { out.dec("ap", price) }
        out.int("T", contract.isPerpetual ? (now / 28_800_000 + 1) * 28_800_000 : 0)
        out.int("st", 2)
        return out.finished()
    }
}
