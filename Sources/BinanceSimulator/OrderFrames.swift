/// The JSON Binance writes about orders: `ORDER_TRADE_UPDATE` and `ALGO_UPDATE` events, and the
/// rows of `GET /fapi/v1/openOrders` and `GET /fapi/v1/openAlgoOrders`, with every field the
/// official SDK's models declare (decimals as strings, ids and times as numbers, flags as
/// booleans).
enum OrderFrames {
    /// Binance's `selfTradePreventionMode` / `V`, the same on every order of the simulator.
    static let selfTradePrevention = "EXPIRE_TAKER"

    /// Where an algo order is in its life, and what its triggered order did.
    struct AlgoProgress {
        /// `NEW`, `CANCELED`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `EXPIRED`.
        var status: String
        var triggerTime: Int64 = 0
        /// The plain order it placed (`ai`), as a string; empty before it triggers.
        var actualOrderID = ""
        /// The plain order's type (`act`); empty before it triggers.
        var actualType = ""
        var averagePrice: Double = 0
        var executedQuantity: Double = 0
        /// Why it failed (`rm`); empty otherwise.
        var reason = ""
    }

    static func quoteAsset(_ symbol: String) -> String { symbol.hasSuffix("USDC") ? "USDC" : "USDT" }

    static func isTrailing(_ order: SimulatedOrder) -> Bool { order.type == "TRAILING_STOP_MARKET" }

    /// The callback rate (percent) the simulator gives trailing stops (Binance: 0.1 to 10).
    static let callbackRate = 1.0

    /// `ORDER_TRADE_UPDATE` for a plain order that is placed (`NEW`) or cancelled (`CANCELED`).
    /// `marketChild`: the MARKET order a triggered algo order places (its `ot` is the algo's type).
    static func orderUpdate(
        _ booked: BookedOrder, status: String, marketChild: Bool = false, coinM: UserEventFrames.CoinMShape? = nil,
        portfolioMargin: UserEventFrames.PortfolioMarginShape? = nil, now: Int64
    ) -> String {
        let order = booked.order
        let report = UserEventFrames.OrderReport(
            symbol: order.symbol, clientOrderID: booked.clientID, side: order.side, type: marketChild ? "MARKET" : order.type,
            timeInForce: "GTC", quantity: order.quantity, price: order.price, averagePrice: 0, stopPrice: order.triggerPrice,
            executionType: status, status: status, orderID: order.id, lastQuantity: 0, filledQuantity: 0, lastPrice: 0,
            commissionAsset: coinM?.marginAsset ?? quoteAsset(order.symbol), commission: 0, tradeID: 0, maker: false,
            reduceOnly: order.reduceOnly,
            originalType: order.type, positionSide: order.positionSide, closePosition: order.closePosition,
            activationPrice: isTrailing(order) ? order.triggerPrice : 0, callbackRate: isTrailing(order) ? callbackRate : 0,
            realizedProfit: 0, coinM: coinM, portfolioMargin: portfolioMargin)
        return UserEventFrames.orderTradeUpdate(report, now: now)
    }

    /// `ALGO_UPDATE`: every field of the SDK's `AlgoUpdate` and `AlgoUpdateO`. `businessUnit`: a
    /// Portfolio Margin account's (`fs`), whose PM SDK model (`AlgoOrderUpdate`) names the order `ao`.
    static func algoUpdate(_ booked: BookedOrder, _ progress: AlgoProgress, businessUnit: String? = nil, now: Int64) -> String {
        let order = booked.order
        var o = JSONOut()
        o.string("caid", booked.clientID)
        o.int("aid", order.id)
        o.string("at", "CONDITIONAL")
        o.string("o", order.type)
        o.string("s", order.symbol)
        o.string("S", order.side)
        o.string("ps", order.positionSide)
        o.string("f", "GTC")
        o.dec("q", order.quantity, places: 3)
        o.string("X", progress.status)
        o.string("ai", progress.actualOrderID)
        o.dec("ap", progress.averagePrice, places: 5)
        o.dec("aq", progress.executedQuantity, places: 3)
        o.string("act", progress.actualType)
        o.dec("tp", order.triggerPrice, places: 5)
        o.dec("p", order.price, places: 5)
        o.string("V", selfTradePrevention)
        o.string("wt", "CONTRACT_PRICE")
        o.string("pm", "NONE")
        o.bool("cp", order.closePosition)
        o.bool("pP", false)
        o.bool("R", order.reduceOnly)
        o.int("tt", progress.triggerTime)
        o.int("gtd", 0)
        o.string("rm", progress.reason)
        o.bool("ia", isTrailing(order) && progress.triggerTime != 0)
        var event = JSONOut()
        event.string("e", "ALGO_UPDATE")
        event.int("T", now)
        event.int("E", now)
        if let businessUnit { event.string("fs", businessUnit) }
        event.raw(businessUnit == nil ? "o" : "ao", o.finished())
        return event.finished()
    }
}
