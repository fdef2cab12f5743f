/// The simulated market: the listed symbols and their mark prices.
public struct Market: Sendable {
    public var markPrices: [String: Double]
    /// Listed symbols in listing order; v1 methods return one row per symbol (two in hedge mode).
    public var symbols: [String]

    /// A realistic default: a handful of real symbols plus `extraSymbols` synthetic ones, so that
    /// v1 answers can be made as large as the real exchange's (hundreds of rows).
    public static func standard(extraSymbols: Int = 20) -> Market {
        var prices: [String: Double] = [
            "BTCUSDT": 64_250.5, "ETHUSDT": 3_120.25, "SOLUSDT": 142.37, "BNBUSDT": 585.1, "XRPUSDT": 0.5231,
            "DOGEUSDT": 0.1234, "ADAUSDT": 0.4412, "BTCUSDC": 64_240.1, "ETHUSDC": 3_119.8, "LINKUSDT": 14.215,
        ]
        var symbols = prices.keys.sorted()
        for index in 0..<max(0, extraSymbols) {
            let symbol = "SYM\(index)USDT"
            prices[symbol] = 1 + Double(index % 97) * 1.25
            symbols.append(symbol)
        }
        return Market(markPrices: prices, symbols: symbols)
    }

    /// Funding rate per symbol (default 0.0001, Binance's usual base rate).
    public var fundingRates: [String: Double] = [:]

    public func price(_ symbol: String) -> Double { markPrices[symbol] ?? 1 }
    public func fundingRate(_ symbol: String) -> Double { fundingRates[symbol] ?? 0.0001 }

    /// The USD price of an asset, for multi-assets totals (stablecoins at 1).
    func usdPrice(of asset: String) -> Double {
        switch asset {
        case "USDT", "USDC", "FDUSD", "BUSD": return 1
        default: return markPrices["\(asset)USDT"] ?? 0
        }
    }
}
