import BinanceWebSocketAPI

/// The families only a Portfolio Margin account has (SPEC §12): its one risk number, its equity,
/// Binance's verdict, and per asset its cross-margin loans and the UM and CM wallets.
extension MetricCatalog {
    private static let pmAccount = FuturesVenue.portfolioMargin.portfolioMarginAPI!.account.name
    private static let pmBalance = FuturesVenue.portfolioMargin.portfolioMarginAPI!.balance.name

    public static let accountUniMMR = gauge(
        "account_uni_mmr",
        "Portfolio Margin unified maintenance margin ratio (uniMMR: account equity ÷ maintenance margin, \(pmAccount)). Above 1.5 trade freely; 1.2-1.5 margin call; 1.05-1.2 reduce-only; at or below 1.05 the whole account is liquidated."
            + cached, account)
    public static let accountEquityUSD = gauge(
        "account_equity_usd",
        "Portfolio Margin account equity in USD by kind: account (with collateral haircuts, what uniMMR uses), actual (without)."
            + cached, ["account", "kind"])
    public static let accountStatus = gauge(
        "account_status",
        "Portfolio Margin account status as a state set: 1 for Binance's current accountStatus (normal, margin_call, supply_margin, reduce_only, active_liquidation, force_liquidation, bankrupted), 0 for the others."
            + cached, ["account", "status"])
    public static let accountMarginOpenLoss = gauge(
        "account_margin_open_loss_usd",
        "Portfolio Margin: loss of open orders counted against margin, USD (totalMarginOpenLoss)." + cached, account)

    static func pmAssetGauge(_ name: String, _ what: String) -> MetricDefinition {
        gauge("asset_" + name, what + ", in units of the asset (Portfolio Margin, \(pmBalance))." + cached, asset)
    }
    public static let assetCrossMarginFree = pmAssetGauge("cross_margin_free", "Cross margin: free")
    public static let assetCrossMarginLocked = pmAssetGauge("cross_margin_locked", "Cross margin: locked")
    public static let assetCrossMarginBorrowed = pmAssetGauge("cross_margin_borrowed", "Cross margin: borrowed (the loan)")
    public static let assetCrossMarginInterest = pmAssetGauge("cross_margin_interest", "Cross margin: interest owed on the loan")
    public static let assetUMWalletBalance = pmAssetGauge("um_wallet_balance", "USDⓈ-M wallet balance")
    public static let assetUMUnrealizedProfit = pmAssetGauge("um_unrealized_profit", "USDⓈ-M unrealized PnL")
    public static let assetCMWalletBalance = pmAssetGauge("cm_wallet_balance", "COIN-M wallet balance")
    public static let assetCMUnrealizedProfit = pmAssetGauge("cm_unrealized_profit", "COIN-M unrealized PnL")
    public static let assetNegativeBalance = pmAssetGauge("negative_balance", "Negative balance")

    static let portfolioMarginFamilies: [MetricDefinition] = [
        accountUniMMR, accountEquityUSD, accountStatus, accountMarginOpenLoss, assetCrossMarginFree, assetCrossMarginLocked,
        assetCrossMarginBorrowed, assetCrossMarginInterest, assetUMWalletBalance, assetUMUnrealizedProfit, assetCMWalletBalance,
        assetCMUnrealizedProfit, assetNegativeBalance,
    ]
}
