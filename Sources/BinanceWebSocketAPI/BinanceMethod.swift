/// The WebSocket API methods this client calls, by the name Binance gives them (the same on
/// every venue that offers them). What each costs is the venue's fact
/// (`FuturesVenue.WebSocketAPI.assumedWeights`): callers budget from the measured cost (the
/// change in `rateLimits.count`) and use the documented weight only until they have measured.
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

    /// Weight of opening a connection (the WebSocket handshake) on USDⓈ-M.
    public static var handshakeWeight: Int64 { FuturesVenue.WebSocketAPI.usdM.handshakeWeight }
    /// Weight of opening a stream connection (`/private/stream`) on USDⓈ-M: none (stream
    /// connections are limited by count); see `FuturesVenue.UserStream.handshakeWeight`.
    public static var streamHandshakeWeight: Int64 { FuturesVenue.UserStream.usdM.handshakeWeight }

    /// The weight to assume until measured, as USDⓈ-M documents it
    /// (`FuturesVenue.WebSocketAPI.assumedWeight(of:)` for another venue).
    public var assumedWeight: Int64 { FuturesVenue.WebSocketAPI.usdM.assumedWeight(of: self) }

    public static func accountStatus(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountStatus : .accountStatusV2 }
    public static func positions(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountPosition : .accountPositionV2 }
    public static func balances(_ version: MethodVersion) -> BinanceMethod { version == .v1 ? .accountBalance : .accountBalanceV2 }
}
