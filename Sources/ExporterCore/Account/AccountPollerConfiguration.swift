import BinanceWebSocketAPI

/// Which account method a poller calls (`--poll.account-method`).
public enum AccountMethodChoice: Sendable, Equatable {
    /// `account.status` (v1), falling back to `v2/account.status` once if Binance no longer knows it.
    case v1WithFallback
    case v2

    /// The accepted flag and config values, for error messages.
    public static let expected = "must be \(BinanceMethod.accountStatus.rawValue) or \(BinanceMethod.accountStatusV2.rawValue)"

    /// The choice named by a flag or config value: the method's own name.
    public init?(flag: String) {
        switch BinanceMethod(rawValue: flag) {
        case .accountStatus: self = .v1WithFallback
        case .accountStatusV2: self = .v2
        default: return nil
        }
    }
}

/// One account to poll.
public struct AccountConfiguration: Sendable {
    public var name: String
    public var credentials: APICredentials
    public var intervalSeconds: Double
    public var positionsDetail: Bool
    public var accountMethod: AccountMethodChoice
    /// Keep a listen key and receive the account's user data stream.
    public var userStream: Bool
    /// The venue the account lives on: its URLs' defaults, methods, weights, assets and events.
    /// USDⓈ-M for every account until the config can name another one.
    public var venue: FuturesVenue

    public init(
        name: String, credentials: APICredentials, intervalSeconds: Double = 15, positionsDetail: Bool = true,
        accountMethod: AccountMethodChoice = .v1WithFallback, userStream: Bool = true, venue: FuturesVenue = .usdM
    ) {
        self.venue = venue
        self.userStream = userStream
        self.name = name
        self.credentials = credentials
        self.intervalSeconds = intervalSeconds
        self.positionsDetail = positionsDetail
        self.accountMethod = accountMethod
    }
}
