import Foundation
import TestSupport
import Testing

@testable import BinanceSimulator

/// The simulator's open orders: the two REST lists with Binance's weights and errors, and the
/// events of placing, cancelling and triggering orders, decoded with the types the official
/// SDK's models declare (a string where it says StrictStr, a number for StrictInt, a boolean for
/// StrictBool; a missing field fails the decode).
@Suite struct OrderBookTests: SignedSimulatorSuite {
    static let apiKey = "ordersAPIKEY0000000000000000000000000000000000000000000000000001"
    static let secret = "ordersSECRET000000000000000000000000000000000000000000000000001"

    /// A simulator on a manual clock (a minute boundary: the weight window cannot roll over)
    /// with one one-way account long 0.5 BTCUSDT and short 2 ETHUSDT, and the events it pushes.
    final class Rig: Sendable {
        let clock = ManualClock()
        let simulator: ExchangeSimulator
        let events = EventLog()

        init() {
            let clock = clock
            simulator = ExchangeSimulator(clock: { clock.now })
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: OrderBookTests.apiKey, key: .hmac(secret: OrderBookTests.secret),
                    positions: [
                        SimulatedPosition(symbol: "BTCUSDT", amount: 0.5, entryPrice: 62_000),
                        SimulatedPosition(symbol: "ETHUSDT", amount: -2, entryPrice: 3_200),
                    ]))
            // A live listen key, so that events are delivered; the observer sees each one.
            simulator.state.withLockedValue { $0.listenKeys[OrderBookTests.apiKey] = ListenKeyState(key: "lk", expiresAt: .max) }
            let events = events
            simulator.eventObserver.withLockedValue { $0 = { _, type, json in events.append(type, json) } }
        }

        /// A signed GET through a real socket, as a REST client sends it.
        func get(port: Int, _ path: String, _ query: String = "", apiKey: String = OrderBookTests.apiKey) async throws -> HTTPResponse {
            try await OrderBookTests.signedRequest(port: port, path, query, timestamp: clock.now, apiKey: apiKey)
        }
    }

    // MARK: the SDK's models, as strict Swift types

    struct AlgoUpdate: Decodable {
        let e: String
        let T: Int64
        let E: Int64
        let o: AlgoUpdateO
    }

    struct AlgoUpdateO: Decodable {
        let caid: String
        let aid: Int64
        let at: String
        let o: String
        let s: String
        let S: String
        let ps: String
        let f: String
        let q: String
        let X: String
        let ai: String
        let ap: String
        let aq: String
        let act: String
        let tp: String
        let p: String
        let V: String
        let wt: String
        let pm: String
        let cp: Bool
        let pP: Bool
        let R: Bool
        let tt: Int64
        let gtd: Int64
        let rm: String
        let ia: Bool
    }

    struct OrderTradeUpdate: Decodable {
        let e: String
        let E: Int64
        let T: Int64
        let o: OrderTradeUpdateO
    }

    /// Every field of the SDK's `OrderTradeUpdateO` but `M` (amendments only).
    struct OrderTradeUpdateO: Decodable {
        let s: String
        let c: String
        let S: String
        let o: String
        let f: String
        let q: String
        let p: String
        let ap: String
        let sp: String
        let x: String
        let X: String
        let i: Int64
        let l: String
        let z: String
        let L: String
        let N: String
        let n: String
        let T: Int64
        let t: Int64
        let b: String
        let a: String
        let m: Bool
        let R: Bool
        let wt: String
        let ot: String
        let ps: String
        let cp: Bool
        let AP: String
        let cr: String
        let pP: Bool
        let si: Int64
        let ss: Int64
        let rp: String
        let V: String
        let pm: String
        let gtd: Int64
        let er: String
    }

    /// `CurrentAllOpenOrdersResponseInner`; `activatePrice` and `priceRate` only for trailing stops.
    struct OpenOrderRow: Decodable {
        let avgPrice: String
        let clientOrderId: String
        let cumQuote: String
        let executedQty: String
        let orderId: Int64
        let origQty: String
        let origType: String
        let price: String
        let reduceOnly: Bool
        let side: String
        let positionSide: String
        let status: String
        let stopPrice: String
        let closePosition: Bool
        let symbol: String
        let time: Int64
        let timeInForce: String
        let type: String
        let activatePrice: String?
        let priceRate: String?
        let updateTime: Int64
        let workingType: String
        let priceProtect: Bool
        let priceMatch: String
        let selfTradePreventionMode: String
        let goodTillDate: Int64
    }

    /// `CurrentAllAlgoOpenOrdersResponseInner` (`icebergQuantity` is null, as Binance sends it).
    struct OpenAlgoOrderRow: Decodable {
        let algoId: Int64
        let clientAlgoId: String
        let algoType: String
        let orderType: String
        let symbol: String
        let side: String
        let positionSide: String
        let timeInForce: String
        let quantity: String
        let algoStatus: String
        let actualOrderId: String
        let actualPrice: String
        let triggerPrice: String
        let price: String
        let icebergQuantity: String?
        let tpTriggerPrice: String
        let tpPrice: String
        let slTriggerPrice: String
        let slPrice: String
        let tpOrderType: String
        let selfTradePreventionMode: String
        let workingType: String
        let priceMatch: String
        let closePosition: Bool
        let priceProtect: Bool
        let reduceOnly: Bool
        let createTime: Int64
        let updateTime: Int64
        let triggerTime: Int64
        let goodTillDate: Int64
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// The rows as Foundation reads them: which keys are there, nulls included.
    static func rawRows(_ text: String) throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    static let stop = SimulatedOrder(
        service: .algo, symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: 0, triggerPrice: 58_000, reduceOnly: true,
        closePosition: true)
    static let trailing = SimulatedOrder(
        service: .algo, symbol: "ETHUSDT", side: "BUY", type: "TRAILING_STOP_MARKET", quantity: 1, triggerPrice: 3_000, reduceOnly: true)
    static let limit = SimulatedOrder(service: .plain, symbol: "BTCUSDT", side: "BUY", type: "LIMIT", quantity: 0.1, price: 60_000)
    static let legacyStop = SimulatedOrder(
        service: .plain, symbol: "ETHUSDT", side: "BUY", type: "TRAILING_STOP_MARKET", quantity: 2, triggerPrice: 3_300, reduceOnly: true)

    // MARK: REST

    @Test func bothListsWeighOneWithASymbolAndFortyWithout() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            for path in ["/fapi/v1/openOrders", "/fapi/v1/openAlgoOrders"] {
                let before = rig.simulator.ipWeightCount
                let all = try await rig.get(port: port, path)
                #expect(all.status == 200, "\(all.text)")
                #expect(all.headers["x-mbx-used-weight-1m"] == String(before + 40))
                let one = try await rig.get(port: port, path, "symbol=BTCUSDT")
                #expect(one.status == 200, "\(one.text)")
                #expect(one.headers["x-mbx-used-weight-1m"] == String(before + 41))
                #expect(rig.simulator.stats.restWeightByPath[path] == 41)
                #expect(rig.simulator.stats.restRequestsByPath[path] == 2)
            }
        }
    }

    @Test func theListsShowEachServiceWithEveryFieldAndFilterBySymbol() async throws {
        let rig = Rig()
        let simulator = rig.simulator
        let stopID = simulator.placeOrder(apiKey: Self.apiKey, Self.stop)
        let trailingID = simulator.placeOrder(apiKey: Self.apiKey, Self.trailing)
        let limitID = simulator.placeOrder(apiKey: Self.apiKey, Self.limit)
        let legacyID = simulator.placeOrder(apiKey: Self.apiKey, Self.legacyStop)
        #expect(Set([stopID, trailingID, limitID, legacyID]).count == 4 && !([stopID, trailingID, limitID, legacyID].contains(0)))
        let port = try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            let plain = try await rig.get(port: port, "/fapi/v1/openOrders")
            let plainRows = try Self.decode([OpenOrderRow].self, plain.text)
            #expect(plainRows.map(\.orderId) == [limitID, legacyID])
            let limit = try #require(plainRows.first)
            #expect(limit.type == "LIMIT" && limit.origType == "LIMIT" && limit.status == "NEW" && limit.executedQty == "0")
            #expect(limit.price == "60000.00000" && limit.stopPrice == "0" && limit.origQty == "0.100")
            #expect(limit.side == "BUY" && limit.positionSide == "BOTH" && !limit.reduceOnly && !limit.closePosition)
            #expect(limit.time == rig.clock.now && limit.updateTime == rig.clock.now)
            let rawLimit = try Self.rawRows(plain.text)[0]
            #expect(rawLimit["activatePrice"] == nil && rawLimit["priceRate"] == nil, "only a trailing stop has them")
            let legacy = plainRows[1]
            #expect(legacy.type == "TRAILING_STOP_MARKET" && legacy.stopPrice == "3300.00000" && legacy.reduceOnly)
            #expect(legacy.activatePrice == "3300.00000" && legacy.priceRate == "1.0")

            let algo = try await rig.get(port: port, "/fapi/v1/openAlgoOrders")
            let algoRows = try Self.decode([OpenAlgoOrderRow].self, algo.text)
            #expect(algoRows.map(\.algoId) == [stopID, trailingID])
            let stop = try #require(algoRows.first)
            #expect(stop.algoType == "CONDITIONAL" && stop.orderType == "STOP_MARKET" && stop.algoStatus == "NEW")
            #expect(stop.triggerPrice == "58000.00000" && stop.quantity == "0.000" && stop.closePosition && stop.reduceOnly)
            #expect(stop.actualOrderId == "" && stop.icebergQuantity == nil && stop.triggerTime == 0)
            #expect(try Self.rawRows(algo.text)[0]["icebergQuantity"] is NSNull)

            // The symbol filter, upper-cased like Binance does; an unlisted symbol is −1121.
            let btc = try Self.decode(
                [OpenAlgoOrderRow].self, try await rig.get(port: port, "/fapi/v1/openAlgoOrders", "symbol=btcusdt").text)
            #expect(btc.map(\.algoId) == [stopID])
            let eth = try Self.decode([OpenOrderRow].self, try await rig.get(port: port, "/fapi/v1/openOrders", "symbol=ETHUSDT").text)
            #expect(eth.map(\.orderId) == [legacyID])
            let byID = try await rig.get(port: port, "/fapi/v1/openAlgoOrders", "algoId=\(trailingID)")
            #expect(try Self.decode([OpenAlgoOrderRow].self, byID.text).map(\.algoId) == [trailingID])
            let unknown = try await rig.get(port: port, "/fapi/v1/openOrders", "symbol=NOPEUSDT")
            #expect(unknown.status == 400 && unknown.text == #"{"code":-1121,"msg":"Invalid symbol."}"#)
        }
        #expect(simulator.openOrders(apiKey: Self.apiKey).map(\.id) == [stopID, trailingID, limitID, legacyID])
        var expected = Self.stop
        expected.id = stopID
        #expect(simulator.openOrders(apiKey: Self.apiKey).first == expected)
    }

    @Test func aGatewayWithoutTheListsAnswers404AndAKeyThatMayNotRead401() async throws {
        let rig = Rig()
        let port = try await rig.simulator.start()
        try await withCleanup({ await rig.simulator.stop() }) {
            rig.simulator.updateFaults { $0.openOrdersNotFound = true }
            for path in ["/fapi/v1/openOrders", "/fapi/v1/openAlgoOrders"] {
                let answer = try await rig.get(port: port, path, "symbol=BTCUSDT")
                #expect(answer.status == 404)
                #expect(answer.text == #"{"code":-1,"msg":"Not found."}"#)
                #expect(rig.simulator.stats.restWeightByPath[path] == nil, "a 404 costs no weight")
            }
            #expect(try await rig.get(port: port, "/fapi/v1/income").status == 200, "the other routes still answer")
            rig.simulator.updateFaults { $0.openOrdersNotFound = false }
            rig.simulator.updateAccount(apiKey: Self.apiKey) { $0.restrictions.flags["enableReading"] = false }
            let refused = try await rig.get(port: port, "/fapi/v1/openAlgoOrders")
            #expect(refused.status == 401)
            #expect(refused.text == #"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#)
            let unknownKey = try await rig.get(port: port, "/fapi/v1/openOrders", apiKey: "nobody")
            #expect(unknownKey.status == 401)
        }
    }

    // MARK: events

    @Test func placingAndCancellingPushesTheEventOfEachService() throws {
        let rig = Rig()
        let simulator = rig.simulator
        let limitID = simulator.placeOrder(apiKey: Self.apiKey, Self.limit)
        let stopID = simulator.placeOrder(apiKey: Self.apiKey, Self.stop)
        #expect(rig.events.all.map(\.type) == ["ORDER_TRADE_UPDATE", "ALGO_UPDATE"])
        let placed = try Self.decode(OrderTradeUpdate.self, rig.events.all[0].json)
        #expect(placed.e == "ORDER_TRADE_UPDATE" && placed.E == rig.clock.now)
        let o = placed.o
        #expect(o.i == limitID && o.x == "NEW" && o.X == "NEW" && o.o == "LIMIT" && o.ot == "LIMIT")
        #expect(o.s == "BTCUSDT" && o.S == "BUY" && o.ps == "BOTH" && o.q == "0.100" && o.p == "60000.00000")
        #expect(o.sp == "0" && !o.R && !o.cp && o.z == "0.000" && o.l == "0.000")
        let algo = try Self.decode(AlgoUpdate.self, rig.events.all[1].json)
        #expect(algo.e == "ALGO_UPDATE" && algo.T == rig.clock.now)
        #expect(algo.o.aid == stopID && algo.o.at == "CONDITIONAL" && algo.o.o == "STOP_MARKET" && algo.o.X == "NEW")
        #expect(algo.o.tp == "58000.00000" && algo.o.cp && algo.o.R && algo.o.ai == "" && algo.o.tt == 0 && !algo.o.ia)

        rig.events.removeAll()
        #expect(simulator.cancelOrder(apiKey: Self.apiKey, service: .plain, id: limitID))
        #expect(simulator.cancelOrder(apiKey: Self.apiKey, service: .algo, id: stopID))
        #expect(!simulator.cancelOrder(apiKey: Self.apiKey, service: .algo, id: stopID), "already gone")
        #expect(!simulator.cancelOrder(apiKey: Self.apiKey, service: .algo, id: limitID), "an orderId is not an algoId")
        let cancelled = try Self.decode(OrderTradeUpdate.self, rig.events.all[0].json).o
        #expect(cancelled.i == limitID && cancelled.x == "CANCELED" && cancelled.X == "CANCELED")
        #expect(try Self.decode(AlgoUpdate.self, rig.events.all[1].json).o.X == "CANCELED")
        #expect(rig.events.all.count == 2)
        #expect(simulator.openOrders(apiKey: Self.apiKey).isEmpty)
    }

    @Test func unannouncedOrdersAndAPausedStreamPushNothing() throws {
        let rig = Rig()
        let simulator = rig.simulator
        let silent = simulator.placeOrder(apiKey: Self.apiKey, Self.stop, announce: false)
        #expect(simulator.openOrders(apiKey: Self.apiKey).map(\.id) == [silent])
        simulator.updateFaults { $0.pauseUserStream = true }
        let paused = simulator.placeOrder(apiKey: Self.apiKey, Self.limit)
        simulator.updateFaults { $0.pauseUserStream = false }
        #expect(simulator.cancelOrder(apiKey: Self.apiKey, service: .plain, id: paused, announce: false))
        #expect(rig.events.all.isEmpty)
        #expect(simulator.placeOrder(apiKey: "nobody", Self.limit) == 0)
    }

    @Test func aTriggeredStopPlacesAMarketOrderThatClosesThePosition() throws {
        let rig = Rig()
        let simulator = rig.simulator
        let stopID = simulator.placeOrder(apiKey: Self.apiKey, Self.stop)
        rig.events.removeAll()
        #expect(simulator.triggerAlgoOrder(apiKey: Self.apiKey, id: stopID))
        #expect(!simulator.triggerAlgoOrder(apiKey: Self.apiKey, id: stopID), "it left the book")
        let events = rig.events.all
        #expect(
            events.map(\.type) == [
                "ALGO_UPDATE", "ALGO_UPDATE", "ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ALGO_UPDATE",
            ])
        guard events.count == 6 else { return }
        let triggering = try Self.decode(AlgoUpdate.self, events[0].json).o
        let triggered = try Self.decode(AlgoUpdate.self, events[1].json).o
        let new = try Self.decode(OrderTradeUpdate.self, events[2].json).o
        let filled = try Self.decode(OrderTradeUpdate.self, events[3].json).o
        let finished = try Self.decode(AlgoUpdate.self, events[5].json).o
        #expect(triggering.X == "TRIGGERING" && triggering.tt == rig.clock.now && triggering.ai == "")
        #expect(triggered.X == "TRIGGERED" && triggered.ai == String(new.i) && triggered.act == "MARKET")
        #expect(new.x == "NEW" && new.X == "NEW" && new.o == "MARKET" && new.ot == "STOP_MARKET")
        #expect(new.sp == "58000.00000" && new.cp && new.R && new.q == "0.500" && new.c == triggered.caid)
        #expect(filled.i == new.i && filled.X == "FILLED" && filled.x == "TRADE" && filled.ot == "STOP_MARKET" && filled.z == "0.500")
        #expect(filled.sp == "58000.00000" && filled.cp && filled.R && filled.S == "SELL")
        #expect(finished.X == "FINISHED" && finished.aid == stopID && finished.aq == "0.500" && finished.ai == String(new.i))
        #expect(finished.ap == DecimalFormat.string(simulator.markPrice("BTCUSDT"), places: 5))
        #expect(simulator.account(apiKey: Self.apiKey)?.positions.contains { $0.symbol == "BTCUSDT" } == false)
        #expect(simulator.openOrders(apiKey: Self.apiKey).isEmpty)
    }

    @Test func aReduceOnlyStopClosesAtMostTheLegAndExpiresWithNothingToClose() throws {
        let rig = Rig()
        let simulator = rig.simulator
        // Buys back 5 of a 2 ETHUSDT short: only 2 are closed.
        let big = simulator.placeOrder(
            apiKey: Self.apiKey,
            SimulatedOrder(
                service: .algo, symbol: "ETHUSDT", side: "BUY", type: "STOP_MARKET", quantity: 5, triggerPrice: 3_400, reduceOnly: true))
        #expect(simulator.triggerAlgoOrder(apiKey: Self.apiKey, id: big))
        #expect(simulator.account(apiKey: Self.apiKey)?.positions.contains { $0.symbol == "ETHUSDT" } == false)
        let filled = try rig.events.all.filter { $0.type == "ORDER_TRADE_UPDATE" }.map { try Self.decode(OrderTradeUpdate.self, $0.json).o }
        #expect(filled.map(\.X) == ["NEW", "FILLED"] && filled.allSatisfy { $0.q == "2.000" })
        // Nothing left to close: the order expires without a plain order.
        rig.events.removeAll()
        let again = simulator.placeOrder(apiKey: Self.apiKey, Self.trailing)
        #expect(simulator.triggerAlgoOrder(apiKey: Self.apiKey, id: again))
        let updates = try rig.events.all.map { try Self.decode(AlgoUpdate.self, $0.json).o }
        #expect(updates.map(\.X) == ["NEW", "TRIGGERING", "EXPIRED"])
        #expect(updates.last?.rm.isEmpty == false && updates.last?.ia == true)
    }
}

/// The events the simulator pushed, in order (the observer is called from any thread).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [(type: String, json: String)] = []
    func append(_ type: String, _ json: String) { lock.withLock { events.append((type: type, json: json)) } }
    var all: [(type: String, json: String)] { lock.withLock { events } }
    func removeAll() { lock.withLock { events.removeAll() } }
}
