/// The collateral rates a Portfolio Margin account's equity is valued with.
extension Market {
    /// Stablecoins count in full, the large coins at 95 % (Binance's published tier-1 rates are
    /// in this range; the simulator keeps them round so tests can compute equity by hand).
    public static let standardCollateralRates: [String: Double] = [
        "USDT": 1, "USDC": 1, "FDUSD": 1, "BTC": 0.95, "ETH": 0.95, "BNB": 0.95,
    ]

    /// What an asset without a listed rate counts for.
    public static let defaultCollateralRate = 0.9

    /// The share of a positive holding of `asset` that counts toward `accountEquity`.
    public func collateralRate(of asset: String) -> Double { collateralRates[asset] ?? Self.defaultCollateralRate }
}
