/// USDⓈ-M futures: every fact the client and the exporter use about this venue, stated once.
/// Sources: `binance-ws-api.md` (ws-fapi URLs, weights, handshake) and SPEC §11 (streams, REST).
extension FuturesVenue {
    public static let usdM = FuturesVenue(
        id: .usdM, webSocketAPI: .usdM, userStream: .usdM, marketStream: .usdM, rest: .usdM,
        marginAssets: .quoteSuffix(quoteAssets: ["USDT", "USDC", "FDUSD", "BUSD"], fallback: "USDT"),
        incomeKinds: [.realizedPnL, .commission, .fundingFee])
}

extension FuturesVenue.WebSocketAPI {
    /// ws-fapi. The documents disagree for `account.status` (5 on the method page, 10 in a 2024
    /// changelog): the v1 methods assume the higher value until measured.
    public static let usdM = FuturesVenue.WebSocketAPI(
        endpoint: EndpointURLs(
            production: "wss://ws-fapi.binance.com/ws-fapi/v1", testnet: "wss://testnet.binancefuture.com/ws-fapi/v1"),
        handshakeWeight: 5,
        assumedWeights: Dictionary(uniqueKeysWithValues: BinanceMethod.allCases.map { ($0, documentedWeight($0)) }))

    /// A switch, so that a new `BinanceMethod` case cannot be left without a weight.
    private static func documentedWeight(_ method: BinanceMethod) -> Int64 {
        switch method {
        case .sessionStatus, .sessionLogon: 2
        // Per the official SDK's docstrings; measured like every other weight.
        case .userDataStreamStart, .userDataStreamPing, .userDataStreamStop: 1
        case .accountStatus, .accountPosition, .accountBalance: 10
        case .accountStatusV2, .accountPositionV2, .accountBalanceV2: 5
        }
    }
}

extension FuturesVenue.UserStream {
    /// fstream's private host, `/private/stream` + `SUBSCRIBE` (the legacy `/ws/<listenKey>` was
    /// retired on 2026-04-23).
    public static let usdM = FuturesVenue.UserStream(
        endpoint: EndpointURLs(production: "wss://fstream.binance.com/private", testnet: "wss://fstream.binancefuture.com/private"),
        layout: .combined, handshakeWeight: 0,
        events: [
            .accountUpdate, .orderTradeUpdate, .marginCall, .accountConfigUpdate, .listenKeyExpired, .tradeLite, .algoUpdate,
            .conditionalOrderTriggerReject, .gridUpdate, .strategyUpdate,
        ])
}

extension FuturesVenue.MarketStream {
    /// fstream's public host: every USDⓈ-M symbol's mark price once a second, at no request
    /// weight; COIN-M rows (`st` = 2) may share it and are dropped.
    public static let usdM = FuturesVenue.MarketStream(
        endpoint: EndpointURLs(production: "wss://fstream.binance.com/market", testnet: "wss://fstream.binancefuture.com/market"),
        markPrices: .allSymbols("!markPrice@arr@1s"), rowTag: 1, handshakeWeight: 0)
}

extension FuturesVenue.REST {
    /// fapi.
    public static let usdM = FuturesVenue.REST(
        endpoint: EndpointURLs(production: "https://fapi.binance.com", testnet: "https://testnet.binancefuture.com"),
        income: RESTRoute(path: "/fapi/v1/income", weight: 30), incomePageSize: 1000,
        leverageBrackets: RESTRoute(path: "/fapi/v1/leverageBracket", weight: 1),
        serverTime: RESTRoute(path: "/fapi/v1/time", weight: 1),
        // Weight 1 with `symbol`, 40 without (the official SDK's docstrings).
        orderLists: FuturesVenue.OrderLists(
            plain: FuturesVenue.OrderListRoute(path: "/fapi/v1/openOrders", weightPerSymbol: 1, weightAllSymbols: 40),
            algo: FuturesVenue.OrderListRoute(path: "/fapi/v1/openAlgoOrders", weightPerSymbol: 1, weightAllSymbols: 40)))
}
