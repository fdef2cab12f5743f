import Foundation
import TestSupport
import Testing

@testable import BinanceSimulator

/// The simulator's COIN-M venue (#25): inverse contracts valued in the coin, ws-dapi's answers
/// (no totals, contracts), one weight window shared with ws-fapi and fapi, dstream's raw user
/// events and per-pair mark streams, the `st` tags, dapi REST.
@Suite struct CoinMTests: SignedSimulatorSuite {
    /// One key with an account on each venue, as `main-um` and `main-cm` share a key.
    static let apiKey = "coinmAPIKEY00000000000000000000000000000000000000000000000000001"
    static let secret = "coinmSECRET00000000000000000000000000000000000000000000000000001"
    /// A key with a USDⓈ-M account only.
    static let usdOnlyKey = "usdmONLYKEY00000000000000000000000000000000000000000000000000001"

    final class Rig: Sendable {
        let clock = ManualClock()
        let simulator: ExchangeSimulator

        init(configuration: SimulatorConfiguration = SimulatorConfiguration(), manualClock: Bool = true) {
            let clock = clock
            simulator =
                manualClock
                ? ExchangeSimulator(configuration: configuration, clock: { clock.now }) : ExchangeSimulator(configuration: configuration)
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: CoinMTests.apiKey, key: .hmac(secret: CoinMTests.secret), wallets: ["BTC": 0.5, "ETH": 4],
                    positions: [
                        SimulatedPosition(symbol: "BTCUSD_PERP", amount: 40, entryPrice: 62_500, leverage: 10),
                        SimulatedPosition(symbol: "ETHUSD_PERP", amount: -300, entryPrice: 3_180, leverage: 5),
                    ], venue: .coinM))
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: CoinMTests.apiKey, key: .hmac(secret: CoinMTests.secret), wallets: ["USDT": 1_000],
                    positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000)]))
            simulator.addAccount(SimulatedAccount(apiKey: CoinMTests.usdOnlyKey, key: .hmac(secret: CoinMTests.secret)))
            simulator.setMarkPrice("BTCUSD_PERP", 64_000)
            simulator.setMarkPrice("ETHUSD_PERP", 3_000)
        }

        var now: Int64 { simulator.clock() }

        /// A signed WebSocket API request answered on ws-fapi or ws-dapi, against the live state.
        func request(
            _ method: String, venue: SimulatedVenue, apiKey: String = CoinMTests.apiKey, params extra: [String: String] = [:]
        ) throws -> [String: Any] {
            var params = extra
            params["apiKey"] = apiKey
            var json: [String: Any] = params
            // `userDataStream.*` take the API key alone.
            if !method.hasPrefix("userDataStream.") {
                params["timestamp"] = String(now)
                let payload = params.keys.sorted().map { "\($0)=\(params[$0]!)" }.joined(separator: "&")
                json = params
                json["timestamp"] = now
                json["signature"] = CoinMTests.sign(payload)
            }
            return try CoinMTests.answer(simulator, method: method, params: json, venue: venue, now: now)
        }

        func get(port: Int, _ path: String, _ query: String = "") async throws -> HTTPResponse {
            try await CoinMTests.signedRequest(port: port, path, query, timestamp: now, apiKey: CoinMTests.apiKey)
        }
    }

    // MARK: inverse math and ws-dapi shapes

    @Test func coinMValuesAreInTheCoinAndPositionsInContracts() throws {
        let rig = Rig()
        let status = try #require(try rig.request("account.status", venue: .coinM)["result"] as? [String: Any])
        let assets = try #require(status["assets"] as? [[String: Any]])
        let btc = try #require(assets.first { $0["asset"] as? String == "BTC" })
        let eth = try #require(assets.first { $0["asset"] as? String == "ETH" })
        // 40 contracts × 100 USD at a mark of 64,000: 0.0625 BTC; PnL 4,000 × (1/62,500 − 1/64,000) = 0.0015 BTC.
        #expect(abs(Self.number(btc["unrealizedProfit"]) - 0.0015) < 1e-8)
        #expect(abs(Self.number(btc["marginBalance"]) - 0.5015) < 1e-8)
        #expect(abs(Self.number(btc["maintMargin"]) - 0.0625 * 0.004) < 1e-8)
        #expect(abs(Self.number(btc["initialMargin"]) - 0.00625) < 1e-8)
        // −300 contracts × 10 USD at 3,000: 1 ETH; a short gains as the price falls.
        #expect(abs(Self.number(eth["unrealizedProfit"]) - 3_000 * (1.0 / 3_000 - 1.0 / 3_180)) < 1e-8)
        #expect(abs(Self.number(eth["maintMargin"]) - 0.005) < 1e-8)
        #expect(abs(Self.number(eth["initialMargin"]) - 0.2) < 1e-8)

        let rows = try #require(try rig.request("account.position", venue: .coinM)["result"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["symbol"] as? String }) == ["BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_261225"])
        let long = try #require(rows.first { $0["symbol"] as? String == "BTCUSD_PERP" })
        #expect(long["positionAmt"] as? String == "40")
        #expect(long["notionalValue"] as? String == "0.06250000")
        #expect(long["markPrice"] as? String == "64000.00000000")
        #expect(long["unRealizedProfit"] as? String == "0.00150000")
        #expect(long["isAutoAddMargin"] as? String == "false")
        // The leg's entry margin (0.0064 BTC) used up down to maintenance: 62,500 × 1.004 / 1.1.
        #expect(abs(Self.number(long["liquidationPrice"]) - 62_500 * 1.004 / 1.1) < 0.01)
        let short = try #require(rows.first { $0["symbol"] as? String == "ETHUSD_PERP" })
        #expect(short["positionAmt"] as? String == "-300")
        #expect(abs(Self.number(short["liquidationPrice"]) - 3_180 * 0.995 / 0.8) < 0.01)
        let byAsset = try #require(
            try rig.request("account.position", venue: .coinM, params: ["marginAsset": "ETH"])["result"] as? [[String: Any]])
        #expect(byAsset.map { $0["symbol"] as? String } == ["ETHUSD_PERP"])
    }

    @Test func wsDapiAnswersHaveTheCoinMShapeAndNoV2() throws {
        let rig = Rig()
        let status = try #require(try rig.request("account.status", venue: .coinM)["result"] as? [String: Any])
        #expect(Set(status.keys) == ["feeTier", "canTrade", "canDeposit", "canWithdraw", "updateTime", "assets", "positions"])
        let asset = try #require((status["assets"] as? [[String: Any]])?.first)
        #expect(asset["marginAvailable"] == nil && asset["maxWithdrawAmount"] != nil)
        let position = try #require((status["positions"] as? [[String: Any]])?.first)
        #expect(
            Set(position.keys) == [
                "symbol", "initialMargin", "maintMargin", "unrealizedProfit", "positionInitialMargin", "openOrderInitialMargin",
                "leverage", "isolated", "positionSide", "entryPrice", "maxQty", "notionalValue", "isolatedWallet", "updateTime",
                "positionAmt", "breakEvenPrice",
            ])
        let balance = try #require(try rig.request("account.balance", venue: .coinM)["result"] as? [[String: Any]])
        #expect(balance.map { $0["asset"] as? String } == ["BTC", "ETH"])
        #expect(balance.allSatisfy { $0["withdrawAvailable"] is String && $0["accountAlias"] is String })

        // No v2 methods on ws-dapi: answered as any unknown method.
        let v2 = try rig.request("v2/account.status", venue: .coinM)
        #expect((v2["error"] as? [String: Any])?["code"] as? Int == -1020)
        // Each key's account on the venue of the endpoint: USDⓈ-M totals on ws-fapi.
        let usd = try #require(try rig.request("account.status", venue: .usdM)["result"] as? [String: Any])
        #expect(usd["totalWalletBalance"] as? String == "1000.00000000")
        // A key without an account on the venue: −2015, as for an unknown key.
        let refused = try rig.request("account.status", venue: .coinM, apiKey: Self.usdOnlyKey)
        #expect((refused["error"] as? [String: Any])?["code"] as? Int == -2015)
        rig.simulator.addAccount(
            SimulatedAccount(apiKey: "cmOnly", key: .hmac(secret: Self.secret), wallets: ["BTC": 1], venue: .coinM))
        let cmOnly = try rig.request("account.status", venue: .usdM, apiKey: "cmOnly")
        #expect((cmOnly["error"] as? [String: Any])?["code"] as? Int == -2015)
    }

    // MARK: one weight window

    @Test func wsFapiWsDapiAndDapiShareOneWeightWindow() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        defer { Task { await rig.simulator.stop() } }
        let fapi = try rig.request("account.status", venue: .usdM)
        let dapi = try rig.request("account.status", venue: .coinM)
        let first = try #require((fapi["rateLimits"] as? [[String: Any]])?.first?["count"] as? Int)
        let second = try #require((dapi["rateLimits"] as? [[String: Any]])?.first?["count"] as? Int)
        #expect(first == 10 && second == 15)
        let income = try await rig.get(port: port, "/dapi/v1/income")
        #expect(income.status == 200)
        #expect(income.headers["x-mbx-used-weight-1m"] == "35")
    }

    @Test func a429FromDapiAlsoRefusesWsFapi() async throws {
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 30
        let rig = Rig(configuration: configuration)
        let port = try await rig.simulator.start()
        defer { Task { await rig.simulator.stop() } }
        #expect(try await rig.get(port: port, "/dapi/v1/income").status == 200)
        #expect(try await rig.get(port: port, "/dapi/v1/income").status == 429)
        // The next request of the IP, on the other venue's WebSocket API, earns the ban.
        let fapi = try rig.request("account.status", venue: .usdM)
        #expect(fapi["status"] as? Int == 418)
        #expect(rig.simulator.admitHandshake() == 418)
    }

    // MARK: dstream

    @Test func dstreamPushesRawCoinMEventsOnTheListenKeyPath() async throws {
        let rig = Rig(manualClock: false)
        let port = try await rig.simulator.start()
        defer { Task { await rig.simulator.stop() } }
        let started = try #require(try rig.request("userDataStream.start", venue: .coinM)["result"] as? [String: Any])
        let key = try #require(started["listenKey"] as? String)
        let usdKey = try #require(
            (try rig.request("userDataStream.start", venue: .usdM)["result"] as? [String: Any])?["listenKey"] as? String)
        #expect(key != usdKey)
        // Each venue's stream takes only its own listen keys.
        await #expect(throws: HTTPStatusError(status: 400)) { try await TestWebSocket.connect(port: port, path: "/dstream/ws/\(usdKey)") }
        await #expect(throws: HTTPStatusError(status: 400)) {
            try await TestWebSocket.connect(port: port, path: "/private/ws?listenKey=\(key)")
        }

        let socket = try await TestWebSocket.connect(port: port, path: "/dstream/ws/\(key)")
        defer { Task { await socket.close() } }
        for _ in 0..<50 where rig.simulator.openUserStreams == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let alias = try #require(rig.simulator.account(apiKey: Self.apiKey, venue: .coinM)?.accountAlias)
        rig.simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 10)

        let order = try Self.object(try await socket.next())
        #expect(order["stream"] == nil && order["e"] as? String == "ORDER_TRADE_UPDATE")
        #expect(order["i"] as? String == alias)
        let o = try #require(order["o"] as? [String: Any])
        #expect(o["ma"] as? String == "BTC" && o["N"] as? String == "BTC" && o["q"] as? String == "10")
        #expect(o["si"] == nil && o["ss"] == nil && o["gtd"] == nil)
        // Realized in BTC: 10 × 100 × (1/62,500 − 1/64,000).
        #expect(abs(Self.number(o["rp"]) - 1_000 * (1.0 / 62_500 - 1.0 / 64_000)) < 1e-8)

        let update = try Self.object(try await socket.next())
        #expect(update["e"] as? String == "ACCOUNT_UPDATE" && update["i"] as? String == alias)
        let a = try #require(update["a"] as? [String: Any])
        #expect((a["P"] as? [[String: Any]])?.first?["pa"] as? String == "30")
        #expect((a["B"] as? [[String: Any]])?.first?["a"] as? String == "BTC")
        // The USDⓈ-M account of the same key is untouched.
        #expect(rig.simulator.account(apiKey: Self.apiKey, venue: .usdM)?.positions.first?.amount == 0.1)
        #expect(rig.simulator.incomeHistory(apiKey: Self.apiKey, venue: .coinM).allSatisfy { $0.asset == "BTC" })
        #expect(rig.simulator.incomeHistory(apiKey: Self.apiKey, venue: .usdM).isEmpty)
    }

    @Test func perPairMarkStreamsCarryEveryContractOfThePairTaggedSt2() async throws {
        let rig = Rig()
        let frame = try Self.object(try #require(rig.simulator.coinMMarkPriceFrame("btcusd@markPrice@1s")))
        #expect(frame["stream"] as? String == "btcusd@markPrice@1s")
        let rows = try #require(frame["data"] as? [[String: Any]])
        #expect(rows.map { $0["s"] as? String } == ["BTCUSD_PERP", "BTCUSD_261225"])
        for row in rows {
            #expect(Set(row.keys) == ["e", "E", "s", "p", "P", "i", "r", "T", "st"])
            #expect(row["st"] as? Int == 2 && row["e"] as? String == "markPriceUpdate")
        }
        #expect(rows[0]["p"] as? String == "64000.00000000")
        #expect(rows[1]["r"] as? String == "" && rows[1]["T"] as? Int == 0)
        #expect((rows[0]["T"] as? Int ?? 0) > 0)
        // One contract: an object; an unknown pair: nothing.
        let single = try Self.object(try #require(rig.simulator.coinMMarkPriceFrame("ethusd_perp@markPrice", raw: true)))
        #expect(single["s"] as? String == "ETHUSD_PERP")
        #expect(rig.simulator.coinMMarkPriceFrame("dogeusd@markPrice@1s") == nil)

        // Over a socket: `?streams=` and SUBSCRIBE on dstream's combined path.
        var configuration = SimulatorConfiguration()
        configuration.markPriceInterval = .milliseconds(200)
        let live = Rig(configuration: configuration, manualClock: false)
        let port = try await live.simulator.start()
        defer { Task { await live.simulator.stop() } }
        let socket = try await TestWebSocket.connect(port: port, path: "/dstream/stream?streams=btcusd@markPrice@1s")
        defer { Task { await socket.close() } }
        let pushed = try Self.object(try await socket.next())
        #expect(pushed["stream"] as? String == "btcusd@markPrice@1s" && (pushed["data"] as? [Any])?.count == 2)
        socket.send(#"{"method":"SUBSCRIBE","params":["ethusd@markPrice@1s"],"id":7}"#)
        var streams: Set<String> = []
        // Frames of the first stream may be queued ahead of the answer on a loaded machine.
        for _ in 0..<60 {
            let text = try await socket.next()
            if text == #"{"result":null,"id":7}"# { continue }
            streams.insert(try Self.object(text)["stream"] as? String ?? "")
            if streams.count == 2 { break }
        }
        #expect(streams == ["btcusd@markPrice@1s", "ethusd@markPrice@1s"])
    }

    @Test func fstreamAllMarketArrayAlsoCarriesCoinMRowsTaggedSt2() throws {
        let rig = Rig()
        let frame = try Self.object(rig.simulator.markPriceFrame())
        let rows = try #require(frame["data"] as? [[String: Any]])
        let tags = Dictionary(uniqueKeysWithValues: rows.map { ($0["s"] as? String ?? "", $0["st"] as? Int ?? 0) })
        #expect(tags["BTCUSDT"] == 1 && tags["ETHUSDC"] == 1)
        #expect(tags["BTCUSD_PERP"] == 2 && tags["ETHUSD_PERP"] == 2 && tags["BTCUSD_261225"] == 2)
        #expect(rows.filter { $0["st"] as? Int == 2 }.count == 3)
    }

    // MARK: dapi REST

    @Test func dapiServesExchangeInfoBracketsIncomeAndOpenOrders() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        defer { Task { await rig.simulator.stop() } }
        // Unsigned.
        let info = try await RawHTTPClient.get(port: port, path: "/dapi/v1/exchangeInfo")
        #expect(info.status == 200 && info.headers["x-mbx-used-weight-1m"] == "1")
        let symbols = try #require(try Self.object(info.text)["symbols"] as? [[String: Any]])
        let sizes = Dictionary(uniqueKeysWithValues: symbols.map { ($0["symbol"] as? String ?? "", $0["contractSize"] as? Int ?? 0) })
        #expect(sizes == ["BTCUSD_PERP": 100, "ETHUSD_PERP": 10, "BTCUSD_261225": 100])
        let dated = try #require(symbols.first { $0["symbol"] as? String == "BTCUSD_261225" })
        #expect(dated["pair"] as? String == "BTCUSD" && dated["contractType"] as? String == "CURRENT_QUARTER")
        #expect(dated["marginAsset"] as? String == "BTC" && dated["contractStatus"] as? String == "TRADING")

        let brackets = try Self.array(try await rig.get(port: port, "/dapi/v2/leverageBracket", "symbol=BTCUSD_PERP").text)
        let first = try #require((brackets.first?["brackets"] as? [[String: Any]])?.first)
        #expect(first["qtyCap"] as? Int == 5 && first["qtylFloor"] as? Int == 0 && first["initialLeverage"] as? Int == 125)
        #expect((first["maintMarginRatio"] as? NSNumber)?.doubleValue == 0.004)

        rig.simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 10)
        rig.simulator.payFunding(apiKey: Self.apiKey, symbol: "BTCUSD_PERP", rate: 0.0001)
        let income = try Self.array(try await rig.get(port: port, "/dapi/v1/income").text)
        #expect(Set(income.compactMap { $0["incomeType"] as? String }) == ["REALIZED_PNL", "COMMISSION", "FUNDING_FEE"])
        #expect(income.allSatisfy { $0["tranId"] is String && $0["asset"] as? String == "BTC" })
        // fapi lists the same key's USDⓈ-M ledger only.
        #expect(try Self.array(try await rig.get(port: port, "/fapi/v1/income").text).isEmpty)

        let stop = rig.simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(service: .plain, symbol: "BTCUSD_PERP", side: "SELL", type: "STOP_MARKET", quantity: 30, triggerPrice: 58_000))
        #expect(stop > 0)
        // No Algo service on COIN-M.
        #expect(
            rig.simulator.placeOrder(
                apiKey: Self.apiKey,
                SimulatedOrder(service: .algo, symbol: "BTCUSD_PERP", side: "SELL", type: "STOP_MARKET", quantity: 30, triggerPrice: 58_000)
            )
                == 0)
        let before = try await rig.get(port: port, "/dapi/v1/openOrders", "symbol=BTCUSD_PERP")
        let rows = try Self.array(before.text)
        #expect(rows.count == 1 && rows[0]["cumBase"] as? String == "0" && rows[0]["pair"] as? String == "BTCUSD")
        #expect(rows[0]["origQty"] as? String == "30" && rows[0]["cumQuote"] == nil)
        let all = try await rig.get(port: port, "/dapi/v1/openOrders")
        #expect(Int(all.headers["x-mbx-used-weight-1m"] ?? "") == Int(before.headers["x-mbx-used-weight-1m"] ?? "")! + 40)
        #expect(try await rig.get(port: port, "/dapi/v1/openOrders", "symbol=BTCUSDT").status == 400)
        #expect(try await rig.get(port: port, "/fapi/v1/openOrders").text == "[]")
    }
}
