extension FuturesVenue {
    /// A venue's user data stream host and how listen keys reach it.
    public struct UserStream: Sendable, Hashable {
        public var endpoint: EndpointURLs
        public var layout: StreamLayout
        /// Request weight of opening a stream connection: Binance limits stream connections by
        /// count (300 per 5 minutes per IP), not by request weight. The handshake still goes
        /// through the scheduler, so bans and `Retry-After` hold it back.
        public var handshakeWeight: Int64
        /// The event names the venue documents; any other name is counted as `other`.
        public var events: [UserDataEventKind]

        public init(endpoint: EndpointURLs, layout: StreamLayout, handshakeWeight: Int64, events: [UserDataEventKind]) {
            self.endpoint = endpoint
            self.layout = layout
            self.handshakeWeight = handshakeWeight
            self.events = events
        }

        /// The kind of the event named `name`, as this venue counts it: `other` for a name it
        /// does not document.
        public func eventKind(named name: String) -> UserDataEventKind {
            let kind = UserDataEventKind(binanceName: name)
            return events.contains(kind) ? kind : .other
        }
    }

    /// A venue's public market stream host and the stream the exporter reads there.
    public struct MarketStream: Sendable, Hashable {
        public var endpoint: EndpointURLs
        /// The all-symbols mark price stream (`!markPrice@arr@1s` on USDⓈ-M), subscribed on the
        /// combined-stream path.
        public var allMarkPrices: String
        /// The `st` value of this venue's rows in that stream: the host may also carry another
        /// venue's symbols after Binance's migration, and those rows are dropped.
        public var rowTag: Int64
        public var handshakeWeight: Int64

        public init(endpoint: EndpointURLs, allMarkPrices: String, rowTag: Int64, handshakeWeight: Int64) {
            self.endpoint = endpoint
            self.allMarkPrices = allMarkPrices
            self.rowTag = rowTag
            self.handshakeWeight = handshakeWeight
        }
    }
}
