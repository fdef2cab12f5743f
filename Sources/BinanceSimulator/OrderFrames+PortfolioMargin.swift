/// The open-order rows of papi, with exactly the fields of the official Portfolio Margin SDK's
/// models: they are narrower than fapi's and dapi's (papi's UM orders are LIMIT and MARKET
/// only, so the row has no trigger fields; conditional orders live in their own lists).
extension OrderFrames {
    /// `GET /papi/v1/um/openOrders` (`QueryAllCurrentUmOpenOrdersResponseInner`).
    static func portfolioMarginUMOrderRow(_ booked: BookedOrder) -> String {
        let order = booked.order
        var out = JSONOut()
        out.dec("avgPrice", 0, places: 5)
        out.string("clientOrderId", booked.clientID)
        out.dec("cumQuote", 0, places: 0)
        out.dec("executedQty", 0, places: 0)
        out.int("orderId", order.id)
        out.dec("origQty", order.quantity, places: 3)
        out.string("origType", order.type)
        out.dec("price", order.price, places: order.price == 0 ? 0 : 5)
        out.bool("reduceOnly", order.reduceOnly)
        out.string("side", order.side)
        out.string("positionSide", order.positionSide)
        out.string("status", "NEW")
        out.string("symbol", order.symbol)
        out.int("time", booked.createTime)
        out.string("timeInForce", "GTC")
        out.string("type", order.type)
        out.int("updateTime", booked.updateTime)
        out.string("selfTradePreventionMode", selfTradePrevention)
        out.int("goodTillDate", 0)
        out.string("priceMatch", "NONE")
        return out.finished()
    }

    /// `GET /papi/v1/um/algo/openAlgoOrders` (`QueryAllCurrentUmOpenAlgoOrdersResponseInner`).
    static func portfolioMarginUMAlgoRow(_ booked: BookedOrder) -> String {
        let order = booked.order
        var out = JSONOut()
        out.int("algoId", order.id)
        out.string("clientAlgoId", booked.clientID)
        out.string("algoType", "CONDITIONAL")
        out.string("orderType", order.type)
        out.string("symbol", order.symbol)
        out.string("side", order.side)
        out.string("positionSide", order.positionSide)
        out.string("timeInForce", "GTC")
        out.dec("quantity", order.quantity, places: 3)
        out.string("algoStatus", "NEW")
        out.dec("triggerPrice", order.triggerPrice, places: 5)
        out.dec("price", order.price, places: 5)
        out.string("selfTradePreventionMode", selfTradePrevention)
        out.string("workingType", "CONTRACT_PRICE")
        out.string("priceMatch", "NONE")
        out.bool("closePosition", order.closePosition)
        out.bool("priceProtect", false)
        out.bool("reduceOnly", order.reduceOnly)
        out.int("createTime", booked.createTime)
        out.int("updateTime", booked.updateTime)
        out.int("triggerTime", 0)
        out.int("goodTillDate", 0)
        return out.finished()
    }

    /// `GET /papi/v1/cm/openOrders` (`QueryAllCmOrdersResponseInner`): quantities in contracts,
    /// `cumBase` and the `pair`.
    static func portfolioMarginCMOrderRow(_ booked: BookedOrder) -> String {
        let order = booked.order
        var out = JSONOut()
        out.dec("avgPrice", 0, places: 5)
        out.string("clientOrderId", booked.clientID)
        out.dec("cumBase", 0, places: 0)
        out.dec("executedQty", 0, places: 0)
        out.int("orderId", order.id)
        out.dec("origQty", order.quantity, places: 0)
        out.string("origType", order.type)
        out.dec("price", order.price, places: order.price == 0 ? 0 : 5)
        out.bool("reduceOnly", order.reduceOnly)
        out.string("side", order.side)
        out.string("positionSide", order.positionSide)
        out.string("status", "NEW")
        out.string("symbol", order.symbol)
        out.string("pair", order.symbol.firstIndex(of: "_").map { String(order.symbol[..<$0]) } ?? order.symbol)
        out.int("time", booked.createTime)
        out.string("timeInForce", "GTC")
        out.string("type", order.type)
        out.int("updateTime", booked.updateTime)
        return out.finished()
    }

    /// `GET /papi/v1/cm/conditional/openOrders` (`QueryAllCurrentCmOpenConditionalOrdersResponseInner`):
    /// a conditional order is a strategy (`strategyId`, `strategyType`); `activatePrice` and
    /// `priceRate` come only with a TRAILING_STOP_MARKET, as on the other venues.
    static func portfolioMarginCMConditionalRow(_ booked: BookedOrder) -> String {
        let order = booked.order
        var out = JSONOut()
        out.string("newClientStrategyId", booked.clientID)
        out.int("strategyId", order.id)
        out.string("strategyStatus", "NEW")
        out.string("strategyType", order.type)
        out.dec("origQty", order.quantity, places: 0)
        out.dec("price", order.price, places: order.price == 0 ? 0 : 5)
        out.bool("reduceOnly", order.reduceOnly)
        out.string("side", order.side)
        out.string("positionSide", order.positionSide)
        out.dec("stopPrice", order.triggerPrice, places: order.triggerPrice == 0 ? 0 : 5)
        out.string("symbol", order.symbol)
        out.int("bookTime", booked.createTime)
        out.int("updateTime", booked.updateTime)
        out.string("timeInForce", "GTC")
        if isTrailing(order) {
            out.dec("activatePrice", order.triggerPrice, places: 5)
            out.dec("priceRate", callbackRate, places: 1)
        }
        return out.finished()
    }
}
