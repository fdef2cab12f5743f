/// The rows of the open-order lists of fapi, dapi and papi. Binance's lists are one row with
/// venue-specific fields added or left out, so one builder writes them all, in the field order
/// each SDK model documents, and the venues cannot drift apart on the fields they share.
extension OrderFrames {
    /// Which list a row is written for: what the venue's SDK model adds to, or leaves out of,
    /// the common row.
    enum RowShape {
        /// `GET /fapi/v1/openOrders`, `/fapi/v1/openAlgoOrders`.
        case usdM
        /// `GET /dapi/v1/openOrders` (`CurrentAllOpenOrdersResponseInner` of the COIN-M SDK).
        case coinM
        /// `GET /papi/v1/um/openOrders`, `/papi/v1/um/algo/openAlgoOrders`.
        case portfolioMarginUM
        /// `GET /papi/v1/cm/openOrders` (`QueryAllCmOrdersResponseInner`).
        case portfolioMarginCM

        /// COIN-M: quantities in whole contracts, `cumBase` for `cumQuote`, and the `pair`.
        var inContracts: Bool { self == .coinM || self == .portfolioMarginCM }
        /// fapi and dapi rows carry the trigger fields; papi's plain orders are LIMIT and MARKET
        /// only (its conditional orders have their own lists), so its rows have none.
        var hasTriggers: Bool { self == .usdM || self == .coinM }
    }

    /// `activatePrice` and `priceRate`: only with a TRAILING_STOP_MARKET order, as Binance
    /// documents them on every venue.
    static func trailingFields(_ order: SimulatedOrder, into out: inout JSONOut) {
        guard isTrailing(order) else { return }
        out.dec("activatePrice", order.triggerPrice, places: 5)
        out.dec("priceRate", callbackRate, places: 1)
    }

    /// The part of a COIN-M symbol before the delivery (`BTCUSD` of `BTCUSD_PERP`).
    static func pair(of symbol: String) -> String {
        symbol.firstIndex(of: "_").map { String(symbol[..<$0]) } ?? symbol
    }

    /// One row of a plain open-order list: fapi's (`CurrentAllOpenOrdersResponseInner`), dapi's
    /// (no `goodTillDate`), papi's UM (`QueryAllCurrentUmOpenOrdersResponseInner`) or CM
    /// (`QueryAllCmOrdersResponseInner`: no self-trade or price-match fields either).
    static func openOrderRow(_ booked: BookedOrder, shape: RowShape) -> String {
        let order = booked.order
        var out = JSONOut()
        out.dec("avgPrice", 0, places: 5)
        out.string("clientOrderId", booked.clientID)
        out.dec(shape.inContracts ? "cumBase" : "cumQuote", 0, places: 0)
        out.dec("executedQty", 0, places: 0)
        out.int("orderId", order.id)
        out.dec("origQty", order.quantity, places: shape.inContracts ? 0 : 3)
        out.string("origType", order.type)
        out.dec("price", order.price, places: order.price == 0 ? 0 : 5)
        out.bool("reduceOnly", order.reduceOnly)
        out.string("side", order.side)
        out.string("positionSide", order.positionSide)
        out.string("status", "NEW")
        if shape.hasTriggers {
            out.dec("stopPrice", order.triggerPrice, places: order.triggerPrice == 0 ? 0 : 5)
            out.bool("closePosition", order.closePosition)
        }
        out.string("symbol", order.symbol)
        if shape.inContracts { out.string("pair", pair(of: order.symbol)) }
        out.int("time", booked.createTime)
        out.string("timeInForce", "GTC")
        out.string("type", order.type)
        if shape.hasTriggers { trailingFields(order, into: &out) }
        out.int("updateTime", booked.updateTime)
        switch shape {
        case .usdM, .coinM:
            out.string("workingType", "CONTRACT_PRICE")
            out.bool("priceProtect", false)
            out.string("priceMatch", "NONE")
            out.string("selfTradePreventionMode", selfTradePrevention)
            if shape == .usdM { out.int("goodTillDate", 0) }
        case .portfolioMarginUM:
            out.string("selfTradePreventionMode", selfTradePrevention)
            out.int("goodTillDate", 0)
            out.string("priceMatch", "NONE")
        case .portfolioMarginCM:
            break
        }
        return out.finished()
    }

    /// One row of an algo open-order list: fapi's (`CurrentAllAlgoOpenOrdersResponseInner`,
    /// `icebergQuantity` null as Binance sends it) or papi's UM
    /// (`QueryAllCurrentUmOpenAlgoOrdersResponseInner`, without the actual-order, iceberg and
    /// TP/SL fields).
    static func openAlgoOrderRow(_ booked: BookedOrder, shape: RowShape) -> String {
        let order = booked.order
        let full = shape != .portfolioMarginUM
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
        if full {
            out.string("actualOrderId", "")
            out.dec("actualPrice", 0, places: 5)
        }
        out.dec("triggerPrice", order.triggerPrice, places: 5)
        out.dec("price", order.price, places: 5)
        if full {
            out.null("icebergQuantity")
            out.dec("tpTriggerPrice", 0, places: 5)
            out.dec("tpPrice", 0, places: 5)
            out.dec("slTriggerPrice", 0, places: 5)
            out.dec("slPrice", 0, places: 5)
            out.string("tpOrderType", "")
        }
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
}
