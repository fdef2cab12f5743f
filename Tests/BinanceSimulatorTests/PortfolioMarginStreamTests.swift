import Foundation
import TestSupport
import Testing

@testable import BinanceSimulator

/// The Portfolio Margin user data stream over real WebSockets: a listen key from
/// `POST /papi/v1/listenKey`, its raw stream at `/pm/ws/<listenKey>` (and the combined
/// `/pm/stream`), `riskLevelChange` when the status band changes, fills and funding with `fs`,
/// `listenKeyExpired`, refused keys, and the user stream faults.
@Suite struct PortfolioMarginStreamTests: SignedSimulatorSuite {
    static let secret = PortfolioMarginTests.secret
    static let apiKey = PortfolioMarginTests.apiKey

    /// The accounts of `PortfolioMarginTests.Rig` (the PM one's maintenance margin is 80 USD)
    /// on a live simulator, with the PM account's listen key started over REST
    /// (`POST /papi/v1/listenKey`) and the USDⓈ-M account's on ws-fapi.
    static func withKeys(
        _ body: @Sendable (PortfolioMarginTests.Rig, Int, _ key: String, _ usdKey: String) async throws -> Void
    ) async throws {
        let rig = PortfolioMarginTests.Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            let started = try await rig.keyed(port: port, "/papi/v1/listenKey", method: "POST")
            let key = try #require(try Self.object(started.text)["listenKey"] as? String)
            let usdKey = try #require(
                (try rig.wsRequest("userDataStream.start", venue: .usdM, apiKey: PortfolioMarginTests.usdKey)["result"]
                    as? [String: Any])?["listenKey"] as? String)
            try await body(rig, port, key, usdKey)
        }
    }

    /// `withKeys`, with the PM key's raw stream (`/pm/ws/<listenKey>`) connected.
    static func withStream(
        _ body: @Sendable (PortfolioMarginTests.Rig, Int, String, TestWebSocket) async throws -> Void
    ) async throws {
        try await withKeys { rig, port, key, _ in
            let socket = try await TestWebSocket.connect(port: port, path: "/pm/ws/\(key)")
            try await withCleanup({ await socket.close() }) {
                try await waitForStreams(rig.simulator, count: 1)
                try await body(rig, port, key, socket)
            }
        }
    }

    static func waitForStreams(_ simulator: ExchangeSimulator, count: Int) async throws {
        for _ in 0..<100 where simulator.openUserStreams != count { try await Task.sleep(for: .milliseconds(20)) }
        #expect(simulator.openUserStreams == count)
    }

    // MARK: riskLevelChange

    @Test func aBandChangePushesRiskLevelChangeWithTheAccountFiguresAndTheSameBandPushesNothing() async throws {
        try await Self.withStream { rig, _, _, socket in
            let simulator = rig.simulator
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.1))
            let event = try Self.object(try await socket.next())
            #expect(Set(event.keys) == ["e", "E", "u", "s", "eq", "ae", "m"])
            #expect(event["e"] as? String == "riskLevelChange" && event["s"] as? String == "REDUCE_ONLY")
            #expect(event["E"] as? Int64 == rig.clock.now)
            let figures = try #require(simulator.portfolioMarginFigures(apiKey: Self.apiKey))
            #expect(event["u"] as? String == DecimalFormat.string(figures.uniMMR) && abs(Self.number(event["u"]) - 1.1) < 1e-6)
            #expect(event["eq"] as? String == DecimalFormat.string(figures.accountEquity))
            #expect(abs(Self.number(event["eq"]) - 88) < 1e-6)
            #expect(event["ae"] as? String == DecimalFormat.string(figures.actualEquity))
            #expect(event["m"] as? String == "80.00000000")

            // Within the band: nothing. A forced status is a change, and so is its end.
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.15))
            simulator.forcePortfolioMarginStatus(apiKey: Self.apiKey, .forceLiquidation)
            #expect(try Self.object(try await socket.next())["s"] as? String == "FORCE_LIQUIDATION")
            simulator.forcePortfolioMarginStatus(apiKey: Self.apiKey, nil)
            let back = try Self.object(try await socket.next())
            #expect(back["s"] as? String == "REDUCE_ONLY" && abs(Self.number(back["u"]) - 1.15) < 1e-6)
            // Back up to the margin-call band, then out of the bands: NORMAL.
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.4))
            #expect(try Self.object(try await socket.next())["s"] as? String == "MARGIN_CALL")
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 2))
            #expect(try Self.object(try await socket.next())["s"] as? String == "NORMAL")

            // A price move across a band pushes it too.
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.6))
            simulator.setMarkPrice("BTCUSDT", 63_000)
            let moved = try Self.object(try await socket.next())
            let status = try #require(simulator.portfolioMarginFigures(apiKey: Self.apiKey)?.status)
            #expect(status != .normal && moved["s"] as? String == status.rawValue)
        }
    }

    @Test func theCombinedFormTakesPortfolioMarginKeysWithSubscribeAndWrapsEvents() async throws {
        try await Self.withKeys { rig, port, key, usdKey in
            let socket = try await TestWebSocket.connect(port: port, path: "/pm/stream")
            try await withCleanup({ await socket.close() }) {
                socket.send("{\"method\":\"SUBSCRIBE\",\"params\":[\"\(usdKey)\"],\"id\":1}")
                #expect((try Self.object(try await socket.next())["error"] as? [String: Any])?["code"] as? Int == -1125)
                socket.send("{\"method\":\"SUBSCRIBE\",\"params\":[\"\(key)\"],\"id\":2}")
                #expect(try await socket.next() == "{\"result\":null,\"id\":2}")
                #expect(rig.simulator.setPortfolioMarginUniMMR(apiKey: Self.apiKey, 1.3))
                let frame = try Self.object(try await socket.next())
                #expect(frame["stream"] as? String == key)
                #expect((frame["data"] as? [String: Any])?["s"] as? String == "MARGIN_CALL")
            }
        }
    }

    // MARK: fills and funding

    @Test func fillsAndFundingCarryTheBusinessUnitAndOnlyThePMSDKsFields() async throws {
        try await Self.withStream { rig, _, _, socket in
            let simulator = rig.simulator
            let alias = try #require(simulator.account(apiKey: Self.apiKey, venue: .portfolioMargin)?.accountAlias)
            let cm = try #require(simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 10))
            let order = try Self.object(try await socket.next())
            #expect(Set(order.keys) == ["e", "fs", "E", "T", "i", "o"])
            #expect(order["e"] as? String == "ORDER_TRADE_UPDATE" && order["fs"] as? String == "CM" && order["i"] as? String == alias)
            let o = try #require(order["o"] as? [String: Any])
            #expect(
                Set(o.keys) == [
                    "s", "c", "S", "o", "f", "q", "p", "ap", "sp", "x", "X", "i", "l", "z", "L", "N", "n", "T", "t", "b", "a", "m", "R",
                    "ps", "rp", "V", "gtd",
                ])
            #expect(o["s"] as? String == "BTCUSD_PERP" && o["q"] as? String == "10" && o["N"] as? String == "BTC")
            #expect(o["x"] as? String == "TRADE" && o["X"] as? String == "FILLED" && o["i"] is Int64 && o["m"] as? Bool == false)
            #expect(abs(Self.number(o["rp"]) - cm.realizedProfit) < 1e-8 && abs(Self.number(o["n"]) - cm.commission) < 1e-8)

            let update = try Self.object(try await socket.next())
            #expect(Set(update.keys) == ["e", "fs", "E", "T", "i", "a"])
            #expect(update["e"] as? String == "ACCOUNT_UPDATE" && update["fs"] as? String == "CM")
            let a = try #require(update["a"] as? [String: Any])
            #expect(a["m"] as? String == "ORDER")
            let balance = try #require((a["B"] as? [[String: Any]])?.first)
            // The CM wallet the fill's results are booked into.
            let cmWallet = try #require(
                simulator.account(apiKey: Self.apiKey, venue: .portfolioMargin)?.portfolioMarginAssets["BTC"]?.cmWallet)
            #expect(balance["a"] as? String == "BTC" && balance["wb"] as? String == DecimalFormat.string(cmWallet))
            #expect(balance["cw"] as? String == balance["wb"] as? String)
            let position = try #require((a["P"] as? [[String: Any]])?.first)
            #expect(Set(position.keys) == ["s", "pa", "ep", "bep", "cr", "up", "ps"])
            #expect(position["s"] as? String == "BTCUSD_PERP" && position["pa"] as? String == "30")

            simulator.fill(apiKey: Self.apiKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.1)
            let um = try Self.object(try await socket.next())
            #expect(um["fs"] as? String == "UM" && (um["o"] as? [String: Any])?["q"] as? String == "0.100")
            let umUpdate = try Self.object(try await socket.next())
            #expect(umUpdate["fs"] as? String == "UM")
            #expect(((umUpdate["a"] as? [String: Any])?["B"] as? [[String: Any]])?.first?["a"] as? String == "USDT")

            #expect(simulator.payFunding(apiKey: Self.apiKey, symbol: "BTCUSDT", rate: 0.0001) != nil)
            let funding = try Self.object(try await socket.next())
            let fundingA = try #require(funding["a"] as? [String: Any])
            #expect(funding["fs"] as? String == "UM" && fundingA["m"] as? String == "FUNDING_FEE" && fundingA["S"] as? String == "BTCUSDT")
            // PM has no MARGIN_CALL event.
            #expect(!simulator.marginCall(apiKey: Self.apiKey, venue: .portfolioMargin))
        }
    }

    // MARK: keys

    @Test func anUnknownOrOtherVenuesKeyIsRefusedAndAPMKeyIsRefusedElsewhere() async throws {
        try await Self.withKeys { (rig, port, key, usdKey) async throws in
            for path in ["/pm/ws/nope", "/pm/ws/\(usdKey)"] {
                await #expect(throws: HTTPStatusError(status: 400)) { try await TestWebSocket.connect(port: port, path: path) }
            }
            for path in ["/private/ws?listenKey=\(key)", "/dstream/ws/\(key)"] {
                await #expect(throws: HTTPStatusError(status: 400)) { try await TestWebSocket.connect(port: port, path: path) }
            }
            await #expect(throws: HTTPStatusError(status: 404)) { try await TestWebSocket.connect(port: port, path: "/pm/other") }
            // Closed over REST: gone.
            #expect(try await rig.keyed(port: port, "/papi/v1/listenKey", method: "DELETE").status == 200)
            await #expect(throws: HTTPStatusError(status: 400)) { try await TestWebSocket.connect(port: port, path: "/pm/ws/\(key)") }
        }
    }

    @Test func anExpiredKeySendsListenKeyExpiredWithTheEventTimeAloneAndIsRefusedAfterwards() async throws {
        try await Self.withStream { rig, port, key, socket in
            rig.simulator.expireListenKey(apiKey: Self.apiKey, venue: .portfolioMargin)
            let event = try Self.object(try await socket.next())
            #expect(Set(event.keys) == ["e", "E"] && event["e"] as? String == "listenKeyExpired")
            #expect(rig.simulator.listenKey(apiKey: Self.apiKey, venue: .portfolioMargin) == nil)
            await #expect(throws: HTTPStatusError(status: 400)) { try await TestWebSocket.connect(port: port, path: "/pm/ws/\(key)") }
        }
    }

    // MARK: test hook and faults

    @Test func thePushHookPauseMalformedFramesAndDropsApplyToPMConnections() async throws {
        try await Self.withStream { rig, _, _, socket in
            let simulator = rig.simulator
            let liability =
                "{\"e\":\"liabilityChange\",\"E\":1,\"a\":\"USDT\",\"t\":\"BORROW\",\"T\":2,\"p\":\"1\",\"i\":\"0\",\"l\":\"1\"}"
            #expect(simulator.pushUserStreamEvent(apiKey: Self.apiKey, type: "liabilityChange", json: liability))
            #expect(try await socket.next() == liability)
            #expect(!simulator.pushUserStreamEvent(apiKey: PortfolioMarginTests.usdKey, type: "x", json: "{}"))

            simulator.updateFaults { $0.pauseUserStream = true }
            simulator.forcePortfolioMarginStatus(apiKey: Self.apiKey, .marginCall)
            simulator.updateFaults { $0.pauseUserStream = false }
            simulator.broadcastToUserStreams(text: "}{ not json")
            #expect(try await socket.next() == "}{ not json", "the paused event was never sent")

            simulator.dropUserStreams()
            await #expect(throws: TestWebSocket.Timeout.self) { try await socket.next(timeout: .seconds(2)) }
            try await Self.waitForStreams(simulator, count: 0)
        }
    }
}
