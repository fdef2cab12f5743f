extension FuturesVenue {
    /// A venue's public market stream host and the streams the exporter reads there.
    public struct MarketStream: Sendable, Hashable {
        public var endpoint: EndpointURLs
        /// Which mark price streams to subscribe, on the combined-stream path.
        public var markPrices: MarkPriceStreams
        /// The `st` value of this venue's rows in those streams: the host may also carry another
        /// venue's symbols after Binance's migration, and those rows are dropped.
        public var rowTag: Int64
        /// Request weight of opening the connection (none on fstream: stream connections are
        /// limited by count, like the user stream's).
        public var handshakeWeight: Int64

        public init(endpoint: EndpointURLs, markPrices: MarkPriceStreams, rowTag: Int64, handshakeWeight: Int64) {
            self.endpoint = endpoint
            self.markPrices = markPrices
            self.rowTag = rowTag
            self.handshakeWeight = handshakeWeight
        }

        /// The all-symbols stream (`!markPrice@arr@1s`), or the USDⓈ-M one's name for a venue
        /// that has none (help texts).
        public var allMarkPrices: String {
            if case .allSymbols(let name) = markPrices { return name }
            return FuturesVenue.MarketStream.usdM.allMarkPrices
        }

        /// The streams that carry `symbols`' mark prices.
        public func streams(for symbols: Set<String>) -> Set<String> {
            switch markPrices {
            case .allSymbols(let name): [name]
            case .perPair(let suffix): Set(symbols.map { FuturesVenue.pair(of: $0).lowercased() + suffix })
            }
        }
    }

    /// How a venue publishes mark prices.
    public enum MarkPriceStreams: Sendable, Hashable {
        /// One stream with every symbol once a second (fstream's `!markPrice@arr@1s`).
        case allSymbols(String)
        /// One stream per pair, `<pair><suffix>` (dstream's `btcusd@markPrice@1s`: the perpetual and
        /// the dated contracts of the pair).
        case perPair(suffix: String)
    }

    /// The pair of a symbol: `BTCUSD` for `BTCUSD_PERP` and `BTCUSD_260925`; a USDⓈ-M symbol is its
    /// own pair.
    public static func pair(of symbol: String) -> String {
        symbol.firstIndex(of: "_").map { String(symbol[..<$0]) } ?? symbol
    }
}
