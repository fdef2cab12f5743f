extension FuturesVenue {
    /// A venue's WebSocket API (ws-fapi, ws-dapi): where it is, what a connection costs, and
    /// which methods it offers at which documented weight. Method names are the same on every
    /// venue (`BinanceMethod`); which of them exist and what they cost is the venue's.
    public struct WebSocketAPI: Sendable, Hashable {
        /// The API's URL (`--binance.ws-url`'s default).
        public var endpoint: EndpointURLs
        /// Request weight of opening a connection (the WebSocket handshake).
        public var handshakeWeight: Int64
        /// The weight Binance documents for each method the venue offers: what a caller budgets
        /// until it has measured the real cost (the change in `rateLimits.count`).
        public var assumedWeights: [BinanceMethod: Int64]

        public init(endpoint: EndpointURLs, handshakeWeight: Int64, assumedWeights: [BinanceMethod: Int64]) {
            self.endpoint = endpoint
            self.handshakeWeight = handshakeWeight
            self.assumedWeights = assumedWeights
        }

        /// The methods the venue offers.
        public var methods: Set<BinanceMethod> { Set(assumedWeights.keys) }

        /// The weight to assume for `method` until measured. A method the venue does not list is
        /// priced at the highest weight it lists: over-budgeting defers a poll, under-budgeting
        /// risks the IP's ban.
        public func assumedWeight(of method: BinanceMethod) -> Int64 {
            assumedWeights[method] ?? assumedWeights.values.max() ?? handshakeWeight
        }
    }
}
