import BinanceSimulator
import BinanceWebSocketAPI
import ExporterCore
import Foundation
import TestSupport
import Testing

@testable import BinanceFuturesExporter

/// The complete `/metrics` of the demo accounts at the simulator's fixed market, through the
/// real pollers, registry and encoder, in both formats — pinned in `Golden/demo.*.txt` (as
/// node_exporter pins `collector/fixtures/e2e-output.txt`). A change in output is a reviewed
/// diff: regenerate with `BFE_UPDATE_GOLDEN=1 swift test --filter WholeOutputGoldenTests`.
///
/// Values that depend on when and how fast the test runs (timestamps, durations, the clock
/// offset, the IP-wide weight count, spent weight, polls before the accounts turned live) are
/// replaced by `<volatile>`; their series, labels, HELP and TYPE lines stay pinned. The output is
/// built through the production wiring (`PollerSupervisor`: sessions, user streams, mark feed,
/// brackets and key audit) with stream events, a gap, a −1021 and a rotation, and the test fails
/// when a family the catalog declares is not in it.
@Suite(.serialized) struct WholeOutputGoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let volatile = [
        "_timestamp_seconds", "binance_futures_poll_duration_seconds", "binance_futures_clock_offset_seconds",
        "binance_futures_request_weight_used", "binance_futures_request_weight_consumed_total",
        // How many polls ran before the account turned live depends on how fast the test runs.
        "binance_futures_polls_total", "binance_futures_scheduler_deferrals_total",
    ]
    /// Single series whose value depends on timing: the PM account polls every second (it has
    /// no stream to reconcile with), so it is the one stretched to fit the budget, by a factor
    /// that follows the other accounts' measured demand.
    static let volatileSeries = [#"binance_futures_poll_interval_seconds{account="demo-pm"}"#]

    static func normalise(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return String(line) }
            let series = line[..<space]
            let name = series.prefix { $0 != "{" && $0 != " " }
            if volatile.contains(where: { name.hasSuffix($0) || name.hasPrefix($0) }) || volatileSeries.contains(String(series)) {
                return "\(series) <volatile>"
            }
            // Values are pinned to 6 significant digits: sums taken in hash order differ in the
            // last bits (-3.4 against -3.4000000000000004), a drift of 4e-16 is zero, and a mark
            // frame that revalued an account after its poll recomputes what Binance rounded to
            // 8 decimals (a COIN-M PnL of 0.0152146 BTC is 0.01521460475 once revalued).
            guard let value = Double(line[line.index(after: space)...]), value.isFinite else { return String(line) }
            // Coin amounts are small: 0.00021794 BTC has five significant digits after Binance's
            // rounding, so values are first rounded to 7 decimals.
            let rounded = (value * 1e7).rounded() / 1e7
            if abs(rounded) < 1e-9 { return "\(series) 0" }
            return "\(series) \(String(format: "%.6g", rounded))"
        }.joined(separator: "\n")
    }

    static func compare(_ actual: String, golden name: String) throws {
        let url = goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["BFE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDifference = Array(zip(actualLines, expectedLines)).firstIndex { $0 != $1 } ?? min(actualLines.count, expectedLines.count)
        if actual != expected {
            // The whole output, for a diff against the golden file.
            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("actual-\(name)")
            try? actual.write(to: saved, atomically: true, encoding: .utf8)
            print("golden mismatch: diff \(url.path) \(saved.path)")
        }
        #expect(
            actual == expected,
            "\(name) differs at line \(firstDifference + 1): got \(actualLines.count > firstDifference ? String(actualLines[firstDifference]) : "<end>") expected \(expectedLines.count > firstDifference ? String(expectedLines[firstDifference]) : "<end>")"
        )
    }

    @Test func demoAccountsWholeOutputInBothFormats() async throws {
        let demo = try DemoExchange.make(extraAccounts: 0, symbols: 0, logger: testLogger("demo"))
        try await demo.simulator.start()
        let simulator = demo.simulator
        let registry = MetricsRegistry(build: BuildInfo(version: "golden", revision: "golden"), includeProcessMetrics: false)
        let scheduler = WeightScheduler(policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05), logger: testLogger("scheduler"))
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
        await registry.setConfigReload(success: true)
        // The production wiring: the supervisor builds every account's session with its user
        // stream, the mark feed, the REST companion (brackets, key audit) and the scheduler.
        // Both venues, as `--demo` runs them: the COIN-M account on ws-dapi, dstream and dapi.
        let rest = try HTTPBaseURL(parsing: simulator.restURL)
        var coinMREST = RESTConfiguration(futuresBase: try HTTPBaseURL(parsing: simulator.coinmRestURL), spotBase: rest)
        coinMREST.venue = .coinM
        var coinMMarks = MarkFeedSettings(base: try WebSocketURL(parsing: simulator.coinmStreamURL))
        coinMMarks.venue = FuturesVenue.coinM.marketStream
        var venues: [VenueID: VenueEndpoints] = [
            .usdM: VenueEndpoints(
                connection: ConnectionConfiguration(url: try WebSocketURL(parsing: simulator.url)),
                streams: UserStreamSettings(base: try WebSocketURL(parsing: simulator.streamURL)),
                rest: RESTConfiguration(futuresBase: rest, spotBase: rest),
                marks: MarkFeedSettings(base: try WebSocketURL(parsing: simulator.marketStreamURL))),
            .coinM: VenueEndpoints(
                connection: ConnectionConfiguration(url: try WebSocketURL(parsing: simulator.coinmURL)),
                streams: UserStreamSettings(base: try WebSocketURL(parsing: simulator.coinmStreamURL)), rest: coinMREST, marks: coinMMarks),
        ]
        // Portfolio Margin as `--demo` wires it: papi reads instead of a WebSocket API, no stream.
        var pmSettings = try Settings.resolve(try ExporterOptions.parse(["--demo"]), environment: [:])
        pmSettings.restURL = rest
        pmSettings.spotRestURL = rest
        venues[.portfolioMargin] = pmSettings.portfolioMarginEndpoints(
            rest: try HTTPBaseURL(parsing: simulator.pmRestURL), stream: try WebSocketURL(parsing: simulator.streamURL))
        let accounts =
            demo.accounts.map { AccountConfiguration(name: $0.name, credentials: $0.credentials, intervalSeconds: 1) }
            + demo.coinMAccounts.map {
                AccountConfiguration(name: $0.name, credentials: $0.credentials, intervalSeconds: 1, venue: .coinM)
            }
            + demo.pmAccounts.map {
                AccountConfiguration(
                    name: $0.name, credentials: $0.credentials, intervalSeconds: 1, userStream: false, venue: .portfolioMargin)
            }
        let supervisor = PollerSupervisor(
            accounts: accounts, venues: venues, reconcileInterval: 300, scheduler: scheduler, registry: registry,
            logger: testLogger("supervisor"))
        let running = Task { try? await supervisor.run() }
        func exposition() async -> Exposition {
            await registry.renderNow()
            return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
        }
        func until(_ what: String, _ condition: (Exposition) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if condition(await exposition()) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("timed out waiting for \(what)")
            print(
                (await exposition()).text.split(separator: "\n").filter {
                    $0.hasPrefix("binance_futures_poll_interval") || $0.hasPrefix("binance_futures_user_stream_connected")
                        || $0.hasPrefix("binance_futures_mark_feed")
                }.joined(separator: "\n"))
        }
        let names = demo.accounts.map(\.name) + demo.coinMAccounts.map(\.name)
        try await until("every account up, subscribed, reconciling, with its key audited and brackets read") { e in
            names.allSatisfy {
                e.value("binance_futures_up", ["account": $0]) == 1
                    && e.value("binance_futures_user_stream_connected", ["account": $0]) == 1
                    && e.value("binance_futures_poll_interval_seconds", ["account": $0]) == 300
                    && e.value("binance_futures_api_key_ip_restricted", ["account": $0]) != nil
            } && e.value("binance_futures_mark_feed_connected", [:]) == 1
                && demo.pmAccounts.allSatisfy {
                    e.value("binance_futures_up", ["account": $0.name]) == 1
                        && e.value("binance_futures_api_key_ip_restricted", ["account": $0.name]) != nil
                }
        }
        // What happened, on the stream: a fill, funding with and without a symbol, a leverage
        // change, a margin call and each kind of forced close.
        let main = demo.accounts[0].credentials.apiKey
        let hedge = demo.accounts[1].credentials.apiKey
        let rsa = demo.accounts[2].credentials.apiKey
        simulator.fill(apiKey: main, symbol: "BTCUSDT", side: "SELL", quantity: 0.1, price: 63_000)
        simulator.payFunding(apiKey: main, symbol: "ETHUSDT", rate: 0.0001)
        simulator.payFunding(apiKey: main, symbol: "BTCUSDT", rate: 0.0001, namesSymbol: false)
        simulator.setLeverage(apiKey: main, symbol: "BTCUSDT", leverage: 12)
        simulator.marginCall(apiKey: hedge)
        _ = simulator.forceClose(apiKey: hedge, symbol: "ETHUSDC", positionSide: "LONG", kind: .adl)
        _ = simulator.forceClose(apiKey: rsa, symbol: "DOGEUSDT", kind: .liquidation)
        _ = simulator.forceClose(apiKey: main, symbol: "SOLUSDT", kind: .settlement)
        // The same on COIN-M, in coin: funding on the perpetual, a margin call, a liquidation.
        let coin = demo.coinMAccounts[0].credentials.apiKey
        simulator.payFunding(apiKey: coin, symbol: "BTCUSD_PERP", rate: 0.0001)
        simulator.marginCall(apiKey: coin, venue: .coinM)
        _ = simulator.forceClose(apiKey: coin, symbol: "ETHUSD_PERP", kind: .liquidation)
        try await until("the stream's events") { e in
            e.value("binance_futures_user_stream_events_total", ["account": "demo-main", "event": "ACCOUNT_CONFIG_UPDATE"]) == 1
                && e.value("binance_futures_margin_calls_total", ["account": "demo-hedge"]) == 1
                && e.value("binance_futures_margin_calls_total", ["account": "demo-coinm"]) == 1
                && e.series("binance_futures_forced_closes_total").count >= 4
                && (e.value(
                    "binance_futures_income_total", ["account": "demo-coinm", "asset": "BTC", "type": "funding_fee", "direction": "out"])
                    ?? 0)
                    > 0
        }
        // A gap in which money moved, ended by a poll that meets a skewed clock (−1021, resync,
        // retry) and a ledger read; then Binance announces a shutdown and the connection rotates.
        simulator.updateFaults { $0.pauseUserStream = true }
        simulator.fill(apiKey: rsa, symbol: "DOGEUSDT", side: "SELL", quantity: 1_000, price: 0.12)
        // The COIN-M account trades in the gap too: its ledger (dapi, in BTC) fills it.
        simulator.fill(apiKey: demo.coinMAccounts[0].credentials.apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 5, price: 64_000)
        simulator.updateFaults {
            $0.pauseUserStream = false
            $0.clockSkewMilliseconds = -3_000
        }
        simulator.dropUserStreams()
        try await until("the gap's backfill") { e in
            names.allSatisfy { e.value("binance_futures_user_stream_connected", ["account": $0]) == 1 }
                && e.value("binance_futures_income_backfills_total", ["account": "demo-rsa", "result": "success"]) == 1
                && e.value("binance_futures_income_backfills_total", ["account": "demo-coinm", "result": "success"]) == 1
        }
        simulator.announceShutdown()
        try await until("the rotation after serverShutdown") { e in
            names.allSatisfy { e.value("binance_futures_websocket_reconnects_total", ["account": $0, "reason": "server_shutdown"]) == 1 }
        }
        try await until("every account reconciling again after the gap") { e in
            names.allSatisfy { e.value("binance_futures_poll_interval_seconds", ["account": $0]) == 300 }
        }
        running.cancel()
        await running.value
        await simulator.stop()
        await registry.renderNow()
        let text = String(buffer: registry.cache.body(format: .text, gzip: false).buffer)
        let openMetrics = String(buffer: registry.cache.body(format: .openMetrics, gzip: false).buffer)
        try Self.compare(Self.normalise(text), golden: "demo.txt")
        try Self.compare(Self.normalise(openMetrics), golden: "demo.om.txt")
        // Every family the exporter can emit is in the pinned output (process metrics aside,
        // which this registry leaves out; they are pinned by the demo end-to-end test).
        let families = Set((MetricCatalog.valueFamilies + MetricCatalog.activityFamilies + MetricCatalog.selfFamilies).map(\.name))
        let missing = families.filter { !text.contains("# TYPE \($0) ") }.sorted()
        #expect(missing.isEmpty, "families not pinned by the golden: \(missing)")
    }
}
