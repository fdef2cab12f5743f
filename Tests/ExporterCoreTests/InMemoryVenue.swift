import Logging
import NIOConcurrencyHelpers
import TestSupport

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// An exchange in memory for account-session tests: it answers what a session asks of the
/// WebSocket API and the REST companion, charges Binance's documented weights to calendar
/// minutes of the manual clock, and lets a test break things (refuse, expire a key, move money).
/// No sockets and no real time: a test steps through hours with `ManualClock.advance`.
final class InMemoryExchange: Sendable {
    struct State {
        var weightByMinute: [Int64: Int64] = [:]
        /// Every call, with the account's key and the clock's time.
        var calls: [(apiKey: String, method: String, at: Int64)] = []
        var wallets: [String: Double] = [:]
        var keysIssued = 0
        /// Listen keys that no longer exist (a ping answers −1125).
        var expiredKeys: Set<String> = []
        var liveKeys: [String: String] = [:]
        var incomeRows: [String: [IncomeEntry]] = [:]
        /// The next income reads fail with this (then succeed).
        var incomeFailures: [BinanceClientError] = []
        var handshakes = 0
        /// Open positions and open orders by API key.
        var positions: [String: [StatusPosition]] = [:]
        var orders: [String: [OpenOrder]] = [:]
        /// Keys whose order lists answer −2015 (no permission).
        var ordersRefused: Set<String> = []
    }

    let clock: ManualClock
    let state = NIOLockedValueBox(State())
    /// Binance's documented weights (account.status: 5, as its method page says; a 2024
    /// changelog says 10, which the simulator charges).
    static let weights: [String: Int64] = [
        "session.status": 2, "session.logon": 2, "account.status": 5, "v2/account.status": 5, "v2/account.position": 5,
        "userDataStream.start": 1, "userDataStream.ping": 1, "userDataStream.stop": 1, "income": 30, "leverageBracket": 1,
        "handshake": 5, "openOrders": 1, "openAlgoOrders": 1, "openOrders(all)": 40, "openAlgoOrders(all)": 40,
    ]

    init(clock: ManualClock) { self.clock = clock }

    /// Records a call and its weight; returns the IP's count this minute, as `rateLimits` would.
    @discardableResult
    func charge(_ apiKey: String, _ method: String) -> RateLimitStatus {
        let now = clock.now
        return state.withLockedValue { state in
            state.calls.append((apiKey, method, now))
            state.weightByMinute[now / 60_000, default: 0] += Self.weights[method] ?? 1
            return RateLimitStatus(limit: 2400, count: state.weightByMinute[now / 60_000, default: 0])
        }
    }

    func calls(_ method: String, apiKey: String? = nil) -> [Int64] {
        state.withLockedValue { $0.calls.filter { $0.method == method && (apiKey == nil || $0.apiKey == apiKey) }.map(\.at) }
    }

    func wallet(_ apiKey: String) -> Double { state.withLockedValue { $0.wallets[apiKey, default: 1000] } }

    var connector: AccountConnector {
        AccountConnector(url: "memory://ws-fapi") { credentials, _ in
            self.charge(credentials.apiKey, "handshake")
            self.state.withLockedValue { $0.handshakes += 1 }
            return InMemoryConnection(exchange: self, apiKey: credentials.apiKey)
        }
    }

    func status(_ apiKey: String) -> AccountStatus {
        let wallet = wallet(apiKey)
        return AccountStatus(
            version: .v1, flags: AccountFlags(feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, multiAssetsMargin: false),
            totals: AccountTotals(
                walletBalance: wallet, unrealizedProfit: 0, marginBalance: wallet, initialMargin: 0, maintMargin: 0,
                positionInitialMargin: 0, openOrderInitialMargin: 0, crossWalletBalance: wallet, crossUnrealizedProfit: 0,
                availableBalance: wallet, maxWithdrawAmount: wallet),
            assets: [
                AssetBalance(
                    asset: "USDT", walletBalance: wallet, unrealizedProfit: 0, marginBalance: wallet, maintMargin: 0, initialMargin: 0,
                    positionInitialMargin: 0, openOrderInitialMargin: 0, crossWalletBalance: wallet, crossUnrealizedProfit: 0,
                    availableBalance: wallet, maxWithdrawAmount: wallet, marginAvailable: true, updateTime: clock.now)
            ],
            positions: state.withLockedValue { $0.positions[apiKey, default: []] })
    }

    /// A funding payment the stream may or may not see: the wallet moves and the ledger has it.
    func payFunding(_ apiKey: String, amount: Double) {
        let now = clock.now
        state.withLockedValue { state in
            state.wallets[apiKey, default: 1000] += amount
            let id = Int64(state.incomeRows.values.reduce(0) { $0 + $1.count } + 1)
            state.incomeRows[apiKey, default: []].append(
                IncomeEntry(symbol: "BTCUSDT", incomeType: "FUNDING_FEE", income: amount, asset: "USDT", time: now, tranID: id, tradeID: "")
            )
        }
    }

    func expireKey(of apiKey: String) {
        state.withLockedValue { state in
            if let key = state.liveKeys[apiKey] { state.expiredKeys.insert(key) }
        }
    }

    func rest(_ credentials: APICredentials) -> any AccountREST { InMemoryREST(exchange: self, apiKey: credentials.apiKey) }
}

final class InMemoryConnection: AccountConnection {
    let exchange: InMemoryExchange
    let apiKey: String
    let events: AsyncStream<ConnectionEvent>
    private let continuation: AsyncStream<ConnectionEvent>.Continuation

    init(exchange: InMemoryExchange, apiKey: String) {
        self.exchange = exchange
        self.apiKey = apiKey
        (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
    }

    func setRequestTimeout(_ timeout: Duration) async {}

    func synchroniseClock(samples: Int) async throws(BinanceClientError) -> (offset: Int64, rateLimit: RateLimitStatus?) {
        (0, exchange.charge(apiKey, "session.status"))
    }

    func logon() async throws(BinanceClientError) -> Response<SessionStatus> {
        Response(
            value: SessionStatus(apiKey: apiKey, authorizedSince: nil, connectedSince: nil, returnRateLimits: true, serverTime: 0),
            rateLimit: exchange.charge(apiKey, "session.logon"))
    }

    func accountStatus(_ version: MethodVersion) async throws(BinanceClientError) -> Response<AccountStatus> {
        Response(
            value: exchange.status(apiKey), rateLimit: exchange.charge(apiKey, version == .v1 ? "account.status" : "v2/account.status"))
    }

    func positionDetails(_ version: MethodVersion) async throws(BinanceClientError) -> Response<[PositionDetail]> {
        Response(value: [], rateLimit: exchange.charge(apiKey, "v2/account.position"))
    }

    func startUserDataStream() async throws(BinanceClientError) -> Response<String> {
        let rateLimit = exchange.charge(apiKey, "userDataStream.start")
        let key = exchange.state.withLockedValue { state -> String in
            state.keysIssued += 1
            let key = "listenkey-\(state.keysIssued)"
            state.liveKeys[apiKey] = key
            return key
        }
        return Response(value: key, rateLimit: rateLimit)
    }

    func pingUserDataStream() async throws(BinanceClientError) -> Response<String> {
        let rateLimit = exchange.charge(apiKey, "userDataStream.ping")
        let (key, expired) = exchange.state.withLockedValue { state in
            (state.liveKeys[apiKey] ?? "", state.expiredKeys.contains(state.liveKeys[apiKey] ?? ""))
        }
        if expired {
            throw .api(
                APIError(
                    method: "userDataStream.ping", status: 400, code: -1125, message: "This listenKey does not exist.", rateLimit: rateLimit
                ))
        }
        return Response(value: key, rateLimit: rateLimit)
    }

    func stopUserDataStream() async throws(BinanceClientError) -> RateLimitStatus? { exchange.charge(apiKey, "userDataStream.stop") }

    var closeReason: CloseReason? { nil }

    func close() async { continuation.finish() }
}

struct InMemoryREST: AccountREST {
    let exchange: InMemoryExchange
    let apiKey: String
    var spotBaseDescription: String { "memory://sapi" }
    var venue: FuturesVenue { .usdM }

    func income(startTime: Int64, endTime: Int64, limit: Int, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[IncomeEntry]>
    {
        let used = exchange.charge(apiKey, "income").count
        let failure = exchange.state.withLockedValue { $0.incomeFailures.isEmpty ? nil : $0.incomeFailures.removeFirst() }
        if let failure { throw failure }
        let rows = exchange.state.withLockedValue { $0.incomeRows[apiKey, default: []] }.filter {
            $0.time >= startTime && $0.time <= endTime
        }
        return RESTResponse(value: rows, usedWeight: used)
    }

    func leverageBrackets(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<[String: [LeverageBracket]]> {
        RESTResponse(value: [:], usedWeight: exchange.charge(apiKey, "leverageBracket").count)
    }

    func apiRestrictions(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<APIRestrictions> {
        // /sapi has its own weight pool: not charged to the futures minute.
        RESTResponse(value: APIRestrictions(ipRestricted: true, flags: ["enableReading": true]), usedWeight: nil)
    }

    func contractSizes() async throws(BinanceClientError) -> RESTResponse<[String: Double]> {
        RESTResponse(value: [:], usedWeight: nil)
    }

    func openOrders(_ service: OrderService, symbol: String?, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[OpenOrder]>
    {
        let name = (service == .plain ? "openOrders" : "openAlgoOrders") + (symbol == nil ? "(all)" : "")
        let used = exchange.charge(apiKey, name).count
        let (orders, refused) = exchange.state.withLockedValue { ($0.orders[apiKey, default: []], $0.ordersRefused.contains(apiKey)) }
        if refused {
            throw .api(APIError(method: name, status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action."))
        }
        return RESTResponse(
            value: orders.filter { $0.service == service && (symbol == nil || $0.symbol == symbol) }, usedWeight: used)
    }
}

/// The stream hub in memory: a key attached is subscribed at once; a test drops or restores it.
final class InMemoryHub: UserStreamAttaching {
    let sinks = NIOLockedValueBox<[String: @Sendable (UserStreamSignal) -> Void]>([:])

    func attach(account: String, key: String, sink: @escaping @Sendable (UserStreamSignal) -> Void) async {
        sinks.withLockedValue { $0[account] = sink }
        sink(.subscribed)
    }

    func detach(account: String) async { _ = sinks.withLockedValue { $0.removeValue(forKey: account) } }

    func send(_ account: String, _ signal: UserStreamSignal) { sinks.withLockedValue { $0[account] }?(signal) }

    var attached: Set<String> { Set(sinks.withLockedValue { $0.keys }) }
}

/// The mark feed's health in memory, pushed by the test.
final class InMemoryFeed: MarkFeedWatching {
    private let state = NIOLockedValueBox<(healthy: Bool, sinks: [Int: @Sendable (Bool) -> Void])>((false, [:]))

    func watch(_ sink: @escaping @Sendable (Bool) -> Void) async -> Int {
        let (id, healthy) = state.withLockedValue { state -> (Int, Bool) in
            let id = state.sinks.count + 1
            state.sinks[id] = sink
            return (id, state.healthy)
        }
        sink(healthy)
        return id
    }

    func unwatch(_ id: Int) async { _ = state.withLockedValue { $0.sinks.removeValue(forKey: id) } }

    /// What each account last said it holds.
    let tracked = NIOLockedValueBox<[String: Set<String>]>([:])

    func track(account: String, symbols: Set<String>) async { tracked.withLockedValue { $0[account] = symbols } }

    func set(healthy: Bool) {
        let sinks = state.withLockedValue { state -> [@Sendable (Bool) -> Void] in
            state.healthy = healthy
            return Array(state.sinks.values)
        }
        for sink in sinks { sink(healthy) }
    }
}
