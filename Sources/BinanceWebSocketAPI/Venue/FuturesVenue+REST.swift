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

        public init(endpoint: EndpointURLs, income: RESTRoute, incomePageSize: Int, leverageBrackets: RESTRoute, serverTime: RESTRoute) {
            self.endpoint = endpoint
            self.income = income
            self.incomePageSize = incomePageSize
            self.leverageBrackets = leverageBrackets
            self.serverTime = serverTime
        }
    }
}
