import Crypto
import _CryptoExtras

/// How a simulated account authenticates. The simulator holds only what Binance holds: the
/// HMAC secret, or the public half of an Ed25519 / RSA key.
public enum SimulatedKey: @unchecked Sendable {
    case hmac(secret: String)
    case ed25519(publicKey: Curve25519.Signing.PublicKey)
    case rsa(publicKey: _RSA.Signing.PublicKey)

    var allowsSessionLogon: Bool {
        if case .ed25519 = self { return true }
        return false
    }
}

/// One position leg held by a simulated account.
public struct SimulatedPosition: Sendable, Equatable {
    public var symbol: String
    /// `BOTH` in one-way mode, `LONG` / `SHORT` in hedge mode.
    public var side: String
    /// Signed in one-way mode; `LONG` positive and `SHORT` negative in hedge mode.
    public var amount: Double
    public var entryPrice: Double
    public var leverage: Double
    public var isolated: Bool
    public var openOrderInitialMargin: Double
    public var updateTime: Int64

    public init(
        symbol: String, side: String = "BOTH", amount: Double, entryPrice: Double, leverage: Double = 10,
        isolated: Bool = false, openOrderInitialMargin: Double = 0, updateTime: Int64 = 1_700_000_000_000
    ) {
        self.symbol = symbol
        self.side = side
        self.amount = amount
        self.entryPrice = entryPrice
        self.leverage = leverage
        self.isolated = isolated
        self.openOrderInitialMargin = openOrderInitialMargin
        self.updateTime = updateTime
    }
}

/// Which futures venue an account lives on. One API key may hold an account on each: the
/// endpoint asked (ws-fapi, fapi, fstream or ws-dapi, dapi, dstream, or papi) picks the account.
public enum SimulatedVenue: String, Sendable, Hashable, CaseIterable {
    /// USDⓈ-M: ws-fapi, fapi REST, fstream.
    case usdM = "usd-m"
    /// COIN-M: ws-dapi, dapi REST, dstream; margin per coin, positions in contracts.
    case coinM = "coin-m"
    /// Portfolio Margin: papi REST only; one account holds USDⓈ-M and COIN-M positions against
    /// wallets per asset, valued together in USD (uniMMR). Its key is refused everywhere else.
    case portfolioMargin = "portfolio-margin"

    /// The key the exchange state files the account under: the API key for USDⓈ-M, the API key
    /// with a prefix for COIN-M and Portfolio Margin (so that one key can hold each).
    func accountID(_ apiKey: String) -> String {
        switch self {
        case .usdM: apiKey
        case .coinM: Self.coinMPrefix + apiKey
        case .portfolioMargin: Self.portfolioMarginPrefix + apiKey
        }
    }

    static let coinMPrefix = "coin-m:"
    static let portfolioMarginPrefix = "pm:"

    /// The venue of an account ID made by `accountID`.
    init(accountID: String) {
        if accountID.hasPrefix(Self.coinMPrefix) {
            self = .coinM
        } else if accountID.hasPrefix(Self.portfolioMarginPrefix) {
            self = .portfolioMargin
        } else {
            self = .usdM
        }
    }

    /// The API key of an account ID made by `accountID`.
    static func apiKey(ofAccountID id: String) -> String {
        for prefix in [coinMPrefix, portfolioMarginPrefix] where id.hasPrefix(prefix) { return String(id.dropFirst(prefix.count)) }
        return id
    }
}

/// A futures account as the simulated exchange keeps it.
public struct SimulatedAccount: Sendable {
    public var apiKey: String
    /// USDⓈ-M (the default), COIN-M or Portfolio Margin. A COIN-M account's `wallets` are per coin
    /// (`BTC`, `ETH`), its positions are on COIN-M symbols (`BTCUSD_PERP`) with `amount` in
    /// contracts. A Portfolio Margin account's `wallets` are the cross-margin free balance per
    /// asset (`USDT`, `BTC`), its positions on either kind of symbol (USDⓈ-M amounts in base
    /// units, COIN-M amounts in contracts).
    public var venue: SimulatedVenue
    /// The account alias Binance puts in COIN-M events (`i`) and balance rows (`accountAlias`).
    public var accountAlias: String
    public var key: SimulatedKey
    public var multiAssetsMargin: Bool
    public var hedgeMode: Bool
    /// Wallet balance per asset, in the asset's units.
    public var wallets: [String: Double]
    public var positions: [SimulatedPosition]
    public var feeTier: Int = 0
    public var canTrade = true
    public var canDeposit = true
    public var canWithdraw = true
    public var revoked = false
    /// What the key may do (`/sapi/v1/account/apiRestrictions`); read-only and IP-bound by default.
    public var restrictions = SimulatedRestrictions()
    /// Portfolio Margin only: per asset, what the account holds besides the cross-margin free
    /// balance in `wallets` (locked margin, loans, the UM and CM wallets).
    public var portfolioMarginAssets: [String: SimulatedPortfolioMarginAsset] = [:]
    /// Portfolio Margin only: the `accountStatus` to report whatever uniMMR says (Binance's
    /// `SUPPLY_MARGIN`, `FORCE_LIQUIDATION`, `BANKRUPTED` come from its risk engine, not the bands).
    public var forcedPortfolioMarginStatus: PortfolioMarginStatus?

    public init(
        apiKey: String, key: SimulatedKey, multiAssetsMargin: Bool = false, hedgeMode: Bool = false,
        wallets: [String: Double] = ["USDT": 10_000], positions: [SimulatedPosition] = [], venue: SimulatedVenue = .usdM
    ) {
        self.apiKey = apiKey
        self.venue = venue
        self.accountAlias = Self.alias(for: apiKey)
        self.key = key
        self.multiAssetsMargin = multiAssetsMargin
        self.hedgeMode = hedgeMode
        self.wallets = wallets
        self.positions = positions
    }
}

extension SimulatedAccount {
    /// A stable four-letter alias from the API key (not a part of it): Binance's aliases look
    /// like `SgsR`.
    static func alias(for apiKey: String) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in apiKey.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return String((0..<4).map { index in letters[Int((hash >> (UInt64(index) * 8)) % UInt64(letters.count))] })
    }
}
