import BinanceSimulator
import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// A trader's stops over real sockets: the simulator's Algo service and user stream, the REST
/// lists, the session and `/metrics`.
@Suite(.serialized) struct ProtectionIntegrationTests {
    static let btc: KeyValuePairs<String, String> = ["account": "alpha", "symbol": "BTCUSDT", "position_side": "BOTH"]

    static func ratio(_ e: Exposition, _ kind: String) -> Double? {
        e.value(
            "binance_futures_position_protection_ratio", ["account": "alpha", "symbol": "BTCUSDT", "position_side": "BOTH", "kind": kind])
    }

    static func stop(_ type: String, quantity: Double, trigger: Double, closePosition: Bool = false) -> SimulatedOrder {
        SimulatedOrder(
            service: .algo, symbol: "BTCUSDT", side: "SELL", positionSide: "BOTH", type: type, quantity: quantity, triggerPrice: trigger,
            price: 0, reduceOnly: !closePosition, closePosition: closePosition)
    }

    @Test(
        "an unprotected long shows 0; a stop placed shows within a second; one cancelled while the stream missed it is gone after the gap")
    func stopsReachMetrics() async throws {
        let rig = try await StreamRig(
            accounts: [
                try UserStreamIntegrationTests.account(
                    "ALPHA", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000)])
            ], withLedger: true)
        try await withCleanup({ await rig.stop() }) { () async throws in
            rig.harness.simulator.setMarkPrice("BTCUSDT", 60_000)
            await rig.harness.pollAll()
            #expect(await rig.connected(["alpha"]))
            let unprotected = await rig.exposition { Self.ratio($0, "stop_loss") == 0 }
            #expect(unprotected != nil, "after the first read an open long without orders shows stop_loss 0")
            #expect(unprotected?.value("binance_futures_position_stop_price", Self.btc) == nil)

            let stopID = rig.harness.simulator.placeOrder(apiKey: "ALPHA", Self.stop("STOP_MARKET", quantity: 0.1, trigger: 55_000))
            // Placed in the same millisecond: two events with one event time are two events.
            rig.harness.simulator.placeOrder(apiKey: "ALPHA", Self.stop("TAKE_PROFIT_MARKET", quantity: 0.05, trigger: 70_000))
            let protected = await rig.exposition(within: .seconds(5)) { Self.ratio($0, "take_profit") == 0.5 }
            let e = try #require(protected, "placed orders reach /metrics from the stream, without a poll")
            #expect(Self.ratio(e, "stop_loss") == 1)
            #expect(e.value("binance_futures_position_stop_price", Self.btc) == 55_000)
            #expect(e.value("binance_futures_open_orders", ["account": "alpha", "symbol": "BTCUSDT", "type": "stop_market"]) == 1)
            #expect(e.value("binance_futures_open_orders", ["account": "alpha", "symbol": "BTCUSDT", "type": "take_profit_market"]) == 1)

            // The stop is cancelled and the stream never says so; then the stream drops.
            #expect(rig.harness.simulator.cancelOrder(apiKey: "ALPHA", service: .algo, id: stopID, announce: false))
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.ratio(await rig.harness.exposition(), "stop_loss") == 1, "no event: the exporter cannot know yet")
            rig.harness.simulator.dropUserStreams()
            let corrected = await rig.exposition(within: .seconds(10)) { Self.ratio($0, "stop_loss") == 0 }
            #expect(corrected != nil, "the gap's end reads the lists again and finds the stop gone")
            #expect(corrected?.value("binance_futures_position_stop_price", Self.btc) == nil)
            let reads = rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/openAlgoOrders", default: 0]
            #expect(reads >= 2)
        }
    }
}
