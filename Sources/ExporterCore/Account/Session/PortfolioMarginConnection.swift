import BinanceWebSocketAPI
import Logging

/// A Portfolio Margin account's "connection": papi has no WebSocket API, so the session's
/// requests become signed REST calls — `account.status` is `GET /papi/v1/account` and
/// `/papi/v1/balance`, `account.position` the UM and CM `positionRisk` lists, the clock sync
/// USDⓈ-M's server time (papi states none). Nothing stays open, so the session's lifecycle
/// (backoff, rotation, key rejection, scheduler admission) applies unchanged. The answers'
/// counts are papi's window's; they reach the scheduler with limit 0, which only ever raises
/// its view of the IP's use.
public actor PortfolioMarginConnection: AccountConnection {
    private var papiConfiguration: RESTConfiguration
    private var timeConfiguration: RESTConfiguration
    private let credentials: APICredentials
    private let clock: WallClock
    private var closed = false
    public nonisolated let events: AsyncStream<ConnectionEvent>
    private let eventsInput: AsyncStream<ConnectionEvent>.Continuation

    /// `papi`: the PM REST configuration (venue `.portfolioMargin`); `time`: USDⓈ-M's REST
    /// (server time, unsigned).
    public init(papi: RESTConfiguration, time: RESTConfiguration, credentials: APICredentials, clock: WallClock = .system) {
        papiConfiguration = papi
        timeConfiguration = time
        self.credentials = credentials
        self.clock = clock
        (events, eventsInput) = AsyncStream.makeStream(of: ConnectionEvent.self)
    }

    private var papi: BinanceRESTClient { BinanceRESTClient(configuration: papiConfiguration, credentials: credentials, clock: clock) }
    private var time: BinanceRESTClient { BinanceRESTClient(configuration: timeConfiguration, credentials: credentials, clock: clock) }

    public func setRequestTimeout(_ timeout: Duration) {
        papiConfiguration.timeout = timeout
        timeConfiguration.timeout = timeout
    }

    public func synchroniseClock(samples: Int) async throws(BinanceClientError) -> (offset: Int64, rateLimit: RateLimitStatus?) {
        try ensureOpen()
        measuredOffset = try await time.clockOffset()
        return (measuredOffset, nil)
    }

    /// PM keys sign every request; there is no session to log on to.
    public func logon() async throws(BinanceClientError) -> Response<SessionStatus> {
        throw .configuration("Portfolio Margin has no WebSocket API session")
    }

    public func accountStatus(_ version: MethodVersion) async throws(BinanceClientError) -> Response<AccountStatus> {
        try ensureOpen()
        let offset = measuredOffset
        let account = try await papi.portfolioMarginAccount(offsetMilliseconds: offset)
        let balances = try await papi.portfolioMarginBalances(offsetMilliseconds: offset)
        var status = AccountStatus(version: .v1, flags: nil, totals: nil, assets: [], positions: [])
        status.portfolioMargin = PortfolioMarginSnapshot(account: account.value, balances: balances.value)
        return Response(value: status, rateLimit: Self.rateLimit(balances.usedWeight ?? account.usedWeight))
    }

    public func positionDetails(_ version: MethodVersion) async throws(BinanceClientError) -> Response<[PositionDetail]> {
        try ensureOpen()
        let offset = measuredOffset
        let um = try await papi.portfolioMarginPositions(coinMargined: false, offsetMilliseconds: offset)
        let cm = try await papi.portfolioMarginPositions(coinMargined: true, offsetMilliseconds: offset)
        return Response(value: um.value + cm.value, rateLimit: Self.rateLimit(cm.usedWeight ?? um.usedWeight))
    }

    /// `POST /papi/v1/listenKey`: the account's key (its live one, extended, if it has one).
    public func startUserDataStream() async throws(BinanceClientError) -> Response<String> {
        try ensureOpen()
        let answer = try await papi.portfolioMarginListenKey(.POST)
        guard let key = answer.value else { throw .transport("POST listenKey answered without a key") }
        return Response(value: key, rateLimit: Self.rateLimit(answer.usedWeight))
    }

    /// `PUT /papi/v1/listenKey`: another 60 minutes for the account's key (papi names no key; the
    /// value is empty, and a key that is gone is Binance's −1125 as on the other venues).
    public func pingUserDataStream() async throws(BinanceClientError) -> Response<String> {
        try ensureOpen()
        let answer = try await papi.portfolioMarginListenKey(.PUT)
        return Response(value: "", rateLimit: Self.rateLimit(answer.usedWeight))
    }

    /// `DELETE /papi/v1/listenKey`.
    public func stopUserDataStream() async throws(BinanceClientError) -> RateLimitStatus? {
        try ensureOpen()
        return Self.rateLimit(try await papi.portfolioMarginListenKey(.DELETE).usedWeight)
    }

    public var closeReason: CloseReason? { closed ? .closedByClient : nil }

    public func close() {
        guard !closed else { return }
        closed = true
        eventsInput.finish()
    }

    /// Exchange − local time (ms) as last measured: the signed timestamps use it, as a
    /// WebSocket API connection's do.
    private var measuredOffset: Int64 = 0

    private func ensureOpen() throws(BinanceClientError) {
        if closed { throw .connectionClosed("closed by client") }
    }

    /// papi's header count, as a status without a limit (the window's limit is not reported).
    static func rateLimit(_ usedWeight: Int64?) -> RateLimitStatus? { usedWeight.map { RateLimitStatus(limit: 0, count: $0) } }
}

extension AccountConnector {
    /// Portfolio Margin accounts: each "connection" is the account's papi reads (`papi`, venue
    /// `.portfolioMargin`), timed by USDⓈ-M's server clock (`time`).
    public static func portfolioMargin(papi: RESTConfiguration, time: RESTConfiguration, clock: WallClock = .system) -> AccountConnector {
        AccountConnector(url: "\(papi.futuresBase)") { credentials, _ in
            PortfolioMarginConnection(papi: papi, time: time, credentials: credentials, clock: clock)
        }
    }
}
