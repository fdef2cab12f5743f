import BinanceSimulator
import BinanceWebSocketAPI
import ExporterCore
import Foundation
import TestSupport
import Testing

@testable import BinanceFuturesExporter

/// Since Binance's COIN-M/USDⓈ-M integration fapi and dapi count against one IP budget: one key
/// configured on both venues, polled busily, on an IP where other programs spend most of the
/// minute. Real sockets, the production supervisor.
@Suite(.serialized) struct SharedBudgetTests {
    @Test("both venues busy and other clients on the IP: deferrals, never a 429 or a ban; both venues polled, each in its units")
    func oneBudgetForBothVenues() async throws {
        let simulator = ExchangeSimulator(configuration: SimulatorConfiguration(), logger: testLogger("simulator"))
        _ = try await simulator.start()
        let key = "SHAREDKEY0123456789"
        let secret = "shared-secret"
        simulator.addAccount(
            SimulatedAccount(
                apiKey: key, key: .hmac(secret: secret), wallets: ["USDT": 5_000],
                positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000)]))
        simulator.addAccount(
            SimulatedAccount(
                apiKey: key, key: .hmac(secret: secret), wallets: ["BTC": 0.5],
                positions: [SimulatedPosition(symbol: "BTCUSD_PERP", amount: 40, entryPrice: 60_000)], venue: .coinM))
        let credentials = APICredentials(apiKey: key, signer: try RequestSigner.hmac(secret: secret))
        let registry = MetricsRegistry(build: BuildInfo(version: "t", revision: "t"), includeProcessMetrics: false)
        let scheduler = WeightScheduler(policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.2), logger: testLogger("scheduler"))
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
        let rest = try HTTPBaseURL(parsing: simulator.restURL)
        var coinMREST = RESTConfiguration(futuresBase: try HTTPBaseURL(parsing: simulator.coinmRestURL), spotBase: rest)
        coinMREST.venue = .coinM
        var coinMMarks = MarkFeedSettings(base: try WebSocketURL(parsing: simulator.coinmStreamURL))
        coinMMarks.venue = FuturesVenue.coinM.marketStream
        let supervisor = PollerSupervisor(
            accounts: [
                AccountConfiguration(name: "main-um", credentials: credentials, intervalSeconds: 1, userStream: false),
                AccountConfiguration(name: "main-cm", credentials: credentials, intervalSeconds: 1, userStream: false, venue: .coinM),
            ],
            venues: [
                .usdM: VenueEndpoints(
                    connection: ConnectionConfiguration(url: try WebSocketURL(parsing: simulator.url)),
                    streams: UserStreamSettings(base: try WebSocketURL(parsing: simulator.streamURL)),
                    rest: RESTConfiguration(futuresBase: rest, spotBase: rest),
                    marks: MarkFeedSettings(base: try WebSocketURL(parsing: simulator.marketStreamURL))),
                .coinM: VenueEndpoints(
                    connection: ConnectionConfiguration(url: try WebSocketURL(parsing: simulator.coinmURL)),
                    streams: UserStreamSettings(base: try WebSocketURL(parsing: simulator.coinmStreamURL)), rest: coinMREST,
                    marks: coinMMarks),
            ], reconcileInterval: 300, scheduler: scheduler, registry: registry, logger: testLogger("supervisor"))
        let running = Task { try? await supervisor.run() }
        func exposition() async -> Exposition {
            await registry.renderNow()
            return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
        }
        try await withCleanup({
            running.cancel()
            await running.value
            await simulator.stop()
        }) { () async throws in
            #expect(
                await eventually(timeout: .seconds(20)) {
                    let e = await exposition()
                    return e.value("binance_futures_up", ["account": "main-um"]) == 1
                        && e.value("binance_futures_up", ["account": "main-cm"]) == 1
                })
            // Each venue in its own units.
            let up = await exposition()
            #expect(up.value("binance_futures_account_wallet_balance", ["account": "main-um"]) == 5_000)
            #expect(up.value("binance_futures_asset_wallet_balance", ["account": "main-cm", "asset": "BTC"]) == 0.5)
            #expect(up.value("binance_futures_account_wallet_balance", ["account": "main-cm"]) == nil)
            #expect(
                up.value("binance_futures_position_contracts", ["account": "main-cm", "symbol": "BTCUSD_PERP", "position_side": "BOTH"])
                    == 40)
            #expect(up.value("binance_futures_account_info", ["account": "main-um", "venue": "usd-m"]) == 1)
            #expect(up.value("binance_futures_account_info", ["account": "main-cm", "venue": "coin-m"]) == 1)
            // Other programs on the IP: every 200 ms they bring the minute's count to 1,800 of 2,400
            // (75 %; the exporter may go to 80 %). Both venues' polls would need ~900 per minute.
            let deadline = ContinuousClock.now + .seconds(6)
            while ContinuousClock.now < deadline {
                let count = simulator.ipWeightCount
                if count < 1_800 { simulator.addBackgroundWeight(1_800 - count) }
                try await Task.sleep(for: .milliseconds(200))
            }
            let stats = simulator.stats
            #expect(stats.answered429 == 0, "the one scheduler kept both venues under the shared limit")
            #expect(stats.answered418 == 0)
            let e = await exposition()
            #expect((e.value("binance_futures_scheduler_deferrals_total", ["reason": "ip_headroom"]) ?? 0) > 0, "it deferred instead")
        }
    }
}
