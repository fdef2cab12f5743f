/// The WebSocket API methods this client calls, with the request weight Binance documents for
/// each. The documents disagree for `account.status` (5 on the method page, 10 in a 2024
/// changelog): callers budget from the measured cost (the change in `rateLimits.count`) and use
/// these only until they have measured.
public enum BinanceMethod: String, Sendable, CaseIterable, Hashable {
    case sessionStatus = "session.status"
    case sessionLogon = "session.logon"
    case accountStatus = "account.status"
    case accountStatusV2 = "v2/account.status"
    case accountPosition = "account.position"
    case accountPositionV2 = "v2/account.position"
    case accountBalance = "account.balance"
    case accountBalanceV2 = "v2/account.balance"
    case userDataStreamStart = "userDataStream.start"
    case userDataStreamPing = "userDataStream.ping"
    case userDataStreamStop = "userDataStream.stop"

    /// Weight of opening a connection (the WebSocket handshake).
    public static let handshakeWeight: Int64 = 5
    /// Weight of opening a stream connection (`/private/stream`): Binance limits stream
    /// connections by count (300 per 5 minutes per IP), not by request weight. The handshake
    /// still goes through the scheduler, so bans and `Retry-After` hold it back.
    public static let streamHandshakeWeight: Int64 = 0

    /// The weight to assume until measured.
    public var assumedWeight: Int64 {
        switch self {
        case .sessionStatus, .sessionLogon: 2
        case .userDataStreamStart, .userDataStreamPing, .userDataStreamStop: 1
        case .accountStatus, .accountPosition, .accountBalance: 10
        case .accountStatusV2, .accountPositionV2, .accountBalanceV2: 5
        }
    }

    public static func accountStatus(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountStatus : .accountStatusV2 }
    public static func positions(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountPosition : .accountPositionV2 }
    public static func balances(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountBalance : .accountBalanceV2 }
}
