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
/// offset, the IP-wide weight count, spent weight) are replaced by `<volatile>`; their series,
/// labels, HELP and TYPE lines stay pinned.
@Suite(.serialized) struct WholeOutputGoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let volatile = [
        "_timestamp_seconds", "binance_futures_poll_duration_seconds", "binance_futures_clock_offset_seconds",
        "binance_futures_request_weight_used", "binance_futures_request_weight_consumed_total",
    ]

    static func normalise(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return String(line) }
            let series = line[..<space]
            let name = series.prefix { $0 != "{" && $0 != " " }
            guard volatile.contains(where: { name.hasSuffix($0) || name.hasPrefix($0) }) else { return String(line) }
            return "\(series) <volatile>"
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
        #expect(
            actual == expected,
            "\(name) differs at line \(firstDifference + 1): got \(actualLines.count > firstDifference ? String(actualLines[firstDifference]) : "<end>") expected \(expectedLines.count > firstDifference ? String(expectedLines[firstDifference]) : "<end>")"
        )
    }

    @Test func demoAccountsWholeOutputInBothFormats() async throws {
        let demo = try DemoExchange.make(extraAccounts: 0, symbols: 0, logger: testLogger("demo"))
        try await demo.simulator.start()
        defer { Task { await demo.simulator.stop() } }
        let registry = MetricsRegistry(build: BuildInfo(version: "golden", revision: "golden"), includeProcessMetrics: false)
        let scheduler = WeightScheduler(policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05), logger: testLogger("scheduler"))
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
        await registry.setConfigReload(success: true)
        var services = SessionServices(
            scheduler: scheduler, registry: registry,
            connector: .webSocketAPI(ConnectionConfiguration(url: try WebSocketURL(parsing: demo.simulator.url))),
            logger: testLogger("session"))
        services.timing.pollsOnSchedule = false
        let sessions = demo.accounts.map {
            AccountSession(
                account: AccountConfiguration(name: $0.name, credentials: $0.credentials, intervalSeconds: 10, userStream: false),
                services: services)
        }
        let running = Task {
            await withDiscardingTaskGroup { group in
                for session in sessions { group.addTask { await session.run() } }
            }
        }
        for session in sessions { await session.pollOnce() }
        running.cancel()
        await running.value
        await registry.renderNow()
        let text = String(buffer: registry.cache.body(format: .text, gzip: false).buffer)
        let openMetrics = String(buffer: registry.cache.body(format: .openMetrics, gzip: false).buffer)
        #expect(text.contains("binance_futures_up{account=\"demo-rsa\"} 1"), "every demo account polled")
        try Self.compare(Self.normalise(text), golden: "demo.txt")
        try Self.compare(Self.normalise(openMetrics), golden: "demo.om.txt")
    }
}
