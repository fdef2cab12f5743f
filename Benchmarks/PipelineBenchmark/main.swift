import BinanceSimulator
import BinanceWebSocketAPI
import ExporterCore
import Foundation

// Poll-pipeline micro-benchmark (SPEC §10): decode an `account.status` frame with ~700 position
// rows → snapshot → metric families → text render → gzip, for 1, 10 and 100 accounts.
// Prints a Markdown table; `--json FILE` also writes the frame used, for the Python anchor.

let arguments = CommandLine.arguments
let short = arguments.contains("--short")
let framePath = arguments.firstIndex(of: "--frame-out").map { arguments[$0 + 1] }

/// 350 symbols in hedge mode = 700 v1 rows, ~20 of them open: a realistic large account.
var configuration = SimulatorConfiguration()
configuration.market = Market.standard(extraSymbols: 340)
let simulator = ExchangeSimulator(configuration: configuration)
let symbols = configuration.market.symbols
var positions: [SimulatedPosition] = []
for (index, symbol) in symbols.prefix(20).enumerated() {
    positions.append(
        SimulatedPosition(
            symbol: symbol, side: index % 2 == 0 ? "LONG" : "SHORT", amount: index % 2 == 0 ? 1.5 : -2,
            entryPrice: configuration.market.price(symbol) * 0.97, leverage: 10))
}
simulator.addAccount(
    SimulatedAccount(
        apiKey: "BENCH", key: .hmac(secret: "x"), multiAssetsMargin: true, hedgeMode: true,
        wallets: ["USDT": 50_000, "USDC": 10_000, "BTC": 0.5], positions: positions))
let statusFrame = Array(simulator.responseFrame(apiKey: "BENCH", method: "account.status")!.utf8)
let positionFrame = Array(simulator.responseFrame(apiKey: "BENCH", method: "v2/account.position")!.utf8)
if let framePath { try Data(statusFrame).write(to: URL(fileURLWithPath: framePath)) }

func decode() throws -> AccountData {
    guard case .response(let status) = try InboundMessage.decode(frame: statusFrame),
        case .response(let positions) = try InboundMessage.decode(frame: positionFrame)
    else { fatalError("unexpected frame") }
    return AccountData(
        status: try ResultDecoder.accountStatus(status.result!, version: .v1),
        positionDetails: try ResultDecoder.positions(positions.result!), polledAt: 0)
}

func measure(iterations: Int, _ body: () async throws -> Void) async rethrows -> (median: Double, p99: Double) {
    for _ in 0..<max(3, iterations / 10) { try await body() }
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    let clock = ContinuousClock()
    for _ in 0..<iterations {
        let start = clock.now
        try await body()
        let elapsed = clock.now - start
        samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
    }
    samples.sort()
    return (samples[samples.count / 2], samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])
}

func ms(_ value: Double) -> String { String(format: "%.3f", value) }

let base = try decode()
print(
    "frame: account.status \(statusFrame.count) bytes, \(base.status.positions.count) position rows (\(base.status.positions.filter(\.isOpen).count) open); v2/account.position \(positionFrame.count) bytes"
)
print("")
print("| stage | accounts | series | median ms | p99 ms |")
print("|---|---|---|---|---|")
let parseTime = try await measure(iterations: short ? 50 : 400) { _ = try JSONParser.parse(statusFrame) }
print("| JSON parse only (account.status frame) | 1 | – | \(ms(parseTime.median)) | \(ms(parseTime.p99)) |")
let decodeTime = try await measure(iterations: short ? 50 : 400) { _ = try decode() }
print("| decode (parse + classify + typed result, both frames) | 1 | – | \(ms(decodeTime.median)) | \(ms(decodeTime.p99)) |")
for accounts in [1, 10, 100] {
    let registry = MetricsRegistry(build: BuildInfo(version: "bench", revision: "bench"), includeProcessMetrics: false, now: { 0 })
    for index in 0..<accounts {
        let name = "account-\(index)"
        await registry.register(account: name, pollIntervalSeconds: 15)
        await registry.apply(account: name, .succeeded(base, at: 0, duration: 0))
    }
    let families = await registry.families()
    let series = families.reduce(0) { $0 + $1.samples.count }
    let iterations = short ? 20 : (accounts == 100 ? 60 : 300)
    let build = await measure(iterations: iterations) { _ = await registry.families() }
    let render = await measure(iterations: iterations) { _ = ExpositionEncoder.render(families, format: .text) }
    let body = ExpositionEncoder.render(families, format: .text)
    let gzip = try await measure(iterations: iterations) { _ = try Gzip.compress(body) }
    // What one poll costs end to end, as the exporter runs it: decode this account's frames,
    // publish the snapshot, re-render only this account, assemble, gzip once, publish.
    await registry.renderNow()
    let pipeline = try await measure(iterations: iterations) {
        let data = try decode()
        await registry.apply(account: "account-0", .succeeded(data, at: 0, duration: 0))
        await registry.renderNow()
    }
    print("| full snapshot → families (all accounts) | \(accounts) | \(series) | \(ms(build.median)) | \(ms(build.p99)) |")
    print("| full render text 0.0.4 (\(body.count / 1024) KiB) | \(accounts) | \(series) | \(ms(render.median)) | \(ms(render.p99)) |")
    print("| gzip level 6 of the full body | \(accounts) | \(series) | \(ms(gzip.median)) | \(ms(gzip.p99)) |")
    print("| **whole poll pipeline** | \(accounts) | \(series) | **\(ms(pipeline.median))** | \(ms(pipeline.p99)) |")
}
