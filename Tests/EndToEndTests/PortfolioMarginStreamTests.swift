import BinanceSimulator
import BinanceWebSocketAPI
import ExporterCore
import Foundation
import Logging
import TestSupport
import Testing

@testable import BinanceFuturesExporter

/// A Portfolio Margin account as `serve` wires it (supervisor, papi session, the PM user stream at
/// `<pm_stream_url>/ws/<listenKey>`) against the simulator: a `riskLevelChange` moves uniMMR and
/// the status on /metrics before any poll, a margin call is counted, and the listen key — a
/// secret — appears in no log line.
@Suite struct PortfolioMarginStreamTests {
    @Test("the account slides into the reduce-only band: /metrics shows it from the stream within seconds, no poll needed")
    func riskLevelChangeIsLive() async throws {
        let simulator = ExchangeSimulator()
        let apiKey = "PMSTREAM" + String(repeating: "K", count: 56)
        let secret = "pm-stream-secret-\(UUID().uuidString)"
        simulator.addDemoPortfolioMarginAccount(apiKey: apiKey, key: .hmac(secret: secret))
        simulator.setPortfolioMarginUniMMR(apiKey: apiKey, 2.4)
        try await simulator.start()
        let logs = CapturedLogs()
        let logger = logs.logger("pm")
        let registry = MetricsRegistry(build: BuildInfo(version: "t", revision: "t"), includeProcessMetrics: false)
        let scheduler = WeightScheduler(policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05), logger: logger)
        var settings = try Settings.resolve(try ExporterOptions.parse(["--demo"]), environment: [:])
        settings.restURL = try HTTPBaseURL(parsing: simulator.restURL)
        settings.spotRestURL = settings.restURL
        let pm = settings.portfolioMarginEndpoints(
            rest: try HTTPBaseURL(parsing: simulator.pmRestURL), stream: try WebSocketURL(parsing: simulator.pmStreamURL))
        let account = AccountConfiguration(
            name: "pm", credentials: APICredentials(apiKey: apiKey, signer: try RequestSigner.hmac(secret: secret)), intervalSeconds: 300,
            positionsDetail: true, userStream: true, venue: .portfolioMargin)
        await registry.register(account: "pm", pollIntervalSeconds: 300, venue: .portfolioMargin)
        let supervisor = PollerSupervisor(
            accounts: [account], venues: [.portfolioMargin: pm], reconcileInterval: 300, scheduler: scheduler, registry: registry,
            logger: logger)
        let running = Task { try? await supervisor.run() }
        func exposition() async -> Exposition {
            await registry.renderNow()
            return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
        }
        await withCleanup({
            running.cancel()
            await running.value
            await simulator.stop()
        }) {
            let a: KeyValuePairs<String, String> = ["account": "pm"]
            #expect(
                await eventually(timeout: .seconds(20)) {
                    let e = await exposition()
                    return e.value("binance_futures_up", a) == 1 && e.value("binance_futures_user_stream_connected", a) == 1
                }, "polled once and subscribed")
            let polls = await exposition().value("binance_futures_polls_total", a)
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: apiKey, 1.15))
            let started = ContinuousClock.now
            #expect(
                await eventually(timeout: .seconds(3)) {
                    await exposition().value("binance_futures_account_status", ["account": "pm", "status": "reduce_only"]) == 1
                }, "the riskLevelChange reached /metrics")
            #expect(ContinuousClock.now - started < .seconds(3))
            let e = await exposition()
            #expect(abs((e.value("binance_futures_account_uni_mmr", a) ?? 0) - 1.15) < 1e-6)
            #expect(e.value("binance_futures_account_status", ["account": "pm", "status": "normal"]) == 0)
            #expect(e.value("binance_futures_polls_total", a) == polls, "no poll brought it")
            #expect(e.value("binance_futures_user_stream_events_total", ["account": "pm", "event": "riskLevelChange"]) == 1)
            // Back up through the margin-call band: counted as a margin call.
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: apiKey, 1.4))
            #expect(
                await eventually(timeout: .seconds(3)) {
                    await exposition().value("binance_futures_margin_calls_total", a) == 1
                })
            let key = simulator.listenKey(apiKey: apiKey, venue: .portfolioMargin)
            #expect(key != nil && !logs.all.contains(key!), "the listen key is a secret")
        }
    }
}
