import BinanceWebSocketAPI

extension AccountFamilies {
    /// Open orders and the protection of every open position, for a fresh account whose orders
    /// are known (before the first read, a missing stop would be a guess).
    static func appendOrders(
        account: String, data: AccountData, orders: OrderBook, venue: FuturesVenue = .usdM, to sink: inout FamilySink
    ) {
        guard orders.isKnown else { return }
        for (key, count) in orders.countsBySymbolAndType {
            sink.add(C.openOrders, [("account", account), ("symbol", key.symbol), ("type", key.type)], Double(count))
        }
        let positions = openLegs(data).compactMap { leg -> Protection.Position? in
            guard let amount = leg.status?.positionAmount ?? leg.detail?.positionAmount, amount != 0 else { return nil }
            return Protection.Position(
                symbol: leg.symbol, positionSide: leg.side, amount: amount, markPrice: markPrice(of: leg, amount, venue: venue))
        }
        for protection in Protection.evaluate(positions, orders: orders.openOrders) {
            let l = [("account", account), ("symbol", protection.symbol), ("position_side", protection.positionSide)]
            sink.add(C.positionProtectionRatio, l + [("kind", "stop_loss")], protection.stopLoss)
            sink.add(C.positionProtectionRatio, l + [("kind", "take_profit")], protection.takeProfit)
            if let stop = protection.stopPrice { sink.add(C.positionStopPrice, l, stop) }
        }
    }

    /// The leg's mark: the position detail's (revalued by the mark feed), else notional ÷ amount
    /// (linear contracts only: a COIN-M notional is in coin).
    private static func markPrice(of leg: PositionLeg, _ amount: Double, venue: FuturesVenue) -> Double? {
        if let mark = leg.detail?.markPrice, mark > 0 { return mark }
        if !venue.sizesInContracts, let notional = leg.status?.notional, notional != 0 { return abs(notional / amount) }
        return nil
    }
}
