extension FuturesVenue {
    /// A venue's public market stream host and the stream the exporter reads there.
    public struct MarketStream: Sendable, Hashable {
        public var endpoint: EndpointURLs
        /// The all-symbols mark price stream (`!markPrice@arr@1s` on USDⓈ-M), subscribed on the
        /// combined-stream path.
        public var allMarkPrices: String
        /// The `st` value of this venue's rows in that stream: the host may also carry another
        /// venue's symbols after Binance's migration, and those rows are dropped.
        public var rowTag: Int64
        /// Request weight of opening the connection (none on fstream: stream connections are
        /// limited by count, like the user stream's).
        public var handshakeWeight: Int64

        public init(endpoint: EndpointURLs, allMarkPrices: String, rowTag: Int64, handshakeWeight: Int64) {
            self.endpoint = endpoint
            self.allMarkPrices = allMarkPrices
            self.rowTag = rowTag
            self.handshakeWeight = handshakeWeight
        }
    }
}
