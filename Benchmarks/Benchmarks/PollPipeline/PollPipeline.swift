import Benchmark
import BinanceSimulator
import BinanceWebSocketAPI
import CHeap
import ExporterCore
import Foundation

// The poll pipeline (SPEC §10): decode an `account.status` frame with 700 position rows →
// snapshot → metric families → text render → gzip, for 1, 10 and 100 accounts.
// BFE_FRAME_OUT=FILE writes the frame used, for scripts/bench.sh's CPython json.loads anchor.
// "poll-pipeline-N-accounts" is one poll as the exporter runs it: decode this account's two
// frames, apply them, re-render only this account, assemble, gzip once, publish.
// Names carry no spaces or "/": benchmark 1.38.1 writes threshold files under names with
// those replaced and reads them back under the raw name.

/// 350 symbols in hedge mode = 700 v1 rows, 20 of them open: a realistic large account.
struct Frames: Sendable {
    let status: [UInt8]
    let positions: [UInt8]

    static func make() -> Frames {
        var configuration = SimulatorConfiguration()
        configuration.market = Market.standard(extraSymbols: 340)
        let simulator = ExchangeSimulator(configuration: configuration)
        var positions: [SimulatedPosition] = []
        for (index, symbol) in configuration.market.symbols.prefix(20).enumerated() {
            positions.append(
                SimulatedPosition(
                    symbol: symbol, side: index % 2 == 0 ? "LONG" : "SHORT", amount: index % 2 == 0 ? 1.5 : -2,
                    entryPrice: configuration.market.price(symbol) * 0.97, leverage: 10))
        }
        simulator.addAccount(
            SimulatedAccount(
                apiKey: "BENCH", key: .hmac(secret: "x"), multiAssetsMargin: true, hedgeMode: true,
                wallets: ["USDT": 50_000, "USDC": 10_000, "BTC": 0.5], positions: positions))
        return Frames(
            status: Array(simulator.responseFrame(apiKey: "BENCH", method: "account.status")!.utf8),
            positions: Array(simulator.responseFrame(apiKey: "BENCH", method: "v2/account.position")!.utf8))
    }

    func decode() throws -> AccountData {
        guard case .response(let status) = try InboundMessage.decode(frame: status),
            case .response(let positions) = try InboundMessage.decode(frame: positions),
            let statusResult = status.result, let positionsResult = positions.result
        else { throw BenchmarkFixtureError.unexpectedFrame }
        return AccountData(
            status: try ResultDecoder.accountStatus(statusResult, version: .v1),
            positionDetails: try ResultDecoder.positions(positionsResult), polledAt: 0)
    }
}

enum BenchmarkFixtureError: Error { case unexpectedFrame }

/// Bytes the allocator has handed out and not taken back.
func heapInUse() -> Int { Int(cheap_heap_in_use()) }

/// A registry holding `accounts` copies of the large account, rendered once.
func registry(accounts: Int, data: AccountData) async -> MetricsRegistry {
    let registry = MetricsRegistry(build: BuildInfo(version: "bench", revision: "bench"), includeProcessMetrics: false, now: { 0 })
    for index in 0..<accounts {
        await registry.register(account: "account-\(index)", pollIntervalSeconds: 15)
        await registry.apply(account: "account-\(index)", .succeeded(data, at: 0, duration: 0))
    }
    await registry.renderNow()
    return registry
}

let benchmarks: @Sendable () -> Void = {
    let frames = Frames.make()
    if let path = ProcessInfo.processInfo.environment["BFE_FRAME_OUT"] {
        FileManager.default.createFile(atPath: path, contents: Data(frames.status))
    }
    // Allocation counts are deterministic: a change of more than 5 % fails `baseline check`.
    // Times vary with the machine: they are reported, not enforced.
    let allocations = BenchmarkThresholds(relative: [.p50: 5, .p90: 5])
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .mallocBytesCount, .throughput],
        timeUnits: .microseconds, warmupIterations: 3, maxDuration: .seconds(3), maxIterations: 400,
        thresholds: [.mallocCountTotal: allocations])

    Benchmark("json-parse-account.status-700-rows") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try JSONParser.parse(frames.status)) }
    }
    Benchmark("decode-account.status-and-account.position") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try frames.decode()) }
    }
    // Peak heap while a 700-row frame is decoded: the parsed JSON tree is alive while the typed
    // result is built from it, so the peak is the tree plus the result (glibc's in-use bytes,
    // measured apart). Also the total bytes and allocations one decode asks malloc for.
    let peakHeap = BenchmarkMetric.custom("Peak heap while decoding (KiB)", useScalingFactor: false)
    Benchmark(
        "decode-peak-memory-700-rows",
        configuration: .init(metrics: [.mallocBytesCount, .mallocCountTotal, peakHeap], warmupIterations: 1, maxIterations: 20)
    ) { benchmark in
        let before = heapInUse()
        let tree = try JSONParser.parse(frames.status)
        let treeBytes = heapInUse() - before
        withExtendedLifetime(tree) {}
        let beforeTyped = heapInUse()
        let data = try frames.decode()
        let typedBytes = heapInUse() - beforeTyped
        blackHole(data)
        benchmark.measurement(peakHeap, (treeBytes + typedBytes) / 1024)
    }

    for accounts in [1, 10, 100] {
        Benchmark(
            "poll-pipeline-\(accounts)-accounts",
            configuration: .init(maxIterations: accounts == 100 ? 60 : 300)
        ) { benchmark, registry in
            for _ in benchmark.scaledIterations {
                let data = try frames.decode()
                await registry.apply(account: "account-0", .succeeded(data, at: 0, duration: 0))
                await registry.renderNow()
            }
        } setup: {
            await registry(accounts: accounts, data: try frames.decode())
        }
        Benchmark(
            "render-text-\(accounts)-accounts",
            configuration: .init(maxIterations: accounts == 100 ? 60 : 300)
        ) { benchmark, families in
            for _ in benchmark.scaledIterations { blackHole(ExpositionEncoder.render(families, format: .text)) }
        } setup: {
            await registry(accounts: accounts, data: try frames.decode()).families()
        }
        Benchmark(
            "gzip-text-body-\(accounts)-accounts",
            configuration: .init(maxIterations: accounts == 100 ? 60 : 300)
        ) { benchmark, body in
            for _ in benchmark.scaledIterations { blackHole(try Gzip.compress(body)) }
        } setup: {
            ExpositionEncoder.render(await registry(accounts: accounts, data: try frames.decode()).families(), format: .text)
        }
    }
}
