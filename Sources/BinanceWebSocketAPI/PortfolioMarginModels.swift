/// What a Portfolio Margin account's `GET /papi/v1/account` says: one risk number for the
/// whole account (USDⓈ-M, COIN-M and cross margin), equity and margins in USD, and Binance's
/// verdict on it.
public struct PortfolioMarginAccount: Sendable, Equatable {
    /// Unified maintenance margin ratio: account equity ÷ maintenance margin. Above 1.5 the
    /// account trades freely; 1.2–1.5 margin call; 1.05–1.2 reduce-only; ≤ 1.05 liquidation.
    public var uniMMR: Double
    /// Equity with collateral haircuts (USD): what uniMMR is computed from.
    public var accountEquity: Double
    /// Equity without haircuts (USD).
    public var actualEquity: Double
    public var initialMargin: Double
    public var maintMargin: Double
    public var status: PortfolioMarginStatus
    /// `accountStatus` as Binance wrote it (a value this build does not know is kept here).
    public var statusText: String
    public var virtualMaxWithdrawAmount: Double
    public var totalAvailableBalance: Double
    /// Loss of open orders counted against margin (USD).
    public var totalMarginOpenLoss: Double
    public var updateTime: Int64

    public init(
        uniMMR: Double, accountEquity: Double, actualEquity: Double, initialMargin: Double, maintMargin: Double,
        statusText: String, virtualMaxWithdrawAmount: Double, totalAvailableBalance: Double, totalMarginOpenLoss: Double,
        updateTime: Int64
    ) {
        self.uniMMR = uniMMR
        self.accountEquity = accountEquity
        self.actualEquity = actualEquity
        self.initialMargin = initialMargin
        self.maintMargin = maintMargin
        self.statusText = statusText
        self.status = PortfolioMarginStatus(binanceName: statusText)
        self.virtualMaxWithdrawAmount = virtualMaxWithdrawAmount
        self.totalAvailableBalance = totalAvailableBalance
        self.totalMarginOpenLoss = totalMarginOpenLoss
        self.updateTime = updateTime
    }
}

extension PortfolioMarginAccount {
    /// What a `riskLevelChange` says, at once: uniMMR, the level as the status, and equity and
    /// maintenance margin where the event carries them.
    public mutating func apply(_ change: RiskLevelChange) {
        uniMMR = change.uniMMR
        statusText = change.level
        status = PortfolioMarginStatus(binanceName: change.level)
        if let equity = change.accountEquity { accountEquity = equity }
        if let equity = change.actualEquity { actualEquity = equity }
        if let maint = change.maintMargin { maintMargin = maint }
        updateTime = max(updateTime, change.eventTime)
    }
}

/// `accountStatus` of a PM account, and the state set `binance_futures_account_status` exports.
public enum PortfolioMarginStatus: String, Sendable, CaseIterable {
    case normal = "NORMAL"
    case marginCall = "MARGIN_CALL"
    case supplyMargin = "SUPPLY_MARGIN"
    case reduceOnly = "REDUCE_ONLY"
    case activeLiquidation = "ACTIVE_LIQUIDATION"
    case forceLiquidation = "FORCE_LIQUIDATION"
    case bankrupted = "BANKRUPTED"
    /// A status Binance added after this build: no state of the set is 1.
    case unknown = ""

    public init(binanceName: String) { self = Self(rawValue: binanceName.uppercased()) ?? .unknown }

    /// The `status` label value (lower case).
    public var label: String { rawValue.lowercased() }

    /// The documented states, in order of severity.
    public static var documented: [PortfolioMarginStatus] { allCases.filter { $0 != .unknown } }
}

/// One asset of `GET /papi/v1/balance`, in units of the asset.
public struct PortfolioMarginBalance: Sendable, Equatable {
    public var asset: String
    public var totalWalletBalance: Double
    public var crossMarginFree: Double
    public var crossMarginLocked: Double
    public var crossMarginBorrowed: Double
    public var crossMarginInterest: Double
    public var umWalletBalance: Double
    public var umUnrealizedProfit: Double
    public var cmWalletBalance: Double
    public var cmUnrealizedProfit: Double
    public var negativeBalance: Double
    public var updateTime: Int64
}

/// A PM account as one poll reads it: the account and its balances (the positions travel as
/// `PositionDetail` rows, UM and CM).
public struct PortfolioMarginSnapshot: Sendable, Equatable {
    public var account: PortfolioMarginAccount
    public var balances: [PortfolioMarginBalance]

    public init(account: PortfolioMarginAccount, balances: [PortfolioMarginBalance]) {
        self.account = account
        self.balances = balances
    }
}
