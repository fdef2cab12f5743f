import BinanceWebSocketAPI

/// How well one open position is protected by its conditional orders.
public struct PositionProtection: Sendable, Equatable {
    public var symbol: String
    public var positionSide: String
    /// Share (0–1) of the position that the stop-loss orders close when triggered.
    public var stopLoss: Double
    /// Share (0–1) of the position that the take-profit orders close when triggered.
    public var takeProfit: Double
    /// The stop-loss trigger nearest the mark (the first to fire); nil without one.
    public var stopPrice: Double?
}

/// The protection rule, pure. An order protects a position when it is conditional, on the
/// position's symbol, on the closing side (SELL closes a long, BUY a short) and closes rather
/// than opens: in hedge mode by its position side, in one-way mode by reduce-only or close-position.
/// Which kind it is follows from where it triggers: for a long, below the mark is a stop loss and
/// above it a take profit, mirrored for a short; a trailing stop is a stop loss; without a mark or
/// trigger price, the order type decides. A close-position order covers the whole position.
public enum Protection {
    /// One open position leg as protection sees it.
    public struct Position: Sendable {
        public var symbol: String
        public var positionSide: String
        /// Signed quantity: > 0 long, < 0 short (hedge mode: the side also says it).
        public var amount: Double
        public var markPrice: Double?

        public init(symbol: String, positionSide: String, amount: Double, markPrice: Double?) {
            self.symbol = symbol
            self.positionSide = positionSide
            self.amount = amount
            self.markPrice = markPrice
        }

        var isLong: Bool { positionSide == "SHORT" ? false : positionSide == "LONG" ? true : amount > 0 }
    }

    public static func evaluate(_ positions: [Position], orders: some Collection<OpenOrder>) -> [PositionProtection] {
        var bySymbol: [String: [OpenOrder]] = [:]
        for order in orders where order.isConditional { bySymbol[order.symbol, default: []].append(order) }
        return positions.compactMap { position in
            guard position.amount != 0, position.amount.isFinite else { return nil }
            return evaluate(position, candidates: bySymbol[position.symbol] ?? [])
        }
    }

    static func evaluate(_ position: Position, candidates: [OpenOrder]) -> PositionProtection {
        let size = abs(position.amount)
        let closingSide = position.isLong ? "SELL" : "BUY"
        var stopQuantity = 0.0
        var profitQuantity = 0.0
        var nearestStop: Double?
        for order in candidates where order.side == closingSide {
            let closes =
                position.positionSide == "BOTH"
                ? order.positionSide == "BOTH" && (order.reduceOnly || order.closePosition)
                : order.positionSide == position.positionSide
            guard closes else { continue }
            let quantity = order.closePosition ? size : order.quantity
            if isStopLoss(order, for: position) {
                stopQuantity += quantity
                if let trigger = order.triggerPrice, nearer(trigger, than: nearestStop, to: position) { nearestStop = trigger }
            } else {
                profitQuantity += quantity
            }
        }
        return PositionProtection(
            symbol: position.symbol, positionSide: position.positionSide, stopLoss: min(1, stopQuantity / size),
            takeProfit: min(1, profitQuantity / size), stopPrice: nearestStop)
    }

    static func isStopLoss(_ order: OpenOrder, for position: Position) -> Bool {
        if order.isTrailing { return true }
        guard let mark = position.markPrice, mark > 0, let trigger = order.triggerPrice, trigger != mark else {
            return order.isStopType
        }
        return position.isLong ? trigger < mark : trigger > mark
    }

    /// The stop that fires first: nearest the mark, or without a mark the highest stop of a long
    /// (the lowest of a short).
    static func nearer(_ trigger: Double, than current: Double?, to position: Position) -> Bool {
        guard let current else { return true }
        if let mark = position.markPrice, mark > 0 { return abs(trigger - mark) < abs(current - mark) }
        return position.isLong ? trigger > current : trigger < current
    }
}
