/// One open order of a simulated account: a plain order (`orderId`, `GET /fapi/v1/openOrders`,
/// `ORDER_TRADE_UPDATE`) or, since 2025-12-09, a conditional order of the Algo service (`algoId`,
/// `GET /fapi/v1/openAlgoOrders`, `ALGO_UPDATE`).
public struct SimulatedOrder: Sendable, Equatable {
    /// Which book the order lives in.
    public enum Service: String, Sendable { case plain, algo }

    public var service: Service
    /// `orderId` (plain) or `algoId` (algo); assigned by `placeOrder`, 0 until then.
    public var id: Int64 = 0
    public var symbol: String
    /// `BUY` or `SELL`.
    public var side: String
    /// `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode.
    public var positionSide: String
    /// Binance's order type: `LIMIT`, `STOP_MARKET`, `TAKE_PROFIT_MARKET`, `TRAILING_STOP_MARKET`, …
    public var type: String
    /// Zero is allowed with `closePosition`.
    public var quantity: Double
    /// `stopPrice` (plain) or `triggerPrice` (algo); 0 for a plain LIMIT order.
    public var triggerPrice: Double
    public var price: Double
    public var reduceOnly: Bool
    public var closePosition: Bool

    public init(
        service: Service, symbol: String, side: String, positionSide: String = "BOTH", type: String, quantity: Double,
        triggerPrice: Double = 0, price: Double = 0, reduceOnly: Bool = false, closePosition: Bool = false
    ) {
        self.service = service
        self.symbol = symbol
        self.side = side
        self.positionSide = positionSide
        self.type = type
        self.quantity = quantity
        self.triggerPrice = triggerPrice
        self.price = price
        self.reduceOnly = reduceOnly
        self.closePosition = closePosition
    }

    /// The types that wait for a trigger price (the Algo service's types since 2025-12-09).
    public static let conditionalTypes: Set<String> = ["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
}

/// An order as the exchange's book holds it: the order and what Binance adds to it.
struct BookedOrder: Sendable {
    var order: SimulatedOrder
    /// `clientOrderId` / `clientAlgoId`.
    var clientID: String
    var createTime: Int64
    var updateTime: Int64
}

/// Orders: placed, cancelled and triggered by tests and the demo (the simulator has no order
/// entry API; Binance's would answer a conditional type on the plain service with −4120). Each
/// changes the book that `GET /fapi/v1/openOrders` and `GET /fapi/v1/openAlgoOrders` read and
/// pushes the events Binance pushes, through the same path as every other account event.
extension ExchangeSimulator {
    /// Places an order; `announce: false` places it without any stream event (a missed event,
    /// for reconcile tests). An order on a COIN-M symbol goes to the key's COIN-M account, as a
    /// plain order only (COIN-M lists conditional orders among the plain ones; an algo order
    /// there is refused). Returns the id, 0 for an unknown account or a refused order.
    @discardableResult
    public func placeOrder(apiKey: String, _ order: SimulatedOrder, announce: Bool = true) -> Int64 {
        let now = clock()
        let placed = state.withLockedValue { state -> (id: Int64, event: (type: String, json: String), accountID: String)? in
            let apiKey = state.accountID(apiKey, symbol: order.symbol)
            guard state.accounts[apiKey] != nil else { return nil }
            if SimulatedVenue(accountID: apiKey) == .coinM, order.service == .algo { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            state.serial += 1
            var booked = BookedOrder(order: order, clientID: "", createTime: now, updateTime: now)
            switch order.service {
            case .plain:
                booked.order.id = 8_000_000_000 + state.serial
                booked.clientID = "sim-\(state.serial)"
            case .algo:
                booked.order.id = 4_000_000 + state.serial
                booked.clientID = "simalgo-\(state.serial)"
            }
            state.orders[apiKey, default: []].append(booked)
            let portfolioMargin = state.portfolioMarginShape(apiKey, order.symbol)
            let event =
                order.service == .plain
                ? (
                    type: "ORDER_TRADE_UPDATE",
                    json: OrderFrames.orderUpdate(
                        booked, status: "NEW", coinM: state.coinMShape(apiKey, order.symbol), portfolioMargin: portfolioMargin, now: now)
                )
                : (
                    type: "ALGO_UPDATE",
                    json: OrderFrames.algoUpdate(
                        booked, OrderFrames.AlgoProgress(status: "NEW"), businessUnit: portfolioMargin?.businessUnit, now: now)
                )
            return (booked.order.id, event, apiKey)
        }
        guard let placed else { return 0 }
        if announce { deliver(accountID: placed.accountID, events: [placed.event]) }
        return placed.id
    }

    /// Cancels; emits `ORDER_TRADE_UPDATE` x=CANCELED X=CANCELED (plain) or `ALGO_UPDATE`
    /// X=CANCELED (algo) unless `announce` is false. The order is looked up on both of the
    /// key's accounts (ids are unique). False if unknown.
    @discardableResult
    public func cancelOrder(apiKey: String, service: SimulatedOrder.Service, id: Int64, announce: Bool = true) -> Bool {
        let now = clock()
        let event = state.withLockedValue { state -> (type: String, json: String, accountID: String)? in
            let accountIDs = SimulatedVenue.allCases.map { $0.accountID(apiKey) }
            guard let accountID = accountIDs.first(where: { key in state.orders[key]?.contains { $0.order.id == id } ?? false }),
                var booked = state.removeOrder(apiKey: accountID, service: service, id: id)
            else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            booked.updateTime = now
            let coinM = state.coinMShape(accountID, booked.order.symbol)
            let portfolioMargin = state.portfolioMarginShape(accountID, booked.order.symbol)
            return service == .plain
                ? (
                    type: "ORDER_TRADE_UPDATE",
                    json: OrderFrames.orderUpdate(booked, status: "CANCELED", coinM: coinM, portfolioMargin: portfolioMargin, now: now),
                    accountID: accountID
                )
                : (
                    type: "ALGO_UPDATE",
                    json: OrderFrames.algoUpdate(
                        booked, OrderFrames.AlgoProgress(status: "CANCELED"), businessUnit: portfolioMargin?.businessUnit, now: now),
                    accountID: accountID
                )
        }
        guard let event else { return false }
        if announce { deliver(accountID: event.accountID, events: [(type: event.type, json: event.json)]) }
        return true
    }

    /// An algo order triggers: `ALGO_UPDATE` X=TRIGGERING then TRIGGERED (with `ai` = the new plain
    /// order id), then the resulting MARKET order's `ORDER_TRADE_UPDATE` NEW and FILLED (with the
    /// position change, like `fill`), then `ALGO_UPDATE` X=FINISHED. It leaves the open algo
    /// orders. A reduce-only or close-position order with nothing left to close ends EXPIRED.
    /// False if unknown.
    @discardableResult
    public func triggerAlgoOrder(apiKey: String, id: Int64) -> Bool {
        let now = clock()
        let triggered = state.withLockedValue { state -> (events: [(type: String, json: String)], fill: TriggeredFill?)? in
            guard var booked = state.removeOrder(apiKey: apiKey, service: .algo, id: id) else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            let order = booked.order
            booked.updateTime = now
            var progress = OrderFrames.AlgoProgress(status: "TRIGGERING", triggerTime: now)
            let portfolioMargin = state.portfolioMarginShape(apiKey, order.symbol)
            let unit = portfolioMargin?.businessUnit
            var events = [(type: "ALGO_UPDATE", json: OrderFrames.algoUpdate(booked, progress, businessUnit: unit, now: now))]
            let quantity = state.closableQuantity(apiKey: apiKey, order)
            guard quantity > 0 else {
                progress.status = "EXPIRED"
                progress.reason = "ReduceOnly Order is rejected."
                events.append((type: "ALGO_UPDATE", json: OrderFrames.algoUpdate(booked, progress, businessUnit: unit, now: now)))
                return (events, nil)
            }
            state.serial += 1
            var child = BookedOrder(
                order: order, clientID: booked.clientID, createTime: now, updateTime: now)
            child.order.service = .plain
            child.order.id = 8_000_000_000 + state.serial
            child.order.quantity = quantity
            progress.status = "TRIGGERED"
            progress.actualOrderID = String(child.order.id)
            progress.actualType = "MARKET"
            events.append((type: "ALGO_UPDATE", json: OrderFrames.algoUpdate(booked, progress, businessUnit: unit, now: now)))
            events.append(
                (
                    type: "ORDER_TRADE_UPDATE",
                    json: OrderFrames.orderUpdate(child, status: "NEW", marketChild: true, portfolioMargin: portfolioMargin, now: now)
                ))
            let fill = TriggeredFill(order: child, algo: booked, progress: progress, mark: state.market.price(order.symbol))
            return (events, fill)
        }
        guard let triggered else { return false }
        deliver(accountID: apiKey, events: triggered.events)
        guard let fill = triggered.fill else { return true }
        let order = fill.order.order
        trade(
            accountID: apiKey, symbol: order.symbol, side: order.side, quantity: order.quantity, price: fill.mark,
            positionSide: order.positionSide, maker: false,
            context: UserEventFrames.OrderContext(
                orderID: order.id, clientOrderID: fill.order.clientID, originalType: order.type, stopPrice: order.triggerPrice,
                reduceOnly: order.reduceOnly, closePosition: order.closePosition))
        let finished = state.withLockedValue { state -> String in
            var progress = fill.progress
            progress.status = "FINISHED"
            progress.averagePrice = fill.mark
            progress.executedQuantity = order.quantity
            return OrderFrames.algoUpdate(
                fill.algo, progress, businessUnit: state.portfolioMarginShape(apiKey, order.symbol)?.businessUnit,
                now: now + state.faults.clockSkewMilliseconds)
        }
        deliver(accountID: apiKey, events: [(type: "ALGO_UPDATE", json: finished)])
        return true
    }

    /// The account's open orders, plain and algo, in the order they were placed. `venue` nil:
    /// the key's USDⓈ-M account, or its COIN-M account when it has only that.
    public func openOrders(apiKey: String, venue: SimulatedVenue? = nil) -> [SimulatedOrder] {
        state.withLockedValue { $0.orders[$0.accountID(apiKey, venue)]?.map(\.order) ?? [] }
    }

    /// The liquidation price of one leg as the simulator values it (0: none, or no such leg):
    /// where a demo or test puts a stop that can still work.
    public func liquidationPrice(apiKey: String, symbol: String, positionSide: String = "BOTH") -> Double {
        state.withLockedValue { state in
            guard let account = state.accounts[state.accountID(apiKey, symbol: symbol)] else { return 0 }
            let book = AccountBook(account: account, market: state.market)
            return book.legs.first { $0.position.symbol == symbol && $0.position.side == positionSide }?.liquidationPrice ?? 0
        }
    }

    /// The API keys of every simulated account, sorted (a key with accounts on both venues once).
    public var accountKeys: [String] { state.withLockedValue { Set($0.accounts.values.map(\.apiKey)).sorted() } }

    /// The API keys of the accounts on `venue`, sorted.
    public func accountKeys(venue: SimulatedVenue) -> [String] {
        state.withLockedValue { $0.accounts.values.filter { $0.venue == venue }.map(\.apiKey).sorted() }
    }
}

/// What `triggerAlgoOrder` carries from the trigger to the fill and the final `ALGO_UPDATE`.
private struct TriggeredFill {
    var order: BookedOrder
    var algo: BookedOrder
    var progress: OrderFrames.AlgoProgress
    var mark: Double
}

extension ExchangeState {
    /// The COIN-M event shape for an account ID and symbol (nil: a USDⓈ-M account).
    func coinMShape(_ accountID: String, _ symbol: String) -> UserEventFrames.CoinMShape? {
        guard let account = accounts[accountID], account.venue == .coinM else { return nil }
        return UserEventFrames.CoinMShape(accountAlias: account.accountAlias, marginAsset: market.marginAsset(of: symbol))
    }

    /// The Portfolio Margin event shape for an account ID and symbol: `UM` for a USDⓈ-M symbol,
    /// `CM` for a COIN-M one (nil: not a Portfolio Margin account).
    func portfolioMarginShape(_ accountID: String, _ symbol: String) -> UserEventFrames.PortfolioMarginShape? {
        guard let account = accounts[accountID], account.venue == .portfolioMargin else { return nil }
        return UserEventFrames.PortfolioMarginShape(
            businessUnit: market.coinMContract(symbol) == nil ? "UM" : "CM", accountAlias: account.accountAlias)
    }

    mutating func removeOrder(apiKey: String, service: SimulatedOrder.Service, id: Int64) -> BookedOrder? {
        guard let index = orders[apiKey]?.firstIndex(where: { $0.order.service == service && $0.order.id == id }) else { return nil }
        return orders[apiKey]?.remove(at: index)
    }

    /// How much a triggered order trades: all of its quantity, or for a reduce-only or
    /// close-position order what is left of the leg it closes (0: nothing).
    func closableQuantity(apiKey: String, _ order: SimulatedOrder) -> Double {
        guard order.reduceOnly || order.closePosition else { return order.quantity }
        let amount = accounts[apiKey]?.positions.first { $0.symbol == order.symbol && $0.side == order.positionSide }?.amount ?? 0
        // A SELL closes a long leg, a BUY a short one.
        guard (order.side == "SELL" && amount > 0) || (order.side == "BUY" && amount < 0) else { return 0 }
        return order.closePosition ? abs(amount) : min(order.quantity, abs(amount))
    }
}
