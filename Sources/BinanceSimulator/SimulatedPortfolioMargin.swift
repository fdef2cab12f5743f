/// What a Portfolio Margin account holds of one asset besides its cross-margin free balance
/// (`SimulatedAccount.wallets`), as `GET /papi/v1/balance` reports it per asset.
public struct SimulatedPortfolioMarginAsset: Sendable, Equatable {
    /// `crossMarginLocked`: cross-margin balance held by open margin orders.
    public var locked: Double
    /// `crossMarginBorrowed`: the loan's principal. The borrowed coins sit in the free balance,
    /// so a loan leaves equity unchanged until the price moves; the debt is subtracted from it.
    public var borrowed: Double
    /// `crossMarginInterest`: interest owed on the loan, a debt like the principal.
    public var interest: Double
    /// `umWalletBalance`: realized profit, fees and funding of the account's USDⓈ-M positions.
    public var umWallet: Double
    /// `cmWalletBalance`: realized profit, fees and funding of the account's COIN-M positions.
    public var cmWallet: Double

    public init(locked: Double = 0, borrowed: Double = 0, interest: Double = 0, umWallet: Double = 0, cmWallet: Double = 0) {
        self.locked = locked
        self.borrowed = borrowed
        self.interest = interest
        self.umWallet = umWallet
        self.cmWallet = cmWallet
    }
}

/// `accountStatus` of `GET /papi/v1/account`, with the raw values Binance sends.
public enum PortfolioMarginStatus: String, Sendable, CaseIterable {
    case normal = "NORMAL"
    case marginCall = "MARGIN_CALL"
    case supplyMargin = "SUPPLY_MARGIN"
    case reduceOnly = "REDUCE_ONLY"
    case activeLiquidation = "ACTIVE_LIQUIDATION"
    case forceLiquidation = "FORCE_LIQUIDATION"
    case bankrupted = "BANKRUPTED"

    /// Binance's uniMMR bands: above 1.5 normal; (1.2, 1.5] margin call; (1.05, 1.2] reduce
    /// only; 1.05 and below active liquidation. The other statuses are never derived: a test
    /// forces them (`ExchangeSimulator.forcePortfolioMarginStatus`).
    public init(uniMMR: Double) {
        if uniMMR > 1.5 {
            self = .normal
        } else if uniMMR > 1.2 {
            self = .marginCall
        } else if uniMMR > 1.05 {
            self = .reduceOnly
        } else {
            self = .activeLiquidation
        }
    }
}

extension SimulatedAccount {
    /// Books realized profit, a fee or funding of a position on `symbol`: into the wallet of a
    /// USDⓈ-M or COIN-M account, into the UM or CM wallet of a Portfolio Margin account (where
    /// Binance keeps futures results apart from the cross-margin balance).
    mutating func credit(_ amount: Double, asset: String, symbol: String, market: Market) {
        guard venue == .portfolioMargin else {
            wallets[asset, default: 0] += amount
            return
        }
        if market.coinMContract(symbol) == nil {
            portfolioMarginAssets[asset, default: SimulatedPortfolioMarginAsset()].umWallet += amount
        } else {
            portfolioMarginAssets[asset, default: SimulatedPortfolioMarginAsset()].cmWallet += amount
        }
    }
}
