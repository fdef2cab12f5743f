/// papi's COIN-M conditional orders, the one open-order row that is not a plain or an algo
/// order row (`openOrderRow(_:shape:)`, `openAlgoOrderRow(_:shape:)`): Binance lists them as
/// strategies.
extension OrderFrames {
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
        trailingFields(order, into: &out)
        return out.finished()
    }
}
