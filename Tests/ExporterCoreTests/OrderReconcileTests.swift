import NIOConcurrencyHelpers
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// The open-order side of a session, on a manual clock against the in-memory exchange: what is
/// read when, what it costs, and what a trader sees on `/metrics`.
@Suite struct OrderReconcileTests {
    static let long = StatusPosition(
        symbol: "BTCUSDT", positionSide: "BOTH", positionAmount: 0.5, unrealizedProfit: 0, initialMargin: 1500, maintMargin: 120,
        notional: 30_000, updateTime: 1)

    static func stop(_ id: Int64, quantity: Double, trigger: Double) -> OpenOrder {
        OpenOrder(
            service: .algo, id: id, symbol: "BTCUSDT", side: "SELL", positionSide: "BOTH", type: "STOP_MARKET", quantity: quantity,
            triggerPrice: trigger, reduceOnly: true, closePosition: false, updateTime: 1)
    }

    static let ratio: KeyValuePairs<String, String> = ["account": "p", "symbol": "BTCUSDT", "position_side": "BOTH", "kind": "stop_loss"]
    static let stopPrice: KeyValuePairs<String, String> = ["account": "p", "symbol": "BTCUSDT", "position_side": "BOTH"]

    @Test("a stop placed while the stream was down is found when the gap ends; then the stream keeps the book current")
    func gapIsReconciled() async throws {
        let rig = await SessionRig()
        rig.exchange.state.withLockedValue { $0.positions["P"] = [Self.long] }
        let session = try rig.session("p", rest: true)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(1))
            // First read right after the first poll: every symbol once (the account's phase is 0),
            // so orders on symbols without a position are found too.
            #expect(rig.seconds("openOrders(all)") == [0])
            #expect(rig.seconds("openAlgoOrders(all)") == [0])
            #expect(await rig.value("binance_futures_position_protection_ratio", Self.ratio) == 0, "a long without a stop shows 0")
            #expect(await rig.value("binance_futures_position_stop_price", Self.stopPrice) == nil)

            rig.hub.send("p", .disconnected(.connectionLost))
            await rig.clock.advance(by: .seconds(2))
            // Placed while the stream was down: no event reaches the exporter.
            rig.exchange.state.withLockedValue { $0.orders["P"] = [Self.stop(11, quantity: 0.5, trigger: 57_000)] }
            rig.hub.send("p", .subscribed)
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.seconds("openAlgoOrders") == [3], "the gap's end reads the position's symbol, weight 1 per list")
            #expect(rig.seconds("openOrders") == [3])
            #expect(await rig.value("binance_futures_position_protection_ratio", Self.ratio) == 1)
            #expect(await rig.value("binance_futures_position_stop_price", Self.stopPrice) == 57_000)

            // The trader cancels the stop: the stream says so at once.
            let cancelled = AlgoUpdate(eventTime: rig.clock.now, status: "CANCELED", order: Self.stop(11, quantity: 0.5, trigger: 57_000))
            rig.exchange.state.withLockedValue { $0.orders["P"] = [] }
            rig.hub.send("p", .event(.algoUpdate(cancelled)))
            await rig.clock.advance(by: .milliseconds(10))
            #expect(await rig.value("binance_futures_position_protection_ratio", Self.ratio) == 0)
            #expect(await rig.value("binance_futures_position_stop_price", Self.stopPrice) == nil)
            #expect(await rig.value("binance_futures_open_orders", ["account": "p", "symbol": "BTCUSDT", "type": "stop_market"]) == nil)

            // Without gaps, a read per reconcile interval (the poll interval here, at least a minute), per symbol.
            await rig.clock.advance(by: .seconds(120))
            #expect(rig.seconds("openAlgoOrders").count == 3)
            #expect(rig.seconds("openAlgoOrders(all)") == [0], "one symbol: per-symbol calls are cheaper than weight 40")
        }
    }

    @Test("a key that may not read orders: one refused call, no order metrics, polls go on")
    func refusedKey() async throws {
        let rig = await SessionRig()
        rig.exchange.state.withLockedValue {
            $0.positions["P"] = [Self.long]
            $0.ordersRefused = ["P"]
        }
        let session = try rig.session("p", rest: true)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(600))
            #expect(rig.seconds("openOrders(all)") == [0])
            #expect(rig.seconds("openAlgoOrders(all)").isEmpty)
            #expect(rig.seconds("openOrders").isEmpty)
            #expect(rig.seconds("account.status").count > 30, "polling is unaffected")
            #expect(await rig.value("binance_futures_position_protection_ratio", Self.ratio) == nil)
            #expect(await rig.value("binance_futures_position_amount", Self.stopPrice) == 0.5)
        }
    }
}
