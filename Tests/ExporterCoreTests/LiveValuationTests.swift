import BinanceSimulator
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// The mark price feed revalues positions between polls; the poll reconciles and exports the
/// drift; healthy feeds stretch the poll to the reconcile interval and a failed feed ends it.
@Suite(.serialized) struct LiveValuationTests {
    static func account(_ key: String) throws -> (name: String, account: SimulatedAccount, credentials: APICredentials) {
        let (account, credentials) = try TestAccounts.hmac(
            key,
            positions: [
                SimulatedPosition(symbol: "BTCUSDT", amount: 0.5, entryPrice: 60_000, leverage: 10),
                SimulatedPosition(symbol: "ETHUSDT", amount: -4, entryPrice: 3_000, leverage: 5, isolated: true),
            ], wallets: ["USDT": 5_000])
        return (key.lowercased(), account, credentials)
    }

    @Test("a mark price move shows in uPnL, notional, margins and margin ratio within a second; the next poll finds no drift")
    func markMoveIsLiveAndReconciles() async throws {
        let harness = try await ExporterHarness(accounts: [try Self.account("NU")], reconcileInterval: 300)
        try await withCleanup({ await harness.stop() }) {
            harness.simulator.setMarkPrice("BTCUSDT", 61_000)
            harness.simulator.setMarkPrice("ETHUSDT", 3_100)
            await harness.pollAll()
            let feed = try #require(harness.markFeed)
            let task = Task { await feed.run() }
            defer { task.cancel() }
            #expect(await eventually { await feed.isHealthy })
            // The market moves; no poll happens.
            let polls = harness.simulator.stats.requestsByMethod["account.status"] ?? 0
            harness.simulator.setMarkPrice("BTCUSDT", 58_000)
            harness.simulator.setMarkPrice("ETHUSDT", 3_300)
            let btc: KeyValuePairs = ["account": "nu", "symbol": "BTCUSDT", "position_side": "BOTH"]
            let eth: KeyValuePairs = ["account": "nu", "symbol": "ETHUSDT", "position_side": "BOTH"]
            var live: Exposition?
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                let e = await harness.exposition()
                if e.value("binance_futures_position_mark_price", btc) == 58_000
                    && e.value("binance_futures_position_mark_price", eth) == 3_300
                {
                    live = e
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let e = try #require(live, "revalued at the new marks within the feed's second")
            #expect((harness.simulator.stats.requestsByMethod["account.status"] ?? 0) == polls, "no poll was needed")
            // BTC: 0.5 × (58 000 − 60 000) = −1000; ETH short: −4 × (3 300 − 3 000) = −1200.
            #expect(e.value("binance_futures_position_unrealized_profit", btc) == -1000)
            #expect(e.value("binance_futures_position_unrealized_profit", eth) == -1200)
            #expect(e.value("binance_futures_position_notional", btc) == 29_000)
            #expect(e.value("binance_futures_account_unrealized_profit", ["account": "nu"]) == -2200)
            #expect(e.value("binance_futures_account_margin_balance", ["account": "nu"]) == 2800)
            // Maintenance 0.5 % of |notional|: (29 000 + 13 200) × 0.005 = 211.
            let maint = try #require(e.value("binance_futures_account_maint_margin", ["account": "nu"]))
            #expect(abs(maint - 211) < 1e-9)
            #expect(abs((e.value("binance_futures_account_margin_ratio", ["account": "nu"]) ?? 0) - 211 / 2800) < 1e-12)
            #expect(e.value("binance_futures_mark_price", ["symbol": "BTCUSDT"]) == 58_000)
            #expect(e.value("binance_futures_funding_rate", ["symbol": "BTCUSDT"]) == 0.0001)
            #expect(e.value("binance_futures_mark_price", ["symbol": "SOLUSDT"]) == nil, "only symbols with a position")
            // The reconcile: Binance's numbers agree with what was computed.
            await harness.pollAll()
            let polled = await harness.exposition()
            for field in AccountData.driftFields {
                let drift = try #require(polled.value("binance_futures_reconcile_drift", ["account": "nu", "field": field]), "\(field)")
                #expect(abs(drift) < 1e-6, "\(field) drift \(drift)")
            }
            #expect(polled.value("binance_futures_account_margin_balance", ["account": "nu"]) == 2800)
        }
    }

    @Test("a fill the stream missed shows as drift at the reconcile")
    func driftShowsAMissedChange() async throws {
        let harness = try await ExporterHarness(accounts: [try Self.account("XI")], reconcileInterval: 300)
        try await withCleanup({ await harness.stop() }) {
            harness.simulator.setMarkPrice("BTCUSDT", 60_000)
            await harness.pollAll()
            let feed = try #require(harness.markFeed)
            let task = Task { await feed.run() }
            defer { task.cancel() }
            #expect(await eventually { await feed.isHealthy })
            harness.simulator.setMarkPrice("BTCUSDT", 62_000)
            #expect(await eventually { (await harness.registryView("xi"))?.health.revaluedSincePoll == true })
            // No stream in this test: the position change is invisible until the poll.
            harness.simulator.fill(apiKey: "XI", symbol: "BTCUSDT", side: "SELL", quantity: 0.25, price: 62_000)
            await harness.pollAll()
            let e = await harness.exposition()
            // The local view still held 0.5 BTC: its uPnL was 0.25 × 2000 = 500 higher than Binance's.
            let drift = try #require(e.value("binance_futures_reconcile_drift", ["account": "xi", "field": "unrealized_profit"]))
            #expect(abs(drift - 500) < 1e-6)
        }
    }
}

@Suite(.serialized) struct ReconcileIntervalTests {
    @Test("healthy stream and mark feed: polls only every reconcile interval; the feed stalls: a poll at once and the normal interval")
    func reconcileIntervalFollowsFeedHealth() async throws {
        let rig = try await StreamRig(
            accounts: [try LiveValuationTests.account("OMICRON")], interval: 1, reconcileInterval: 300, runPollers: true)
        try await withCleanup({ await rig.stop() }) {
            let simulator = rig.harness.simulator
            let interval: KeyValuePairs = ["account": "omicron"]
            #expect(await rig.connected(["omicron"]))
            #expect(
                await rig.exposition(within: .seconds(5)) { $0.value("binance_futures_poll_interval_seconds", interval) == 300 } != nil,
                "live: the poll became a reconciliation every 5 minutes")
            let before = simulator.stats.requestsByMethod["account.status"] ?? 0
            try await Task.sleep(for: .seconds(3))
            #expect((simulator.stats.requestsByMethod["account.status"] ?? 0) == before, "no poll while live (1 s interval otherwise)")
            // The mark feed goes silent: within its 3 s staleness limit the account polls again.
            let stalled = ContinuousClock.now
            simulator.updateFaults { $0.pauseMarkPrices = true }
            #expect(
                await eventually(timeout: .seconds(8)) { (simulator.stats.requestsByMethod["account.status"] ?? 0) > before },
                "a failed feed is followed by a poll")
            #expect(ContinuousClock.now - stalled < .seconds(6))
            // The normal interval again (1 s, stretched by the scheduler to fit the weight share).
            #expect(await rig.exposition { ($0.value("binance_futures_poll_interval_seconds", interval) ?? 300) < 5 } != nil)
            try await Task.sleep(for: .seconds(3.5))
            #expect((simulator.stats.requestsByMethod["account.status"] ?? 0) >= before + 2, "back at the normal interval")
            // The feed recovers: reconciliation again.
            simulator.updateFaults { $0.pauseMarkPrices = false }
            #expect(await rig.exposition(within: .seconds(5)) { $0.value("binance_futures_poll_interval_seconds", interval) == 300 } != nil)
        }
    }
}

@Suite struct LeverageBracketTests {
    /// BTCUSDT-like tiers: the cumulative amounts make the maintenance margin continuous.
    static let tiers = [
        LeverageBracket(notionalFloor: 0, notionalCap: 50_000, maintMarginRatio: 0.004, cum: 0, initialLeverage: 125),
        LeverageBracket(notionalFloor: 50_000, notionalCap: 600_000, maintMarginRatio: 0.005, cum: 50, initialLeverage: 100),
        LeverageBracket(notionalFloor: 600_000, notionalCap: 3_000_000, maintMarginRatio: 0.01, cum: 3_050, initialLeverage: 75),
    ]

    @Test("maintenance margin = |notional| × ratio − cum of the tier the notional falls in, continuous across tiers")
    func tiers() {
        #expect(LeverageBracket.maintenanceMargin(notional: 10_000, tiers: Self.tiers) == 40)
        #expect(LeverageBracket.maintenanceMargin(notional: -10_000, tiers: Self.tiers) == 40, "shorts by |notional|")
        #expect(LeverageBracket.maintenanceMargin(notional: 100_000, tiers: Self.tiers) == 450)
        #expect(LeverageBracket.maintenanceMargin(notional: 1_000_000, tiers: Self.tiers) == 6_950)
        for boundary in [50_000.0, 600_000] {
            let below = LeverageBracket.maintenanceMargin(notional: boundary - 0.01, tiers: Self.tiers)!
            let at = LeverageBracket.maintenanceMargin(notional: boundary, tiers: Self.tiers)!
            #expect(abs(at - below) < 0.001, "no jump at \(boundary)")
        }
        #expect(LeverageBracket.maintenanceMargin(notional: 5_000_000, tiers: Self.tiers) == 46_950, "beyond the last cap: the last tier")
        #expect(LeverageBracket.maintenanceMargin(notional: 1, tiers: []) == nil)
    }

    @Test("the keeper reads the account's brackets at start and again after a leverage change; revaluation uses them")
    func keeperReadsBrackets() async throws {
        let rig = try await StreamRig(accounts: [try LiveValuationTests.account("PI")], withLedger: true)
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["pi"]))
            #expect(await eventually(timeout: .seconds(10)) { !((await rig.harness.registryView("pi"))?.brackets.isEmpty ?? true) })
            let tiers = try #require(await rig.harness.registryView("pi")?.brackets["BTCUSDT"])
            #expect(
                tiers == [
                    LeverageBracket(notionalFloor: 0, notionalCap: 1_000_000_000, maintMarginRatio: 0.005, cum: 0, initialLeverage: 125)
                ])
            let reads = rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/leverageBracket"] ?? 0
            rig.harness.simulator.setLeverage(apiKey: "PI", symbol: "BTCUSDT", leverage: 20)
            #expect(
                await eventually(timeout: .seconds(10)) {
                    (rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/leverageBracket"] ?? 0) > reads
                }, "a leverage change re-reads the tiers")
        }
    }
}
