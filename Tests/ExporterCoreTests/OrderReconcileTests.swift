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

    @Test("a position the stream opens between polls is followed at once: the mark feed hears of its symbol before the next poll")
    func streamOpenedPositionIsFollowed() async throws {
        let rig = await SessionRig()
        rig.exchange.state.withLockedValue { $0.positions["P"] = [Self.long] }
        let session = try rig.session("p", interval: 300, rest: true)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.feed.tracked.withLockedValue { $0["p"] } == ["BTCUSDT"], "the first poll's positions")
            let opened = AccountUpdate(
                eventTime: rig.clock.now, transactionTime: rig.clock.now, reason: "ORDER", balances: [],
                positions: [
                    AccountUpdate.Position(
                        symbol: "ETHUSDT", positionSide: "BOTH", amount: 2, entryPrice: 3_000, breakEvenPrice: nil, unrealizedProfit: 0,
                        isolated: false, isolatedWallet: nil)
                ])
            rig.hub.send("p", .event(.accountUpdate(opened)))
            await rig.clock.advance(by: .milliseconds(10))
            #expect(rig.feed.tracked.withLockedValue { $0["p"] } == ["BTCUSDT", "ETHUSDT"], "within the step, no poll needed")
            #expect(rig.seconds("account.status") == [0])
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

    @Test(
        "100 live accounts with three positions each: per-symbol reads cost 72 weight per account-hour, the all-symbol reads (80) spread over the start and repeated every 6 h"
    )
    func costAtOneHundredAccounts() async throws {
        let rig = await SessionRig()
        let count = 100
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        rig.exchange.state.withLockedValue { state in
            for index in 0..<count {
                state.positions["ACCT\(index)"] = symbols.map { symbol in
                    var position = Self.long
                    position.symbol = symbol
                    return position
                }
            }
        }
        let sessions = try (0..<count).map {
            try rig.session("acct\($0)", interval: 15, reconcile: 300, rest: true, stagger: Double($0) / Double(count))
        }
        rig.feed.set(healthy: true)
        await rig.run(sessions) {
            await rig.clock.advance(by: .seconds(7 * 3600))
        }
        let calls = rig.exchange.state.withLockedValue { $0.calls }
        let minute = { (at: Int64) in (at - rig.start) / 60_000 }
        func weight(_ range: Range<Int64>) -> Int64 {
            calls.filter { $0.method.hasPrefix("open") && range.contains(minute($0.at)) }.reduce(0) {
                $0 + (InMemoryExchange.weights[$1.method] ?? 0)
            }
        }
        // Per-symbol reads every 5 minutes: 3 symbols × 2 lists × 12 = 72 per account-hour.
        let perSymbol = calls.filter { $0.method == "openOrders" || $0.method == "openAlgoOrders" }
        let steady = Double(perSymbol.filter { (120..<360).contains(minute($0.at)) }.count) / 4 / Double(count)
        #expect(steady >= 71 && steady <= 73, "per-symbol reads per account-hour: \(steady)")
        // One all-symbol read of each list per account (weight 80), admitted at the account's
        // phase within the first two hours (the scheduler holds back what exceeds the share), and
        // again six hours later: 80 / 6 ≈ 13 per account-hour.
        let full = calls.filter { $0.method == "openOrders(all)" }
        #expect(full.filter { minute($0.at) < 120 }.count == count, "one all-symbol read per account at the start")
        let buckets = Dictionary(grouping: full.filter { minute($0.at) < 120 }, by: { minute($0.at) / 10 }).mapValues(\.count)
        #expect((buckets.values.max() ?? 0) <= count / 4, "spread over the start, not at once: \(buckets.sorted { $0.key < $1.key })")
        #expect(full.filter { minute($0.at) >= 360 }.count > count / 2, "and again six hours after each account's first")
        let total = weight(120..<360)
        print("order reads: \(Double(total) / 4 / Double(count)) weight per account-hour (hours 2-6)")
    }
}
