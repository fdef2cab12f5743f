import BinanceWebSocketAPI

/// An account's open orders, plain and algo: kept current by `ORDER_TRADE_UPDATE` and
/// `ALGO_UPDATE`, and replaced by the REST lists at every reconcile, so a missed event is
/// corrected. Unknown (`isKnown` false) until the first list was read: before that the absence
/// of a stop says nothing, and nothing about protection is exported.
public struct OrderBook: Sendable {
    struct Key: Hashable, Sendable {
        var service: OrderService
        var id: Int64
    }

    /// A bound against a peer that reports endless orders; Binance allows 200 per symbol.
    static let capacity = 10_000

    private(set) var orders: [Key: OpenOrder] = [:]
    /// True once a REST snapshot was applied.
    public private(set) var isKnown = false
    /// Order events with the local time they arrived: a snapshot whose read started before one
    /// of them is older than it, so they are applied again on top of the snapshot (they carry the
    /// order's whole state, so applying twice is harmless).
    private var recent: [(receivedAt: Double, order: OrderChange)] = []

    public init() {}

    /// One order's new state: open (`order`) or gone.
    struct OrderChange: Sendable {
        var key: Key
        var order: OpenOrder?
    }

    /// Every open order, in no particular order.
    public var openOrders: some Collection<OpenOrder> { orders.values }

    /// Applies an order event (other events are ignored). `now`: local Unix seconds.
    public mutating func apply(_ event: UserDataEvent, now: Double) {
        let change: OrderChange
        switch event {
        case .orderTradeUpdate(let update):
            change = OrderChange(key: Key(service: .plain, id: update.orderID), order: update.openOrder)
        case .algoUpdate(let update):
            change = OrderChange(key: Key(service: .algo, id: update.order.id), order: update.openOrder)
        default:
            return
        }
        apply(change)
        recent.append((now, change))
        if recent.count > 1024 { recent.removeFirst(recent.count - 1024) }
    }

    /// Replaces the orders of `snapshot.symbols` (every symbol when nil) and services by the
    /// lists read from REST; events that arrived since the read started are applied again.
    public mutating func reconcile(_ snapshot: OrderSnapshot) {
        orders = orders.filter { key, order in
            !snapshot.services.contains(key.service) || !(snapshot.symbols.map { $0.contains(order.symbol) } ?? true)
        }
        for order in snapshot.orders where orders.count < Self.capacity {
            orders[Key(service: order.service, id: order.id)] = order
        }
        recent.removeAll { $0.receivedAt < snapshot.startedAt }
        for (_, change) in recent { apply(change) }
        isKnown = true
    }

    private mutating func apply(_ change: OrderChange) {
        if let order = change.order {
            if orders[change.key] != nil || orders.count < Self.capacity { orders[change.key] = order }
        } else {
            orders.removeValue(forKey: change.key)
        }
    }

    /// Open orders by symbol and lower-case type (`binance_futures_open_orders`).
    public var countsBySymbolAndType: [SymbolType: Int] {
        var counts: [SymbolType: Int] = [:]
        for order in orders.values { counts[SymbolType(symbol: order.symbol, type: order.type.lowercased()), default: 0] += 1 }
        return counts
    }

    public struct SymbolType: Hashable, Sendable {
        public var symbol: String
        public var type: String
    }
}

/// What one reconcile read: the open orders of some symbols (or all), from both services.
public struct OrderSnapshot: Sendable, Equatable {
    /// The symbols the lists covered; nil: every symbol.
    public var symbols: Set<String>?
    /// The services read (a venue without algo orders reads only plain ones).
    public var services: Set<OrderService>
    public var orders: [OpenOrder]
    /// Local Unix seconds when the first list was requested.
    public var startedAt: Double

    public init(symbols: Set<String>?, services: Set<OrderService>, orders: [OpenOrder], startedAt: Double) {
        self.symbols = symbols
        self.services = services
        self.orders = orders
        self.startedAt = startedAt
    }
}
