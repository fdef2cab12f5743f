import Testing

@testable import BinanceWebSocketAPI

/// The USDⓈ-M venue value states the facts the client used to spell inline; these pin them to
/// the values documented in `binance-ws-api.md` and SPEC §4/§11, so that moving a fact into the
/// venue cannot change it.
@Suite("Futures venue")
struct VenueTests {
    let venue = FuturesVenue.usdM

    @Test("USDⓈ-M URLs: production and testnet for each endpoint; spot /sapi on its own")
    func urls() throws {
        let api = try #require(venue.webSocketAPI)
        #expect(venue.id.rawValue == "usd-m")
        #expect(
            api.endpoint
                == EndpointURLs(production: "wss://ws-fapi.binance.com/ws-fapi/v1", testnet: "wss://testnet.binancefuture.com/ws-fapi/v1"))
        #expect(
            venue.userStream.endpoint
                == EndpointURLs(production: "wss://fstream.binance.com/private", testnet: "wss://fstream.binancefuture.com/private"))
        #expect(
            venue.marketStream.endpoint
                == EndpointURLs(production: "wss://fstream.binance.com/market", testnet: "wss://fstream.binancefuture.com/market"))
        #expect(venue.rest.endpoint == EndpointURLs(production: "https://fapi.binance.com", testnet: "https://testnet.binancefuture.com"))
        #expect(SpotAPI.binance.endpoint == EndpointURLs(production: "https://api.binance.com", testnet: "https://testnet.binance.vision"))
        #expect(SpotAPI.binance.apiRestrictions == RESTRoute(path: "/sapi/v1/account/apiRestrictions", weight: 1))
        #expect(EndpointURLs(production: "https://papi.example", testnet: nil).url(testnet: true) == nil)
        #expect(api.endpoint.url(testnet: false) == "wss://ws-fapi.binance.com/ws-fapi/v1")
    }

    @Test(
        "Documented weights: the venue's table and BinanceMethod's forwarders agree",
        arguments: [
            (BinanceMethod.sessionStatus, Int64(2)), (.sessionLogon, 2), (.accountStatus, 10), (.accountStatusV2, 5),
            (.accountPosition, 10), (.accountPositionV2, 5), (.accountBalance, 10), (.accountBalanceV2, 5),
            (.userDataStreamStart, 1), (.userDataStreamPing, 1), (.userDataStreamStop, 1),
        ])
    func weights(method: BinanceMethod, weight: Int64) throws {
        let api = try #require(venue.webSocketAPI)
        #expect(api.assumedWeights[method] == weight)
        #expect(method.assumedWeight == weight)
    }

    @Test("Every method has a USDⓈ-M weight; handshakes cost 5 (WebSocket API) and 0 (streams)")
    func completeTable() throws {
        let api = try #require(venue.webSocketAPI)
        #expect(api.methods == Set(BinanceMethod.allCases))
        #expect(api.handshakeWeight == 5 && BinanceMethod.handshakeWeight == 5)
        #expect(venue.userStream.handshakeWeight == 0 && BinanceMethod.streamHandshakeWeight == 0)
        #expect(venue.marketStream.handshakeWeight == 0)
        // A venue that lacks a method prices it at its most expensive one.
        let partial = FuturesVenue.WebSocketAPI(
            endpoint: api.endpoint, handshakeWeight: 5, assumedWeights: [.accountStatus: 10, .sessionStatus: 2])
        #expect(partial.assumedWeight(of: .accountBalanceV2) == 10)
    }

    @Test("REST paths, weights and page size; the mark stream's name and row tag")
    func restAndMarket() {
        #expect(venue.rest.income == RESTRoute(path: "/fapi/v1/income", weight: 30))
        #expect(venue.rest.income.name == "GET /fapi/v1/income")
        #expect(venue.rest.incomePageSize == 1000)
        #expect(venue.rest.leverageBrackets == RESTRoute(path: "/fapi/v1/leverageBracket", weight: 1))
        #expect(venue.rest.serverTime == RESTRoute(path: "/fapi/v1/time", weight: 1))
        #expect(venue.marketStream.allMarkPrices == "!markPrice@arr@1s")
        #expect(MarketStreamConnection.allMarkPrices == "!markPrice@arr@1s")
        #expect(venue.marketStream.rowTag == 1)
    }

    @Test(
        "Margin asset of a USDⓈ-M symbol: its quote asset, USDT when none matches",
        arguments: [
            ("BTCUSDT", "USDT"), ("ETHUSDC", "USDC"), ("BTCFDUSD", "FDUSD"), ("ETHBUSD", "BUSD"), ("BTCUSDT_260327", "USDT"),
            ("XYZ", "USDT"),
        ])
    func marginAsset(symbol: String, asset: String) {
        #expect(venue.marginAsset(of: symbol) == asset)
        #expect(venue.defaultMarginAsset == "USDT")
    }

    @Test("Income kinds: Binance's three counted types, nothing else")
    func incomeKinds() {
        #expect(IncomeKind(binanceType: "REALIZED_PNL") == .realizedPnL)
        #expect(IncomeKind(binanceType: "COMMISSION") == .commission)
        #expect(IncomeKind(binanceType: "FUNDING_FEE") == .fundingFee)
        #expect(IncomeKind(binanceType: "TRANSFER") == nil)
        #expect(IncomeKind(binanceType: "funding_fee") == nil)
        #expect(venue.incomeKinds == IncomeKind.allCases)
        let entry = IncomeEntry(symbol: "BTCUSDT", incomeType: "COMMISSION", income: -1, asset: "USDT", time: 1, tranID: 1, tradeID: "7")
        #expect(entry.kind == .commission)
        let update = AccountUpdate(eventTime: 1, transactionTime: 1, reason: "FUNDING_FEE", balances: [], positions: [])
        #expect(update.incomeKind == .fundingFee)
    }

    @Test("Event kinds: every documented name is its own label; anything else is other")
    func eventKinds() {
        let documented = [
            "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE", "MARGIN_CALL", "ACCOUNT_CONFIG_UPDATE", "listenKeyExpired", "TRADE_LITE",
            "ALGO_UPDATE", "CONDITIONAL_ORDER_TRIGGER_REJECT", "GRID_UPDATE", "STRATEGY_UPDATE",
        ]
        #expect(venue.userStream.events.map(\.label) == documented)
        for name in documented {
            #expect(UserDataEventKind(binanceName: name).label == name)
            #expect(venue.userStream.eventKind(named: name).label == name)
        }
        #expect(UserDataEventKind(binanceName: "SOMETHING_NEW") == .other)
        #expect(UserDataEventKind(binanceName: "account_update") == .other)
        #expect(UserDataEventKind.other.label == "other")
        #expect(UserDataEvent.listenKeyExpired(eventTime: 1).kind == .listenKeyExpired)
        #expect(UserDataEvent.other(type: "TRADE_LITE", eventTime: nil).kind == .tradeLite)
        #expect(UserDataEvent.other(type: "NEW_THING", eventTime: nil).kind == .other)
        #expect(UserDataEvent.other(type: "NEW_THING", eventTime: nil).typeName == "NEW_THING")
    }

    @Test("Decoded events carry their kind, and typeName stays Binance's name")
    func decodedKinds() throws {
        let frames: [(String, UserDataEventKind)] = [
            (#"{"e":"MARGIN_CALL","E":1,"p":[]}"#, .marginCall),
            (#"{"e":"listenKeyExpired","E":1}"#, .listenKeyExpired),
            (#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1,"ai":{"j":true}}"#, .accountConfigUpdate),
            (#"{"e":"ALGO_UPDATE","E":1,"T":1,"o":{"aid":7,"s":"BTCUSDT","S":"SELL","o":"STOP_MARKET","X":"NEW"}}"#, .algoUpdate),
            (#"{"e":"NEW_THING","E":1}"#, .other),
        ]
        for (text, kind) in frames {
            let event = try UserDataEventDecoder.decode(try JSONParser.parse(Array(text.utf8)))
            #expect(event.kind == kind)
        }
        let unknown = try UserDataEventDecoder.decode(try JSONParser.parse(Array(#"{"e":"NEW_THING","E":1}"#.utf8)))
        #expect(unknown == .other(type: "NEW_THING", eventTime: 1))
    }

    @Test("Stream layouts: /stream appended once (combined), /ws/<key> per listen key")
    func layouts() throws {
        let cases: [(String, String)] = [
            ("wss://fstream.binance.com/private", "wss://fstream.binance.com/private/stream"),
            ("wss://fstream.binance.com/private/", "wss://fstream.binance.com/private/stream"),
            ("wss://fstream.binance.com/private/stream", "wss://fstream.binance.com/private/stream"),
            ("wss://fstream.binance.com/market?x=1", "wss://fstream.binance.com/market/stream"),
            ("ws://127.0.0.1:9000", "ws://127.0.0.1:9000/stream"),
        ]
        for (base, expected) in cases {
            let url = try WebSocketURL(parsing: base)
            #expect(StreamLayout.combined.url(base: url).description == expected)
            #expect(UserStreamConnection.streamURL(base: url).description == expected)
        }
        let dstream = try WebSocketURL(parsing: "wss://dstream.binance.com/")
        #expect(StreamLayout.perListenKey.url(base: dstream, listenKey: "K").description == "wss://dstream.binance.com/ws/K")
        #expect(venue.userStream.layout == .combined)
    }

    @Test("Errors name REST calls by the route")
    func routeNames() {
        #expect(SpotAPI.binance.apiRestrictions.name == "GET /sapi/v1/account/apiRestrictions")
        #expect(APIError.tooManyRequestsCode == -1003)
        #expect(APIError(method: "m", status: 400, code: -1021, message: "").isInvalidTimestamp)
    }
}
