/// COIN-M futures: every fact the client and the exporter use about this venue, stated once.
/// Sources: issue #25, SPEC §12, and the official `binance-sdk-derivatives-trading-coin-futures`
/// (method weights, REST routes, field names). Since Binance's COIN-M/USDⓈ-M integration
/// (2026-06-30) fapi and dapi count against one IP weight budget: the exporter's one scheduler
/// admits both venues' requests.
extension FuturesVenue {
    public static let coinM = FuturesVenue(
        id: .coinM, webSocketAPI: .coinM, userStream: .coinM, marketStream: .coinM, rest: .coinM,
        marginAssets: .pairBase(quote: "USD", fallback: "BTC"), incomeKinds: [.realizedPnL, .commission, .fundingFee])
}

extension FuturesVenue.WebSocketAPI {
    /// ws-dapi: `account.status`, `account.balance`, `account.position` weigh 5 each (no `v2/`
    /// variants); the user data stream methods 1.
    public static let coinM = FuturesVenue.WebSocketAPI(
        endpoint: EndpointURLs(
            production: "wss://ws-dapi.binance.com/ws-dapi/v1", testnet: "wss://testnet.binancefuture.com/ws-dapi/v1"),
        handshakeWeight: 5,
        assumedWeights: [
            .sessionStatus: 2, .sessionLogon: 2, .accountStatus: 5, .accountPosition: 5, .accountBalance: 5, .userDataStreamStart: 1,
            .userDataStreamPing: 1, .userDataStreamStop: 1,
        ])
}

extension FuturesVenue.UserStream {
    /// dstream (not split into /public, /market, /private as fstream was). Listen keys are
    /// subscribed on `/stream` as the official SDK does it (`SUBSCRIBE` with the key as the
    /// stream name, combined frames), so one connection carries every COIN-M account; dstream
    /// also serves `/ws/<listenKey>`, one connection per key, which the exporter does not need.
    public static let coinM = FuturesVenue.UserStream(
        endpoint: EndpointURLs(production: "wss://dstream.binance.com", testnet: "wss://dstream.binancefuture.com"),
        layout: .combined, handshakeWeight: 0,
        events: [.accountUpdate, .orderTradeUpdate, .marginCall, .accountConfigUpdate, .listenKeyExpired, .gridUpdate, .strategyUpdate])
}

extension FuturesVenue.MarketStream {
    /// dstream has no all-symbols mark price array: one `<pair>@markPrice@1s` stream per pair
    /// held. Rows are tagged `st` = 2 after the integration.
    public static let coinM = FuturesVenue.MarketStream(
        endpoint: EndpointURLs(production: "wss://dstream.binance.com", testnet: "wss://dstream.binancefuture.com"),
        markPrices: .perPair(suffix: "@markPrice@1s"), rowTag: 2, handshakeWeight: 0)
}

extension FuturesVenue.REST {
    /// dapi. Income weighs 20 per page; the brackets (v2, per symbol) are in coin quantity; the
    /// open orders 1 per symbol, 40 for all; no Algo service list yet.
    public static let coinM = FuturesVenue.REST(
        endpoint: EndpointURLs(production: "https://dapi.binance.com", testnet: "https://testnet.binancefuture.com"),
        income: RESTRoute(path: "/dapi/v1/income", weight: 20), incomePageSize: 1000,
        leverageBrackets: RESTRoute(path: "/dapi/v2/leverageBracket", weight: 1),
        serverTime: RESTRoute(path: "/dapi/v1/time", weight: 1),
        orderLists: FuturesVenue.OrderLists(
            plain: FuturesVenue.OrderListRoute(path: "/dapi/v1/openOrders", weightPerSymbol: 1, weightAllSymbols: 40), algo: nil),
        exchangeInfo: RESTRoute(path: "/dapi/v1/exchangeInfo", weight: 1))
}
