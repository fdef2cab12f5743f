extension FuturesVenue {
    /// A venue's user data stream host and how listen keys reach it.
    public struct UserStream: Sendable, Hashable {
        /// The stream base (`--binance.stream-url`'s default), under which `layout` puts the path.
        public var endpoint: EndpointURLs
        /// One combined connection for every listen key, or one connection per key.
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
}
