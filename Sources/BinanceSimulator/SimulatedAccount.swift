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

/// A futures account as the simulated exchange keeps it.
public struct SimulatedAccount: Sendable {
    public var apiKey: String
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

    public init(
        apiKey: String, key: SimulatedKey, multiAssetsMargin: Bool = false, hedgeMode: Bool = false,
        wallets: [String: Double] = ["USDT": 10_000], positions: [SimulatedPosition] = []
    ) {
        self.apiKey = apiKey
        self.key = key
        self.multiAssetsMargin = multiAssetsMargin
        self.hedgeMode = hedgeMode
        self.wallets = wallets
        self.positions = positions
    }
}
