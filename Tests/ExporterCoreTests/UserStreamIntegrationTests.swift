import BinanceSimulator
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// Simulator → listen key → shared stream connection → registry → exposition, over real sockets,
/// with the account sessions built as production builds them.
final class StreamRig: Sendable {
    let harness: ExporterHarness
    let hub: UserStreamHub
    let logs: CapturedLogs
    private let task: NIOLockedValueBox<Task<Void, Never>?> = NIOLockedValueBox(nil)

    init(
        accounts: [(name: String, account: SimulatedAccount, credentials: APICredentials)],
        simulator: SimulatorConfiguration = SimulatorConfiguration(), maxConnectionAge: Double = 23 * 3600, withLedger: Bool = false,
        interval: Double = 15, reconcileInterval: Double? = nil, runPollers: Bool = false
    ) async throws {
        let logs = CapturedLogs()
        self.logs = logs
        let built = NIOLockedValueBox<UserStreamHub?>(nil)
        harness = try await ExporterHarness(
            accounts: accounts, simulatorConfiguration: simulator, interval: interval, reconcileInterval: reconcileInterval,
            scheduled: runPollers, userStream: true,
            services: { simulator, services in
                var streams = UserStreamSettings(base: try WebSocketURL(parsing: simulator.streamURL))
                streams.backoff = Backoff(initial: 0.05, maximum: 0.2)
                streams.transport.pingInterval = nil
                streams.maxConnectionAgeSeconds = maxConnectionAge
                let hub = UserStreamHub(settings: streams, scheduler: services.scheduler, logger: logs.logger("hub"))
                built.withLockedValue { $0 = hub }
                services.hub = hub
                services.logger = logs.logger("session")
                if withLedger {
                    let base = try HTTPBaseURL(parsing: simulator.restURL)
                    services.rest = {
                        BinanceRESTClient(configuration: RESTConfiguration(futuresBase: base, spotBase: base), credentials: $0)
                    }
                }
            })
        let hub = built.withLockedValue { $0! }
        self.hub = hub
        let markFeed = harness.markFeed
        task.withLockedValue {
            $0 = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask { await hub.run() }
                    if let markFeed { group.addTask { await markFeed.run() } }
                }
            }
        }
    }

    /// The exposition once `condition` holds on it, or nil after `timeout` (generous: CI runs
    /// the suites in parallel on two cores; a passing check returns at once).
    func exposition(within timeout: Duration = .seconds(10), where condition: (Exposition) -> Bool) async -> Exposition? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let e = await harness.exposition()
            if condition(e) { return e }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func connected(_ accounts: [String]) async -> Bool {
        await exposition(where: { e in accounts.allSatisfy { e.value("binance_futures_user_stream_connected", ["account": $0]) == 1 } })
            != nil
    }

    /// Stops the sessions, the hub and the feed (all awaited), then the simulator.
    func stop() async {
        let running = task.withLockedValue { $0 }
        await harness.stop()
        running?.cancel()
        await hub.shutdown()
        await running?.value
    }
}

@Suite(.serialized) struct UserStreamIntegrationTests {
    static func account(_ key: String, positions: [SimulatedPosition] = [], wallet: Double = 1000) throws -> (
        name: String, account: SimulatedAccount, credentials: APICredentials
    ) {
        let (account, credentials) = try TestAccounts.hmac(key, positions: positions, wallets: ["USDT": wallet])
        return (key.lowercased(), account, credentials)
    }

    @Test("a fill shows on /metrics at once, before any poll: position, wallet, realized PnL and commission; the next poll agrees")
    func fillIsInstant() async throws {
        let rig = try await StreamRig(accounts: [
            try Self.account("ALPHA", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000)])
        ])
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["alpha"]))
            let btc: KeyValuePairs = ["account": "alpha", "symbol": "BTCUSDT", "position_side": "BOTH"]
            // Close 0.04 at 62 000: rp = 0.04 × 2000 = 80, commission 0.04 × 62 000 × 0.0004 = 0.992.
            let started = ContinuousClock.now
            rig.harness.simulator.fill(apiKey: "ALPHA", symbol: "BTCUSDT", side: "SELL", quantity: 0.04, price: 62_000)
            // Nothing polls here, so only the stream can bring it. Unloaded it takes milliseconds; the
            // bound leaves room for a CI machine running every suite on two cores.
            let e = await rig.exposition(within: .seconds(3)) { $0.value("binance_futures_position_amount", btc) == 0.06 }
            #expect(ContinuousClock.now - started < .seconds(3))
            let after = try #require(e, "the position change must show within one second, before any poll")
            let income = { (type: String, direction: String) in
                after.value(
                    "binance_futures_income_total", ["account": "alpha", "asset": "USDT", "type": type, "direction": direction]) ?? -1
            }
            #expect(abs(income("realized_pnl", "in") - 80) < 1e-6)
            #expect(income("realized_pnl", "out") == 0)
            #expect(abs(income("commission", "out") - 0.992) < 1e-6)
            #expect(income("funding_fee", "in") == 0, "every income series exists from the start")
            let wallet = 1000 + 80 - 0.992
            #expect(abs((after.value("binance_futures_account_wallet_balance", ["account": "alpha"]) ?? 0) - wallet) < 1e-6)
            #expect(after.value("binance_futures_user_stream_events_total", ["account": "alpha", "event": "ORDER_TRADE_UPDATE"]) == 1)
            #expect(after.value("binance_futures_user_stream_events_total", ["account": "alpha", "event": "ACCOUNT_UPDATE"]) == 1)
            #expect((after.value("binance_futures_user_stream_last_event_timestamp_seconds", ["account": "alpha"]) ?? 0) > 1_700_000_000)
            // The poll, Binance's own numbers, agrees with what the stream showed.
            await rig.harness.pollAll()
            let polled = await rig.harness.exposition()
            #expect(polled.value("binance_futures_position_amount", btc) == 0.06)
            #expect(abs((polled.value("binance_futures_account_wallet_balance", ["account": "alpha"]) ?? 0) - wallet) < 1e-6)
            #expect(abs((polled.value("binance_futures_position_entry_price", btc) ?? 0) - 60_000) < 1e-6)
        }
    }

    @Test("funding, margin calls, liquidation, ADL, settlement and leverage changes all reach /metrics")
    func everyEventType() async throws {
        let rig = try await StreamRig(accounts: [
            try Self.account(
                "BETA",
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", amount: 0.2, entryPrice: 60_000),
                    SimulatedPosition(symbol: "ETHUSDT", amount: -2, entryPrice: 3_000),
                    SimulatedPosition(symbol: "SOLUSDT", amount: 10, entryPrice: 140),
                    SimulatedPosition(symbol: "XRPUSDT", amount: 100, entryPrice: 0.5),
                ])
        ])
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["beta"]))
            let simulator = rig.harness.simulator
            simulator.setMarkPrice("BTCUSDT", 60_000)
            simulator.setMarkPrice("ETHUSDT", 3_000)
            // Positive rate: the long pays 0.2 × 60 000 × 0.0001 = 1.2, the short receives 2 × 3000 × 0.0001 = 0.6.
            #expect(simulator.payFunding(apiKey: "BETA", symbol: "BTCUSDT", rate: 0.0001) == -1.2)
            #expect(simulator.payFunding(apiKey: "BETA", symbol: "ETHUSDT", rate: 0.0001) == 0.6)
            #expect(simulator.marginCall(apiKey: "BETA"))
            #expect(simulator.forceClose(apiKey: "BETA", symbol: "SOLUSDT", kind: .liquidation))
            #expect(simulator.forceClose(apiKey: "BETA", symbol: "XRPUSDT", kind: .adl))
            #expect(simulator.forceClose(apiKey: "BETA", symbol: "ETHUSDT", kind: .settlement))
            simulator.setLeverage(apiKey: "BETA", symbol: "BTCUSDT", leverage: 25)
            let a: KeyValuePairs = ["account": "beta"]
            let e = try #require(
                await rig.exposition {
                    $0.value("binance_futures_user_stream_events_total", ["account": "beta", "event": "ACCOUNT_CONFIG_UPDATE"]) == 1
                })
            let funding = { (direction: String) in
                e.value(
                    "binance_futures_income_total", ["account": "beta", "asset": "USDT", "type": "funding_fee", "direction": direction])
            }
            #expect(abs((funding("out") ?? 0) - 1.2) < 1e-9)
            #expect(abs((funding("in") ?? 0) - 0.6) < 1e-9)
            #expect(e.value("binance_futures_margin_calls_total", a) == 1)
            for (symbol, kind) in [("SOLUSDT", "liquidation"), ("XRPUSDT", "adl"), ("ETHUSDT", "settlement")] {
                #expect(
                    e.value(
                        "binance_futures_forced_closes_total", ["account": "beta", "symbol": symbol, "position_side": "BOTH", "kind": kind])
                        == 1,
                    "\(kind) on \(symbol)")
                #expect(e.value("binance_futures_position_amount", ["account": "beta", "symbol": symbol, "position_side": "BOTH"]) == nil)
            }
            #expect(e.value("binance_futures_position_leverage", ["account": "beta", "symbol": "BTCUSDT", "position_side": "BOTH"]) == 25)
            #expect(e.value("binance_futures_user_stream_events_total", ["account": "beta", "event": "MARGIN_CALL"]) == 1)
            // Income matches the exchange's own ledger, entry for entry.
            let ledger = simulator.incomeHistory(apiKey: "BETA")
            for (type, label) in [("REALIZED_PNL", "realized_pnl"), ("COMMISSION", "commission"), ("FUNDING_FEE", "funding_fee")] {
                let inflow = ledger.filter { $0.type == type && $0.amount > 0 }.reduce(0) { $0 + $1.amount }
                let outflow = ledger.filter { $0.type == type && $0.amount < 0 }.reduce(0) { $0 - $1.amount }
                let labels = { (d: String) -> KeyValuePairs<String, String> in
                    ["account": "beta", "asset": "USDT", "type": label, "direction": d]
                }
                #expect(abs((e.value("binance_futures_income_total", labels("in")) ?? -1) - inflow) < 1e-6, "\(type) in")
                #expect(abs((e.value("binance_futures_income_total", labels("out")) ?? -1) - outflow) < 1e-6, "\(type) out")
            }
        }
    }

    @Test("two accounts share one stream connection; the weight of userDataStream.start is charged to each account")
    func sharedConnectionAndWeight() async throws {
        let rig = try await StreamRig(accounts: [try Self.account("GAMMA"), try Self.account("DELTA")])
        await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["gamma", "delta"]))
            #expect(rig.harness.simulator.openUserStreams == 1)
            #expect(rig.harness.simulator.userStreamSubscriptionCounts == [2])
            #expect(rig.harness.simulator.stats.requestsByMethod["userDataStream.start"] == 2)
            #expect(rig.harness.simulator.stats.streamHandshakes == 1)
            let e = await rig.harness.exposition()
            // The exchange charged each account a handshake (5), a clock sync (2), a poll
            // (account.status 10 + v2/account.position 5) and userDataStream.start (1), and nothing
            // for the shared stream handshake.
            let charged = rig.harness.simulator.stats.clientWeightByMinute.values.reduce(0, +)
            #expect(charged == 2 * (5 + 2 + 15 + 1))
            // The exporter accounts at least that per account. (Its per-method ledger learns costs
            // from the IP-wide counter, which concurrent accounts can inflate: see WeightLedger.)
            let consumed = ["gamma", "delta"].compactMap { e.value("binance_futures_request_weight_consumed_total", ["account": $0]) }
            #expect(consumed.count == 2 && consumed.allSatisfy { $0 >= 23 })
            rig.harness.simulator.fill(apiKey: "DELTA", symbol: "ETHUSDT", side: "BUY", quantity: 1)
            let after = await rig.exposition {
                $0.value("binance_futures_user_stream_events_total", ["account": "delta", "event": "ORDER_TRADE_UPDATE"]) == 1
            }
            #expect(after != nil)
            #expect(after?.value("binance_futures_user_stream_events_total", ["account": "gamma", "event": "ORDER_TRADE_UPDATE"]) == nil)
        }
    }

    @Test("an expired listen key is replaced, counted as key_expired, and followed by a poll; the key never reaches logs or metrics")
    func keyExpiryRenews() async throws {
        let rig = try await StreamRig(accounts: [
            try Self.account("EPSILON", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
        ])
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["epsilon"]))
            let first = try #require(rig.harness.simulator.listenKey(apiKey: "EPSILON"))
            let polls = rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0
            rig.harness.simulator.expireListenKey(apiKey: "EPSILON")
            let e = try #require(
                await rig.exposition {
                    $0.value("binance_futures_user_stream_reconnects_total", ["account": "epsilon", "reason": "key_expired"]) == 1
                        && $0.value("binance_futures_user_stream_connected", ["account": "epsilon"]) == 1
                })
            let second = try #require(rig.harness.simulator.listenKey(apiKey: "EPSILON"))
            #expect(first != second)
            #expect(e.value("binance_futures_user_stream_events_total", ["account": "epsilon", "event": "listenKeyExpired"]) == 1)
            #expect(
                await eventually { (rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0) > polls }, "a gap ends with a poll"
            )
            // Events flow on the new key.
            rig.harness.simulator.fill(apiKey: "EPSILON", symbol: "BTCUSDT", side: "SELL", quantity: 0.5)
            #expect(
                await rig.exposition {
                    $0.value("binance_futures_position_amount", ["account": "epsilon", "symbol": "BTCUSDT", "position_side": "BOTH"]) == 0.5
                } != nil)
            let text = await rig.harness.exposition().text
            for key in [first, second] {
                #expect(!rig.logs.all.contains(key), "a listen key is a secret")
                #expect(!text.contains(key))
            }
        }
    }

    @Test("a dropped stream reconnects, resubscribes, and polls at once: a fill the stream missed is shown")
    func dropThenReconcile() async throws {
        let rig = try await StreamRig(accounts: [
            try Self.account("ZETA", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
        ])
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["zeta"]))
            let btc: KeyValuePairs = ["account": "zeta", "symbol": "BTCUSDT", "position_side": "BOTH"]
            // The stream loses this fill: only a poll can show it.
            rig.harness.simulator.updateFaults { $0.pauseUserStream = true }
            rig.harness.simulator.fill(apiKey: "ZETA", symbol: "BTCUSDT", side: "SELL", quantity: 0.3)
            rig.harness.simulator.updateFaults { $0.pauseUserStream = false }
            rig.harness.simulator.dropUserStreams()
            let e = try #require(
                await rig.exposition {
                    $0.value("binance_futures_user_stream_reconnects_total", ["account": "zeta", "reason": "connection_lost"]) == 1
                        && $0.value("binance_futures_position_amount", btc) == 0.7
                }, "after the gap the exporter polls at once")
            #expect(e.value("binance_futures_user_stream_connected", ["account": "zeta"]) == 1)
        }
    }

    @Test("a malformed event is logged and counted, the connection stays, and the next event is applied")
    func malformedEventKeepsConnection() async throws {
        let rig = try await StreamRig(accounts: [
            try Self.account("ETA", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
        ])
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["eta"]))
            let key = try #require(rig.harness.simulator.listenKey(apiKey: "ETA"))
            rig.harness.simulator.broadcastToUserStreams(
                text: "{\"stream\":\"\(key)\",\"data\":{\"e\":\"ORDER_TRADE_UPDATE\",\"E\":1,\"o\":{\"s\":5}}}")
            rig.harness.simulator.broadcastToUserStreams(text: String(repeating: "[", count: 5000))
            rig.harness.simulator.fill(apiKey: "ETA", symbol: "BTCUSDT", side: "SELL", quantity: 0.25)
            let e = try #require(
                await rig.exposition {
                    $0.value("binance_futures_position_amount", ["account": "eta", "symbol": "BTCUSDT", "position_side": "BOTH"]) == 0.75
                })
            #expect(e.value("binance_futures_user_stream_malformed_events_total", ["account": "eta"]) == 1)
            #expect(rig.harness.simulator.stats.streamHandshakes == 1, "the connection was kept")
            #expect(rig.logs.all.contains("malformed user stream"))
            #expect(!rig.logs.all.contains(key))
        }
    }
}

@Suite struct StreamRotationAndRaceTests {
    @Test("a connection past its maximum age is replaced make-before-break: no gap, no poll, nothing counted twice")
    func rotationWithoutGap() async throws {
        let rig = try await StreamRig(
            accounts: [
                try UserStreamIntegrationTests.account(
                    "THETA", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
            ], maxConnectionAge: 1.0)
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["theta"]))
            #expect(await eventually(timeout: .seconds(15)) { rig.harness.simulator.stats.streamHandshakes >= 3 }, "rotated twice")
            let polls = rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0
            for _ in 0..<10 {
                rig.harness.simulator.fill(apiKey: "THETA", symbol: "BTCUSDT", side: "SELL", quantity: 0.01)
                try await Task.sleep(for: .milliseconds(60))
            }
            let e = try #require(
                await rig.exposition {
                    $0.value("binance_futures_user_stream_events_total", ["account": "theta", "event": "ORDER_TRADE_UPDATE"]) == 10
                })
            let commission = e.value(
                "binance_futures_income_total", ["account": "theta", "asset": "USDT", "type": "commission", "direction": "out"])
            let ledger = rig.harness.simulator.incomeHistory(apiKey: "THETA").filter { $0.type == "COMMISSION" }.reduce(0) {
                $0 - $1.amount
            }
            #expect(abs((commission ?? 0) - ledger) < 1e-9, "each fee once, though two connections carried the key for a moment")
            #expect(e.value("binance_futures_user_stream_reconnects_total", ["account": "theta", "reason": "connection_lost"]) == nil)
            #expect((rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0) == polls, "a rotation is no gap: no poll")
        }
    }

    @Test("a poll that was in flight when a fill arrived does not undo the fill on /metrics")
    func pollInFlightKeepsNewerStreamState() throws {
        let position = StatusPosition(
            symbol: "BTCUSDT", positionSide: "BOTH", positionAmount: 1, unrealizedProfit: 0, initialMargin: 0, maintMargin: 0,
            entryPrice: 60_000, updateTime: 0)
        let totals = AccountTotals(
            walletBalance: 1000, unrealizedProfit: 0, marginBalance: 1000, initialMargin: 0, maintMargin: 0, positionInitialMargin: 0,
            openOrderInitialMargin: 0, crossWalletBalance: 1000, crossUnrealizedProfit: 0, availableBalance: 1000,
            maxWithdrawAmount: 1000)
        let old = AccountData(
            status: AccountStatus(version: .v2, flags: nil, totals: totals, assets: [], positions: [position]), positionDetails: nil,
            polledAt: 100)
        var view = AccountView(name: "a", data: old, health: AccountHealth(pollIntervalSeconds: 15))
        let fill = AccountUpdate(
            eventTime: 1, transactionTime: 1, reason: "ORDER",
            balances: [AccountUpdate.Balance(asset: "USDT", walletBalance: 1010, crossWalletBalance: 1010, balanceChange: 0)],
            positions: [
                AccountUpdate.Position(
                    symbol: "BTCUSDT", positionSide: "BOTH", amount: 0.5, entryPrice: 60_000, breakEvenPrice: nil, unrealizedProfit: 0,
                    isolated: false, isolatedWallet: nil)
            ])
        view.apply(.event(.accountUpdate(fill)), now: 101)
        // The poll was sent at 100.5 and answered at 102 with the state from before the fill.
        view.apply(.succeeded(old, at: 102, duration: 1.5))
        #expect(view.data?.status.positions.first?.positionAmount == 0.5)
        #expect(view.data?.status.totals?.walletBalance == 1010)
        // A poll sent after the fill is Binance's word: the stream update is forgotten.
        var newer = old
        newer.status.positions[0].positionAmount = 0.4
        view.apply(.succeeded(newer, at: 110, duration: 1))
        #expect(view.data?.status.positions.first?.positionAmount == 0.4)
    }
}
