import BinanceWebSocketAPI
import Logging
import NIOCore
import NIOPosix

/// What an account session needs from one open WebSocket API connection. `BinanceConnection` is
/// the real one; tests drive the session through an in-memory one, with a manual clock.
public protocol AccountConnection: AnyObject, Sendable {
    /// Unsolicited events (server shutdown, session errors, close); finishes when it closes.
    var events: AsyncStream<ConnectionEvent> { get }
    func setRequestTimeout(_ timeout: Duration) async
    func synchroniseClock(samples: Int) async throws(BinanceClientError) -> (offset: Int64, rateLimit: RateLimitStatus?)
    func logon() async throws(BinanceClientError) -> Response<SessionStatus>
    func accountStatus(_ version: MethodVersion) async throws(BinanceClientError) -> Response<AccountStatus>
    func positionDetails(_ version: MethodVersion) async throws(BinanceClientError) -> Response<[PositionDetail]>
    func startUserDataStream() async throws(BinanceClientError) -> Response<String>
    func pingUserDataStream() async throws(BinanceClientError) -> Response<String>
    func stopUserDataStream() async throws(BinanceClientError) -> RateLimitStatus?
    /// Why it closed, once it has (nil while open).
    var closeReason: CloseReason? { get async }
    func close() async
}

extension BinanceConnection: AccountConnection {
    public func positionDetails(_ version: MethodVersion) async throws(BinanceClientError) -> Response<[PositionDetail]> {
        try await positions(version)
    }
}

/// Opens an account's WebSocket API connection (the handshake; logon and clock are the session's).
public struct AccountConnector: Sendable {
    public var open: @Sendable (_ credentials: APICredentials, _ logger: Logger) async throws(BinanceClientError) -> any AccountConnection
    /// Where it connects, for log lines.
    public var url: String

    public init(
        url: String,
        open:
            @escaping @Sendable (_ credentials: APICredentials, _ logger: Logger) async throws(BinanceClientError) -> any AccountConnection
    ) {
        self.url = url
        self.open = open
    }

    /// Real connections to `configuration.url`.
    public static func webSocketAPI(
        _ configuration: ConnectionConfiguration, clock: WallClock = .system,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> AccountConnector {
        AccountConnector(url: "\(configuration.url)") { credentials, logger throws(BinanceClientError) in
            try await BinanceConnection.connect(
                configuration: configuration, credentials: credentials, clock: clock, logger: logger, group: group)
        }
    }
}

/// The signed REST calls a session makes: the income ledger for stream gaps, maintenance-margin
/// tiers, the key's permissions.
public protocol AccountREST: Sendable {
    func income(startTime: Int64, endTime: Int64, limit: Int, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[IncomeEntry]>
    func leverageBrackets(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<[String: [LeverageBracket]]>
    func apiRestrictions(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<APIRestrictions>
    /// Open orders of one service, of `symbol` or (nil) of every symbol.
    func openOrders(_ service: OrderService, symbol: String?, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[OpenOrder]>
    /// USD per contract by symbol (COIN-M `exchangeInfo`); empty for a venue that sizes in base units.
    func contractSizes() async throws(BinanceClientError) -> RESTResponse<[String: Double]>
    /// Where `/sapi` lives, for log lines.
    var spotBaseDescription: String { get }
    /// The venue whose routes, weights and page size the client uses.
    var venue: FuturesVenue { get }
}

extension BinanceRESTClient: AccountREST {
    public var spotBaseDescription: String { "\(configuration.spotBase)" }
    public var venue: FuturesVenue { configuration.venue }

    public func openOrders(_ service: OrderService, symbol: String?, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[OpenOrder]>
    {
        switch service {
        case .plain: try await openOrders(symbol: symbol, offsetMilliseconds: offsetMilliseconds)
        case .algo: try await openAlgoOrders(symbol: symbol, offsetMilliseconds: offsetMilliseconds)
        }
    }
}

/// The process's user stream connections, as a session uses them: attach a listen key, detach it.
public protocol UserStreamAttaching: Sendable {
    func attach(account: String, key: String, sink: @escaping @Sendable (UserStreamSignal) -> Void) async
    func detach(account: String) async
}

extension UserStreamHub: UserStreamAttaching {}

/// The mark price feed's health, pushed to whoever watches it.
public protocol MarkFeedWatching: Sendable {
    func watch(_ sink: @escaping @Sendable (Bool) -> Void) async -> Int
    func unwatch(_ id: Int) async
    /// The account holds positions in `symbols` (a per-pair feed subscribes their pairs).
    func track(account: String, symbols: Set<String>) async
}

extension MarkPriceFeed: MarkFeedWatching {}
