/// Which `account.status` generation produced a result: v1 carries flags, leverage and margin
/// type for every symbol; v2 carries open positions only and no configuration fields.
public enum MethodVersion: String, Sendable {
    case v1
    case v2
}

/// Account-wide totals. Single-asset mode: USDT only; multi-assets mode: USD value over assets.
public struct AccountTotals: Sendable, Equatable {
    public var walletBalance: Double
    public var unrealizedProfit: Double
    public var marginBalance: Double
    public var initialMargin: Double
    public var maintMargin: Double
    public var positionInitialMargin: Double
    public var openOrderInitialMargin: Double
    public var crossWalletBalance: Double
    public var crossUnrealizedProfit: Double
    public var availableBalance: Double
    public var maxWithdrawAmount: Double

    public init(
        walletBalance: Double, unrealizedProfit: Double, marginBalance: Double, initialMargin: Double,
        maintMargin: Double, positionInitialMargin: Double, openOrderInitialMargin: Double,
        crossWalletBalance: Double, crossUnrealizedProfit: Double, availableBalance: Double, maxWithdrawAmount: Double
    ) {
        self.walletBalance = walletBalance
        self.unrealizedProfit = unrealizedProfit
        self.marginBalance = marginBalance
        self.initialMargin = initialMargin
        self.maintMargin = maintMargin
        self.positionInitialMargin = positionInitialMargin
        self.openOrderInitialMargin = openOrderInitialMargin
        self.crossWalletBalance = crossWalletBalance
        self.crossUnrealizedProfit = crossUnrealizedProfit
        self.availableBalance = availableBalance
        self.maxWithdrawAmount = maxWithdrawAmount
    }
}

/// Flags only v1 `account.status` reports.
public struct AccountFlags: Sendable, Equatable {
    public var feeTier: Int64
    public var canTrade: Bool
    public var canDeposit: Bool
    public var canWithdraw: Bool
    /// Nil where the venue has no such mode (COIN-M).
    public var multiAssetsMargin: Bool?
}

/// One `assets[]` row, in the asset's own units.
public struct AssetBalance: Sendable, Equatable {
    public var asset: String
    public var walletBalance: Double
    public var unrealizedProfit: Double
    public var marginBalance: Double
    public var maintMargin: Double
    public var initialMargin: Double
    public var positionInitialMargin: Double
    public var openOrderInitialMargin: Double
    public var crossWalletBalance: Double
    public var crossUnrealizedProfit: Double
    public var availableBalance: Double
    public var maxWithdrawAmount: Double
    public var marginAvailable: Bool?
    public var updateTime: Int64
}

/// One `positions[]` row of `account.status` (v1: every symbol; v2: open ones only).
public struct StatusPosition: Sendable, Equatable {
    public var symbol: String
    public var positionSide: String
    public var positionAmount: Double
    public var unrealizedProfit: Double
    public var initialMargin: Double
    public var maintMargin: Double
    public var positionInitialMargin: Double?
    public var openOrderInitialMargin: Double?
    public var leverage: Double?
    public var isolated: Bool?
    public var entryPrice: Double?
    public var breakEvenPrice: Double?
    public var maxNotional: Double?
    public var notional: Double?
    public var isolatedWallet: Double?
    public var isolatedMargin: Double?
    public var updateTime: Int64

    public init(
        symbol: String, positionSide: String, positionAmount: Double, unrealizedProfit: Double, initialMargin: Double,
        maintMargin: Double, positionInitialMargin: Double? = nil, openOrderInitialMargin: Double? = nil, leverage: Double? = nil,
        isolated: Bool? = nil, entryPrice: Double? = nil, breakEvenPrice: Double? = nil, maxNotional: Double? = nil,
        notional: Double? = nil, isolatedWallet: Double? = nil, isolatedMargin: Double? = nil, updateTime: Int64
    ) {
        self.symbol = symbol
        self.positionSide = positionSide
        self.positionAmount = positionAmount
        self.unrealizedProfit = unrealizedProfit
        self.initialMargin = initialMargin
        self.maintMargin = maintMargin
        self.positionInitialMargin = positionInitialMargin
        self.openOrderInitialMargin = openOrderInitialMargin
        self.leverage = leverage
        self.isolated = isolated
        self.entryPrice = entryPrice
        self.breakEvenPrice = breakEvenPrice
        self.maxNotional = maxNotional
        self.notional = notional
        self.isolatedWallet = isolatedWallet
        self.isolatedMargin = isolatedMargin
        self.updateTime = updateTime
    }

    /// Open means a position or open orders: only these become series.
    public var isOpen: Bool { positionAmount != 0 || (openOrderInitialMargin ?? 0) != 0 }
}

/// The result of `account.status` or `v2/account.status`.
public struct AccountStatus: Sendable, Equatable {
    public var version: MethodVersion
    public var flags: AccountFlags?
    /// Account-wide totals; nil on a venue that has none (COIN-M margins per coin).
    public var totals: AccountTotals?
    public var assets: [AssetBalance]
    public var positions: [StatusPosition]
    /// A Portfolio Margin account's own numbers (uniMMR, equity, status, balances and loans);
    /// nil on the other venues.
    public var portfolioMargin: PortfolioMarginSnapshot? = nil

    public init(
        version: MethodVersion, flags: AccountFlags?, totals: AccountTotals?, assets: [AssetBalance], positions: [StatusPosition],
        portfolioMargin: PortfolioMarginSnapshot? = nil
    ) {
        self.version = version
        self.flags = flags
        self.totals = totals
        self.assets = assets
        self.positions = positions
        self.portfolioMargin = portfolioMargin
    }
}

/// One row of `account.position` / `v2/account.position`.
public struct PositionDetail: Sendable, Equatable {
    public var symbol: String
    public var positionSide: String
    public var positionAmount: Double
    public var entryPrice: Double
    public var breakEvenPrice: Double?
    public var markPrice: Double
    public var unrealizedProfit: Double
    public var liquidationPrice: Double
    public var isolatedMargin: Double
    public var notional: Double
    public var isolatedWallet: Double
    public var marginAsset: String?
    public var initialMargin: Double?
    public var maintMargin: Double?
    public var positionInitialMargin: Double?
    public var openOrderInitialMargin: Double?
    public var adl: Int64?
    public var leverage: Double?
    public var marginType: String?
    public var maxNotionalValue: Double?
    public var isAutoAddMargin: Bool?
    public var updateTime: Int64
    /// The amount is in contracts (a COIN-M leg, on a COIN-M or a Portfolio Margin account).
    public var inContracts: Bool = false

    /// `marginType` as a flag (Binance writes `isolated` or `cross`, in either case); nil when
    /// the row has no margin type (v2).
    public var isIsolated: Bool? { marginType.map { $0.lowercased() == "isolated" } }
}

/// One row of `account.balance` / `v2/account.balance`.
public struct BalanceEntry: Sendable, Equatable {
    public var accountAlias: String?
    public var asset: String
    public var balance: Double
    public var crossWalletBalance: Double
    public var crossUnrealizedProfit: Double
    public var availableBalance: Double
    public var maxWithdrawAmount: Double
    public var marginAvailable: Bool?
    public var updateTime: Int64
}

/// The result of `session.status` / `session.logon` / `session.logout`.
public struct SessionStatus: Sendable, Equatable {
    public var apiKey: String?
    public var authorizedSince: Int64?
    public var connectedSince: Int64?
    public var returnRateLimits: Bool?
    public var serverTime: Int64
}
