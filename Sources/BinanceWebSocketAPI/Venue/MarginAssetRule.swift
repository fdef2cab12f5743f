/// How a venue's symbol names tell which asset its margin and PnL are in. A rule rather than a
/// list, because venues differ in kind, not only in data: USDⓈ-M symbols end in their quote
/// asset (`BTCUSDT`, `ETHUSDC`), COIN-M symbols are margined in their base asset
/// (`BTCUSD_PERP` in BTC), which will be a case of its own.
public enum MarginAssetRule: Sendable, Hashable {
    /// The margin asset is the symbol's quote asset: the first of `quoteAssets` the symbol ends
    /// with, else `fallback`.
    case quoteSuffix(quoteAssets: [String], fallback: String)
    /// The margin asset is the base of the symbol's pair (`BTCUSD_PERP`, `ETHUSD_260925`: BTC,
    /// ETH): the pair with `quote` taken off its end. COIN-M accounts have no single settlement
    /// asset; `fallback` names the one account-wide values would use.
    case pairBase(quote: String, fallback: String)

    /// The asset `symbol`'s margin and realized PnL are settled in.
    public func marginAsset(of symbol: String) -> String {
        switch self {
        case .quoteSuffix(let quotes, let fallback):
            quotes.first { symbol.hasSuffix($0) } ?? fallback
        case .pairBase(let quote, let fallback):
            Self.base(ofPair: FuturesVenue.pair(of: symbol), quote: quote) ?? fallback
        }
    }

    /// The asset the account totals are in for a single-asset account (USDT on USDⓈ-M).
    public var defaultAsset: String {
        switch self {
        case .quoteSuffix(_, let fallback), .pairBase(_, let fallback): fallback
        }
    }

    static func base(ofPair pair: String, quote: String) -> String? {
        guard pair.hasSuffix(quote), pair.count > quote.count else { return nil }
        return String(pair.dropLast(quote.count))
    }
}
