extension FuturesVenue {
    /// A venue's signed REST API (fapi, dapi, papi) for what its WebSocket API lacks.
    public struct REST: Sendable, Hashable {
        /// The REST base (`--binance.rest-url`'s default).
        public var endpoint: EndpointURLs
        /// The income ledger; `weight` is per page.
        public var income: RESTRoute
        /// Rows per page of the income ledger (Binance's maximum `limit`).
        public var incomePageSize: Int
        /// Every symbol's maintenance-margin tiers for the account.
        public var leverageBrackets: RESTRoute
        /// Unsigned server time, for a clock offset without a WebSocket connection.
        public var serverTime: RESTRoute
        /// The open-order lists (the WebSocket API has none); nil for a venue without them.
        public var orderLists: OrderLists?
        /// Unsigned symbol facts (`contractSize`); nil where the exporter needs none (USDⓈ-M
        /// sizes positions in base units already).
        public var exchangeInfo: RESTRoute?

        public init(
            endpoint: EndpointURLs, income: RESTRoute, incomePageSize: Int, leverageBrackets: RESTRoute, serverTime: RESTRoute,
            orderLists: OrderLists? = nil, exchangeInfo: RESTRoute? = nil
        ) {
            self.exchangeInfo = exchangeInfo
            self.endpoint = endpoint
            self.income = income
            self.incomePageSize = incomePageSize
            self.leverageBrackets = leverageBrackets
            self.serverTime = serverTime
            self.orderLists = orderLists
        }
    }

    /// A venue's open plain orders and open algo (conditional) orders.
    public struct OrderLists: Sendable, Hashable {
        public var plain: OrderListRoute
        /// Nil on a venue whose conditional orders still rest among the plain ones.
        public var algo: OrderListRoute?

        public init(plain: OrderListRoute, algo: OrderListRoute?) {
            self.plain = plain
            self.algo = algo
        }

        public func list(_ service: OrderService) -> OrderListRoute? {
            switch service {
            case .plain: plain
            case .algo: algo
            }
        }

        /// The services this venue lists.
        public var services: [OrderService] { algo == nil ? [.plain] : [.plain, .algo] }
    }

    /// A list priced per call: cheap for one symbol, dear for all of them.
    public struct OrderListRoute: Sendable, Hashable {
        public var path: String
        public var weightPerSymbol: Int64
        public var weightAllSymbols: Int64

        public init(path: String, weightPerSymbol: Int64, weightAllSymbols: Int64) {
            self.path = path
            self.weightPerSymbol = weightPerSymbol
            self.weightAllSymbols = weightAllSymbols
        }

        /// The call for one symbol, or (nil) for every symbol, with its weight.
        public func route(symbol: String?) -> RESTRoute {
            RESTRoute(path: path, weight: symbol == nil ? weightAllSymbols : weightPerSymbol)
        }
    }
}
