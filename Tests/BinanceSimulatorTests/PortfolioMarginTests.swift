import Crypto
import Foundation
import TestSupport
import Testing

@testable import BinanceSimulator

/// The simulator's Portfolio Margin venue over real HTTP: papi's routes with the PM SDK's
/// fields and weights, equity and uniMMR valued from wallets, loans and both kinds of position,
/// the uniMMR bands, keys that do not cross products, and papi's two weight budgets.
@Suite struct PortfolioMarginTests: SignedSimulatorSuite {
    static let apiKey = "pmAPIKEY00000000000000000000000000000000000000000000000000000001"
    static let secret = "pmSECRET00000000000000000000000000000000000000000000000000000001"
    /// Keys of a USDⓈ-M and a COIN-M account (the same secret).
    static let usdKey = "pmUSDKEY00000000000000000000000000000000000000000000000000000001"
    static let coinKey = "pmCOINKEY0000000000000000000000000000000000000000000000000000001"

    /// A simulator on a manual clock (a minute boundary: the windows cannot roll over) with a PM
    /// account holding 10,000 USDT and 0.5 BTC, long 0.2 BTCUSDT from 60,000 and long 40
    /// BTCUSD_PERP contracts from 62,500, both marked at 64,000; and a USDⓈ-M and a COIN-M account.
    final class Rig: Sendable {
        let clock = ManualClock()
        let simulator: ExchangeSimulator

        init(configuration: SimulatorConfiguration = SimulatorConfiguration()) {
            let clock = clock
            simulator = ExchangeSimulator(configuration: configuration, clock: { clock.now })
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: PortfolioMarginTests.apiKey, key: .hmac(secret: PortfolioMarginTests.secret),
                    wallets: ["USDT": 10_000, "BTC": 0.5],
                    positions: [
                        SimulatedPosition(symbol: "BTCUSDT", amount: 0.2, entryPrice: 60_000, leverage: 10),
                        SimulatedPosition(symbol: "BTCUSD_PERP", amount: 40, entryPrice: 62_500, leverage: 10),
                    ], venue: .portfolioMargin))
            simulator.addAccount(SimulatedAccount(apiKey: PortfolioMarginTests.usdKey, key: .hmac(secret: PortfolioMarginTests.secret)))
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: PortfolioMarginTests.coinKey, key: .hmac(secret: PortfolioMarginTests.secret), wallets: ["BTC": 1],
                    venue: .coinM))
            simulator.setMarkPrice("BTCUSDT", 64_000)
            simulator.setMarkPrice("BTCUSD_PERP", 64_000)
        }

        /// A signed request through a real socket, as a REST client sends it.
        func get(
            port: Int, _ path: String, _ query: String = "", apiKey: String = PortfolioMarginTests.apiKey, method: String = "GET"
        ) async throws -> HTTPResponse {
            try await PortfolioMarginTests.signedRequest(port: port, path, query, timestamp: clock.now, apiKey: apiKey, method: method)
        }

        /// An unsigned request with the API key header only (listenKey).
        func keyed(port: Int, _ path: String, method: String, apiKey: String = PortfolioMarginTests.apiKey) async throws -> HTTPResponse {
            try await RawHTTPClient.get(port: port, path: path, headers: ["X-MBX-APIKEY": apiKey], method: method)
        }

        /// A signed WebSocket API request on ws-fapi or ws-dapi, against the live state.
        func wsRequest(_ method: String, venue: SimulatedVenue, apiKey: String = PortfolioMarginTests.apiKey) throws -> [String: Any] {
            var params: [String: Any] = ["apiKey": apiKey]
            if !method.hasPrefix("userDataStream.") {
                let payload = "apiKey=\(apiKey)&timestamp=\(clock.now)"
                params["timestamp"] = clock.now
                params["signature"] = PortfolioMarginTests.sign(payload)
            }
            return try PortfolioMarginTests.answer(simulator, method: method, params: params, venue: venue, now: clock.now)
        }
    }

    static func code(_ response: HTTPResponse) -> Int? { (try? object(response.text))?["code"] as? Int }

    static func weight(_ response: HTTPResponse) -> Int64? { response.headers["x-mbx-used-weight-1m"].flatMap { Int64($0) } }

    // MARK: valuation

    @Test func accountValuesEquityInUSDWithCollateralRatesAndMaintenanceFromBothSides() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let response = try await rig.get(port: port, "/papi/v1/account")
            #expect(response.status == 200, "\(response.text)")
            let account = try Self.object(response.text)
            #expect(
                Set(account.keys) == [
                    "uniMMR", "accountEquity", "actualEquity", "accountInitialMargin", "accountMaintMargin", "accountStatus",
                    "virtualMaxWithdrawAmount", "totalAvailableBalance", "totalMarginOpenLoss", "updateTime",
                ])
            #expect(account.filter { $0.key != "updateTime" }.values.allSatisfy { $0 is String })
            #expect(account["updateTime"] as? Int64 == rig.clock.now)
            // USDT: 10,000 + 800 UM PnL. BTC: 0.5 + 0.0015 CM PnL (4,000 × (1/62,500 − 1/64,000)), at 64,000 USD.
            #expect(account["actualEquity"] as? String == "42896.00000000")
            // BTC counts at 95 %: 10,800 + 32,096 × 0.95.
            #expect(account["accountEquity"] as? String == "41291.20000000")
            // UM: 12,800 × 0.5 %; CM: 0.0625 BTC × 0.4 % (first bracket) = 0.00025 BTC = 16 USD.
            #expect(account["accountMaintMargin"] as? String == "80.00000000")
            #expect(account["accountInitialMargin"] as? String == "1680.00000000")
            #expect(account["uniMMR"] as? String == "516.14000000")
            #expect(account["accountStatus"] as? String == "NORMAL")
            #expect(account["totalAvailableBalance"] as? String == "39611.20000000")
            // Open profit (800 + 96 USD) cannot be withdrawn.
            #expect(account["virtualMaxWithdrawAmount"] as? String == "38715.20000000")
            #expect(account["totalMarginOpenLoss"] as? String == "0.00000000")
            #expect(Self.weight(response) == 20)
        }
    }

    @Test func balanceListsEveryAssetAndOneAssetComesAsAnObjectWithoutCrossMarginAsset() async throws {
        let rig = Rig()
        rig.simulator.setPortfolioMarginBorrowing(apiKey: Self.apiKey, asset: "USDT", borrowed: 1_000, interest: 5)
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let all = try await rig.get(port: port, "/papi/v1/balance")
            let rows = try Self.array(all.text)
            #expect(rows.map { $0["asset"] as? String } == ["BTC", "USDT"])
            let fields: Set<String> = [
                "asset", "totalWalletBalance", "crossMarginAsset", "crossMarginBorrowed", "crossMarginFree", "crossMarginInterest",
                "crossMarginLocked", "umWalletBalance", "umUnrealizedPNL", "cmWalletBalance", "cmUnrealizedPNL", "updateTime",
                "negativeBalance",
            ]
            #expect(rows.allSatisfy { Set($0.keys) == fields })
            let usdt = try #require(rows.last)
            #expect(usdt["crossMarginBorrowed"] as? String == "1000.00000000" && usdt["crossMarginInterest"] as? String == "5.00000000")
            #expect(usdt["umUnrealizedPNL"] as? String == "800.00000000" && usdt["cmUnrealizedPNL"] as? String == "0.00000000")
            #expect(usdt["totalWalletBalance"] as? String == "10000.00000000" && usdt["crossMarginFree"] as? String == "10000.00000000")
            #expect(rows[0]["cmUnrealizedPNL"] as? String == "0.00150000")
            #expect(Self.weight(all) == 20)

            let one = try Self.object(try await rig.get(port: port, "/papi/v1/balance", "asset=BTC").text)
            #expect(Set(one.keys) == fields.subtracting(["crossMarginAsset"]))
            #expect(one["asset"] as? String == "BTC" && one["crossMarginFree"] as? String == "0.50000000")
            // The debt (1,005 USDT) comes off both equities.
            let figures = try #require(rig.simulator.portfolioMarginFigures(apiKey: Self.apiKey))
            #expect(abs(figures.actualEquity - (42_896 - 1_005)) < 1e-6)
            #expect(abs(figures.accountEquity - (41_291.2 - 1_005)) < 1e-6)
            // A fresh loan whose coins land in the account leaves equity where it was.
            rig.simulator.setPortfolioMarginBorrowing(apiKey: Self.apiKey, asset: "USDT", borrowed: 3_000, interest: 5, creditWallet: true)
            #expect(abs((rig.simulator.portfolioMarginFigures(apiKey: Self.apiKey)?.actualEquity ?? 0) - figures.actualEquity) < 1e-6)
        }
    }

    @Test func positionRiskListsUMRowsInBaseUnitsAndCMRowsInContractsWithCoinNotional() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let um = try await rig.get(port: port, "/papi/v1/um/positionRisk")
            let umRows = try Self.array(um.text)
            #expect(umRows.count == 1)
            let long = try #require(umRows.first)
            #expect(
                Set(long.keys) == [
                    "entryPrice", "leverage", "markPrice", "maxNotionalValue", "positionAmt", "notional", "symbol", "unRealizedProfit",
                    "liquidationPrice", "positionSide", "updateTime",
                ])
            #expect(long["leverage"] as? String == "10" && long["positionAmt"] as? String == "0.200")
            #expect(long["notional"] as? String == "12800.00000000" && long["unRealizedProfit"] as? String == "800.00000000")
            #expect(long["positionSide"] as? String == "BOTH" && long["updateTime"] is Int)
            #expect(Self.weight(um) == 5)
            // A symbol the account does not hold: its flat row; a COIN-M symbol: not on the UM path.
            let flat = try Self.array(try await rig.get(port: port, "/papi/v1/um/positionRisk", "symbol=ETHUSDT").text)
            #expect(flat.count == 1 && flat[0]["positionAmt"] as? String == "0.000")
            #expect(Self.code(try await rig.get(port: port, "/papi/v1/um/positionRisk", "symbol=BTCUSD_PERP")) == -1121)

            let cm = try await rig.get(port: port, "/papi/v1/cm/positionRisk")
            let cmRows = try Self.array(cm.text)
            #expect(cmRows.map { $0["symbol"] as? String } == ["BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_261225"])
            let perp = cmRows[0]
            #expect(
                Set(perp.keys) == [
                    "symbol", "positionAmt", "entryPrice", "markPrice", "unRealizedProfit", "liquidationPrice", "leverage", "positionSide",
                    "updateTime", "maxQty", "notionalValue",
                ])
            #expect(perp["positionAmt"] as? String == "40" && perp["notionalValue"] as? String == "0.06250000")
            #expect(perp["unRealizedProfit"] as? String == "0.00150000" && perp["maxQty"] as? String == "10000")
            #expect(Self.weight(cm) == 16)
            let eth = try Self.array(try await rig.get(port: port, "/papi/v1/cm/positionRisk", "marginAsset=ETH").text)
            #expect(eth.map { $0["symbol"] as? String } == ["ETHUSD_PERP"])
            let pair = try Self.array(try await rig.get(port: port, "/papi/v1/cm/positionRisk", "pair=BTCUSD").text)
            #expect(pair.count == 2)

            // Hedge mode: LONG and SHORT rows of each held symbol.
            rig.simulator.updateAccount(apiKey: Self.apiKey, venue: .portfolioMargin) { account in
                account.hedgeMode = true
                account.positions = [SimulatedPosition(symbol: "BTCUSDT", side: "LONG", amount: 0.2, entryPrice: 60_000)]
            }
            let hedge = try Self.array(try await rig.get(port: port, "/papi/v1/um/positionRisk").text)
            #expect(hedge.map { $0["positionSide"] as? String } == ["LONG", "SHORT"])
            #expect(hedge.map { $0["positionAmt"] as? String } == ["0.200", "0.000"])
        }
    }

    // MARK: uniMMR bands

    @Test(arguments: [
        (2.0, "NORMAL"), (1.500_01, "NORMAL"), (1.5, "MARGIN_CALL"), (1.3, "MARGIN_CALL"), (1.2, "REDUCE_ONLY"),
        (1.1, "REDUCE_ONLY"), (1.05, "ACTIVE_LIQUIDATION"), (0.8, "ACTIVE_LIQUIDATION"),
    ])
    func theBandsMapUniMMRToBinancesStatus(uniMMR: Double, status: String) {
        #expect(PortfolioMarginStatus(uniMMR: uniMMR).rawValue == status)
    }

    @Test func movingUniMMRThroughTheBandsChangesTheReportedStatusAndAForcedStatusWins() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            for (target, status) in [(1.6, "NORMAL"), (1.3, "MARGIN_CALL"), (1.1, "REDUCE_ONLY"), (1.0, "ACTIVE_LIQUIDATION")] {
                #expect(rig.simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, target))
                let account = try Self.object(try await rig.get(port: port, "/papi/v1/account").text)
                #expect(abs(Self.number(account["uniMMR"]) - target) < 1e-6)
                #expect(abs(Self.number(account["accountEquity"]) - target * 80) < 1e-6)
                #expect(account["accountStatus"] as? String == status)
            }
            rig.simulator.forcePortfolioMarginStatus(apiKey: Self.apiKey, .bankrupted)
            #expect(try Self.object(try await rig.get(port: port, "/papi/v1/account").text)["accountStatus"] as? String == "BANKRUPTED")
            rig.simulator.forcePortfolioMarginStatus(apiKey: Self.apiKey, nil)
            #expect(rig.simulator.portfolioMarginFigures(apiKey: Self.apiKey)?.status == .activeLiquidation)

            // No positions: no maintenance, the fixed large ratio; 0 once equity is gone too.
            rig.simulator.updateAccount(apiKey: Self.apiKey, venue: .portfolioMargin) { account in
                account.positions = []
                account.wallets = ["USDT": 1_000]
            }
            let flat = try Self.object(try await rig.get(port: port, "/papi/v1/account").text)
            #expect(flat["uniMMR"] as? String == "999999.00000000" && flat["accountMaintMargin"] as? String == "0.00000000")
            #expect(flat["accountStatus"] as? String == "NORMAL")
            #expect(!rig.simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.3))
            rig.simulator.setPortfolioMarginBorrowing(apiKey: Self.apiKey, asset: "USDT", borrowed: 1_000)
            #expect(rig.simulator.portfolioMarginFigures(apiKey: Self.apiKey)?.uniMMR == 0)
        }
    }

    // MARK: listen key, ping, signed-request rules

    @Test func pingIsUnsignedAndTheListenKeyTakesTheAPIKeyAlone() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let ping = try await RawHTTPClient.get(port: port, path: "/papi/v1/ping")
            #expect(ping.status == 200 && ping.text == "{}" && Self.weight(ping) == 1)

            let started = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "POST")
            #expect(started.status == 200 && Self.weight(started) == 2)
            let key = try #require(try Self.object(started.text)["listenKey"] as? String)
            #expect(key == rig.simulator.listenKey(apiKey: Self.apiKey, venue: .portfolioMargin))
            // Starting again returns the live key.
            let again = try Self.object(try await rig.keyed(port: port, "/papi/v1/listenKey", method: "POST").text)
            #expect(again["listenKey"] as? String == key)
            let kept = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "PUT")
            #expect(kept.status == 200 && kept.text == "{}" && rig.simulator.stats.listenKeyPings == 1)
            let closed = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "DELETE")
            #expect(closed.status == 200 && closed.text == "{}")
            #expect(rig.simulator.listenKey(apiKey: Self.apiKey, venue: .portfolioMargin) == nil)
            let gone = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "PUT")
            #expect(gone.status == 400 && Self.code(gone) == -1125)
            // A USDⓈ-M key gets no PM listen key.
            let foreign = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "POST", apiKey: Self.usdKey)
            #expect(foreign.status == 401 && Self.code(foreign) == -2015)
            #expect(rig.simulator.stats.restWeightByPath["/papi/v1/listenKey"] == 6)
        }
    }

    @Test func signedRoutesCheckSignatureAndTimestampAndAcceptEd25519() async throws {
        let rig = Rig()
        let ed25519 = Curve25519.Signing.PrivateKey()
        rig.simulator.addAccount(SimulatedAccount(apiKey: "pmEd", key: .ed25519(publicKey: ed25519.publicKey), venue: .portfolioMargin))
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let payload = "timestamp=\(rig.clock.now)"
            let tampered = try await RawHTTPClient.get(
                port: port, path: "/papi/v1/account?\(payload)&signature=\(Self.sign(payload + "0"))",
                headers: ["X-MBX-APIKEY": Self.apiKey])
            #expect(tampered.status == 400 && Self.code(tampered) == -1022 && Self.weight(tampered) == 20)
            let unsigned = try await RawHTTPClient.get(
                port: port, path: "/papi/v1/account?\(payload)", headers: ["X-MBX-APIKEY": Self.apiKey])
            #expect(Self.code(unsigned) == -1102)
            let stale = "timestamp=\(rig.clock.now - 10_000)"
            let late = try await RawHTTPClient.get(
                port: port, path: "/papi/v1/account?\(stale)&signature=\(Self.sign(stale))", headers: ["X-MBX-APIKEY": Self.apiKey])
            #expect(late.status == 400 && Self.code(late) == -1021)
            #expect(try await RawHTTPClient.get(port: port, path: "/papi/v1/nothing").status == 404)

            let signature =
                try ed25519.signature(for: Data(payload.utf8)).base64EncodedString()
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let signed = try await RawHTTPClient.get(
                port: port, path: "/papi/v1/account?\(payload)&signature=\(signature)", headers: ["X-MBX-APIKEY": "pmEd"])
            #expect(signed.status == 200, "\(signed.text)")
        }
    }

    // MARK: keys and products do not mix

    @Test func aPortfolioMarginKeyIsRefusedOnFapiDapiAndTheWebSocketAPIs() async throws {
        let rig = Rig()
        // Even with a USDⓈ-M account filed under the same key, a PM key stays a PM key.
        rig.simulator.addAccount(SimulatedAccount(apiKey: Self.apiKey, key: .hmac(secret: Self.secret)))
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            for path in ["/fapi/v1/income", "/dapi/v1/income", "/fapi/v1/openOrders", "/dapi/v1/openOrders"] {
                let refused = try await rig.get(port: port, path)
                #expect(refused.status == 401 && Self.code(refused) == -2015, "\(path)")
            }
            for venue in [SimulatedVenue.usdM, .coinM] {
                for method in ["account.status", "userDataStream.start"] {
                    let answer = try rig.wsRequest(method, venue: venue)
                    #expect((answer["error"] as? [String: Any])?["code"] as? Int == -2015, "\(venue) \(method)")
                }
            }
            // The other keys are served on their own products as before.
            #expect(try await rig.get(port: port, "/fapi/v1/income", apiKey: Self.usdKey).status == 200)
            #expect(try await rig.get(port: port, "/dapi/v1/income", apiKey: Self.coinKey).status == 200)
            #expect(try rig.wsRequest("account.status", venue: .usdM, apiKey: Self.usdKey)["status"] as? Int == 200)
            #expect(try rig.wsRequest("account.status", venue: .coinM, apiKey: Self.coinKey)["status"] as? Int == 200)
        }
    }

    @Test func usdMAndCoinMKeysAreRefusedOnPapi() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            for key in [Self.usdKey, Self.coinKey, "unknown"] {
                for path in ["/papi/v1/account", "/papi/v1/balance", "/papi/v1/um/positionRisk", "/papi/v1/cm/openOrders"] {
                    let refused = try await rig.get(port: port, path, apiKey: key)
                    #expect(refused.status == 401 && Self.code(refused) == -2015, "\(key) \(path)")
                }
            }
            rig.simulator.revokeKey(Self.apiKey)
            #expect(Self.code(try await rig.get(port: port, "/papi/v1/account")) == -2015)
        }
    }

    // MARK: open orders and income

    @Test func theFourOrderListsShowTheirOwnOrdersWithThePMFieldsAndWeights() async throws {
        let rig = Rig()
        let simulator = rig.simulator
        simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(service: .plain, symbol: "BTCUSDT", side: "SELL", type: "LIMIT", quantity: 0.1, price: 70_000))
        simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(
                service: .algo, symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: 0, triggerPrice: 58_000, reduceOnly: true,
                closePosition: true))
        simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(service: .plain, symbol: "BTCUSD_PERP", side: "BUY", type: "LIMIT", quantity: 5, price: 60_000))
        simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(
                service: .algo, symbol: "BTCUSD_PERP", side: "SELL", type: "TRAILING_STOP_MARKET", quantity: 40, triggerPrice: 66_000,
                reduceOnly: true))
        #expect(simulator.openOrders(apiKey: Self.apiKey, venue: .portfolioMargin).count == 4)
        let port = try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            let expected: [String: (symbol: String, fields: Set<String>)] = [
                "/papi/v1/um/openOrders": (
                    "BTCUSDT",
                    [
                        "avgPrice", "clientOrderId", "cumQuote", "executedQty", "orderId", "origQty", "origType", "price", "reduceOnly",
                        "side", "positionSide", "status", "symbol", "time", "timeInForce", "type", "updateTime", "selfTradePreventionMode",
                        "goodTillDate", "priceMatch",
                    ]
                ),
                "/papi/v1/um/algo/openAlgoOrders": (
                    "BTCUSDT",
                    [
                        "algoId", "clientAlgoId", "algoType", "orderType", "symbol", "side", "positionSide", "timeInForce", "quantity",
                        "algoStatus", "triggerPrice", "price", "selfTradePreventionMode", "workingType", "priceMatch", "closePosition",
                        "priceProtect", "reduceOnly", "createTime", "updateTime", "triggerTime", "goodTillDate",
                    ]
                ),
                "/papi/v1/cm/openOrders": (
                    "BTCUSD_PERP",
                    [
                        "avgPrice", "clientOrderId", "cumBase", "executedQty", "orderId", "origQty", "origType", "price", "reduceOnly",
                        "side", "positionSide", "status", "symbol", "pair", "time", "timeInForce", "type", "updateTime",
                    ]
                ),
                "/papi/v1/cm/conditional/openOrders": (
                    "BTCUSD_PERP",
                    [
                        "newClientStrategyId", "strategyId", "strategyStatus", "strategyType", "origQty", "price", "reduceOnly", "side",
                        "positionSide", "stopPrice", "symbol", "bookTime", "updateTime", "timeInForce", "activatePrice", "priceRate",
                    ]
                ),
            ]
            for (path, want) in expected {
                let before = simulator.papiWeightCount
                let all = try await rig.get(port: port, path)
                let rows = try Self.array(all.text)
                #expect(rows.count == 1 && rows.first?["symbol"] as? String == want.symbol, "\(path): \(all.text)")
                #expect(rows.allSatisfy { Set($0.keys) == want.fields }, "\(path)")
                #expect(Self.weight(all) == before + 40, "\(path)")
                let one = try await rig.get(port: port, path, "symbol=\(want.symbol)")
                #expect(try Self.array(one.text).count == 1 && Self.weight(one) == before + 41, "\(path)")
            }
            let conditional = try Self.array(try await rig.get(port: port, "/papi/v1/cm/conditional/openOrders").text)
            #expect(conditional.first?["strategyId"] is Int && conditional.first?["origQty"] as? String == "40")
            #expect(try Self.array(try await rig.get(port: port, "/papi/v1/cm/openOrders", "pair=ETHUSD").text).isEmpty)
            #expect(Self.code(try await rig.get(port: port, "/papi/v1/cm/openOrders", "symbol=BTCUSDT")) == -1121)
        }
    }

    @Test func incomeListsEachSideInItsAssetAndFillsBookIntoTheUMAndCMWallets() async throws {
        let rig = Rig()
        let simulator = rig.simulator
        let um = try #require(simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.1))
        let cm = try #require(simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 10))
        #expect(simulator.payFunding(apiKey: Self.apiKey, symbol: "BTCUSDT", rate: 0.0001) != nil)
        let port = try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            let umIncome = try await rig.get(port: port, "/papi/v1/um/income")
            let umRows = try Self.array(umIncome.text)
            #expect(Set(umRows.compactMap { $0["incomeType"] as? String }) == ["REALIZED_PNL", "COMMISSION", "FUNDING_FEE"])
            #expect(
                umRows.allSatisfy { $0["asset"] as? String == "USDT" && $0["tranId"] is String && $0["symbol"] as? String == "BTCUSDT" })
            #expect(
                umRows.allSatisfy {
                    Set($0.keys) == ["symbol", "incomeType", "income", "asset", "info", "time", "tranId", "tradeId"]
                })
            #expect(Self.weight(umIncome) == 30)
            let cmRows = try Self.array(try await rig.get(port: port, "/papi/v1/cm/income").text)
            #expect(Set(cmRows.compactMap { $0["incomeType"] as? String }) == ["REALIZED_PNL", "COMMISSION"])
            #expect(cmRows.allSatisfy { $0["asset"] as? String == "BTC" })
            let filtered = try Self.array(try await rig.get(port: port, "/papi/v1/um/income", "incomeType=FUNDING_FEE").text)
            #expect(filtered.count == 1)

            // Futures results go to the UM and CM wallets, not the cross-margin balance.
            let balances = try Self.array(try await rig.get(port: port, "/papi/v1/balance").text)
            let usdt = try #require(balances.first { $0["asset"] as? String == "USDT" })
            #expect(usdt["crossMarginFree"] as? String == "10000.00000000")
            let funding =
                simulator.incomeHistory(apiKey: Self.apiKey, venue: .portfolioMargin).first { $0.type == "FUNDING_FEE" }?.amount ?? 0
            #expect(abs(Self.number(usdt["umWalletBalance"]) - (um.realizedProfit - um.commission + funding)) < 1e-8)
            let btc = try #require(balances.first { $0["asset"] as? String == "BTC" })
            #expect(abs(Self.number(btc["cmWalletBalance"]) - (cm.realizedProfit - cm.commission)) < 1e-8)
            #expect(
                simulator.account(apiKey: Self.apiKey, venue: .portfolioMargin)?.positions.first { $0.symbol == "BTCUSD_PERP" }?.amount
                    == 30)
        }
    }

    // MARK: weight budgets

    @Test func aSharedBudgetCountsPapiInTheIPWindowAndItsLimitBansEveryProduct() async throws {
        var configuration = SimulatorConfiguration()
        configuration.papiSharesIPWeight = true
        let rig = Rig(configuration: configuration)
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let papi = try await rig.get(port: port, "/papi/v1/account")
            #expect(Self.weight(papi) == 20 && rig.simulator.ipWeightCount == 20)
            // fapi's answer counts papi's weight, and papi's counts fapi's.
            let fapi = try await rig.get(port: port, "/fapi/v1/income", apiKey: Self.usdKey)
            #expect(Self.weight(fapi) == 50)
            #expect(Self.weight(try await rig.get(port: port, "/papi/v1/um/positionRisk")) == 55)
            #expect(rig.simulator.papiWeightCount == 55 && rig.simulator.stats.papiWeightByMinute.values.reduce(0, +) == 25)

            rig.simulator.addBackgroundWeight(2_370)
            let limited = try await rig.get(port: port, "/papi/v1/account")
            #expect(limited.status == 429 && Self.code(limited) == -1003 && limited.headers["retry-after"] != nil)
            // The same IP on fapi now earns the ban.
            let banned = try await rig.get(port: port, "/fapi/v1/income", apiKey: Self.usdKey)
            #expect(banned.status == 418)
            #expect(try await rig.get(port: port, "/papi/v1/balance").status == 418)
        }
    }

    @Test func aSeparateBudgetKeepsPapiOutOfTheIPWindowWithItsOwn6000LimitAnd429Then418() async throws {
        let rig = Rig()
        #expect(rig.simulator.configuration.papiWeightLimit == 6_000 && !rig.simulator.configuration.papiSharesIPWeight)
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let papi = try await rig.get(port: port, "/papi/v1/account")
            #expect(Self.weight(papi) == 20 && rig.simulator.ipWeightCount == 0)
            let fapi = try await rig.get(port: port, "/fapi/v1/income", apiKey: Self.usdKey)
            #expect(Self.weight(fapi) == 30)
            #expect(Self.weight(try await rig.get(port: port, "/papi/v1/balance")) == 40)
            // More than fapi's 2,400 is fine on papi.
            rig.simulator.addBackgroundPapiWeight(5_940)
            #expect(rig.simulator.papiWeightCount == 5_980 && rig.simulator.ipWeightCount == 30)
            let last = try await rig.get(port: port, "/papi/v1/account")
            #expect(last.status == 200 && Self.weight(last) == 6_000)
            let limited = try await rig.get(port: port, "/papi/v1/ping")
            #expect(limited.status == 429 && Self.code(limited) == -1003 && Self.weight(limited) == 6_000)
            #expect(limited.headers["retry-after"] == "60")
            let banned = try await rig.get(port: port, "/papi/v1/account")
            #expect(banned.status == 418 && banned.headers["retry-after"] == "120")
            // fapi's window and ban state are untouched.
            let other = try await rig.get(port: port, "/fapi/v1/income", apiKey: Self.usdKey)
            #expect(other.status == 200 && Self.weight(other) == 60)
            #expect(rig.simulator.stats.answered429 == 1 && rig.simulator.stats.answered418 == 1)
            rig.simulator.liftBan()
            await rig.clock.advance(by: .seconds(60))
            let next = try await rig.get(port: port, "/papi/v1/account")
            #expect(next.status == 200 && Self.weight(next) == 20)
        }
    }
}
