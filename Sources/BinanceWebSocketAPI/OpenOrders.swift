/// Where an order lives at Binance. Since 2025-12-09 an untriggered conditional order (stop,
/// take profit, trailing stop) is an *algo* order, listed only by `GET /fapi/v1/openAlgoOrders`
/// and reported by `ALGO_UPDATE`; everything else is a *plain* order (`GET /fapi/v1/openOrders`,
/// `ORDER_TRADE_UPDATE`). The two services number their orders independently.
public enum OrderService: String, Sendable, Hashable, CaseIterable {
    case plain
    case algo
}

/// One open order, plain or algo, reduced to what protection and order counts need.
public struct OpenOrder: Sendable, Equatable {
    public var service: OrderService
    /// `orderId` (plain) or `algoId` (algo).
    public var id: Int64
    public var symbol: String
    /// `BUY` or `SELL`.
    public var side: String
    /// `BOTH` (one-way mode), `LONG` or `SHORT` (hedge mode).
    public var positionSide: String
    /// Binance's order type (`STOP_MARKET`, `LIMIT`, …), as sent.
    public var type: String
    /// Quantity still open (original minus filled); 0 for a close-position order.
    public var quantity: Double
    /// The stop or trigger price; nil when the order has none (a plain limit order).
    public var triggerPrice: Double?
    public var reduceOnly: Bool
    /// Closes the whole position when triggered, whatever its size.
    public var closePosition: Bool
    /// Exchange time (ms) of the order's last change.
    public var updateTime: Int64

    public init(
        service: OrderService, id: Int64, symbol: String, side: String, positionSide: String, type: String, quantity: Double,
        triggerPrice: Double?, reduceOnly: Bool, closePosition: Bool, updateTime: Int64
    ) {
        self.service = service
        self.id = id
        self.symbol = symbol
        self.side = side
        self.positionSide = positionSide
        self.type = type
        self.quantity = quantity
        self.triggerPrice = triggerPrice
        self.reduceOnly = reduceOnly
        self.closePosition = closePosition
        self.updateTime = updateTime
    }

    /// Triggered by the mark or last price rather than resting on the book: the orders that can
    /// protect a position.
    public var isConditional: Bool { OrderTypes.conditional.contains(type) }

    /// A stop that follows the price (always a stop loss, wherever its activation price is).
    public var isTrailing: Bool { type == "TRAILING_STOP_MARKET" }

    /// A stop-loss type by name (`STOP`, `STOP_MARKET`, trailing); the rest are take profits.
    public var isStopType: Bool { type == "STOP" || type == "STOP_MARKET" || isTrailing }
}

/// Binance's conditional order types (the ones the Algo service holds).
public enum OrderTypes {
    public static let conditional: Set<String> = ["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
}

/// The order statuses that leave an order open (on the book, or armed for algo orders).
public enum OrderStatuses {
    /// Plain orders: `X` of `ORDER_TRADE_UPDATE`, `status` of `openOrders`.
    public static let openPlain: Set<String> = ["NEW", "PARTIALLY_FILLED"]
    /// Algo orders: `X` of `ALGO_UPDATE`, `algoStatus` of `openAlgoOrders`. Once TRIGGERING the
    /// algo order becomes a plain order, which is counted in its place.
    public static let openAlgo: Set<String> = ["NEW"]
}
