import Benchmark
import ExporterCore
import Logging
import NIOCore
import NIOEmbedded

// One scrape through the listener's real handlers (NIO's request decoder and ours) in memory:
// request bytes in, response bytes out, 1,000 per iteration. What it pins is the work per
// scrape on the event loop — allocations above all — with Prometheus 3's own request.

let prometheusRequest = ByteBuffer(
    string: "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9911\r\nUser-Agent: Prometheus/3.5.0\r\n"
        + "Accept: application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;"
        + "version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"
        + "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")
let textRequest = ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\nAccept-Encoding: gzip\r\n\r\n")

func listener() async -> HTTPListener {
    let registry = MetricsRegistry(build: BuildInfo(version: "bench", revision: "bench"), includeProcessMetrics: false)
    for index in 0..<3 { await registry.register(account: "account-\(index)", pollIntervalSeconds: 15) }
    await registry.renderNow()
    var configuration = HTTPListenerConfiguration()
    configuration.listenAddresses = []
    return HTTPListener(configuration: configuration, cache: registry.cache, logger: Logger(label: "bench"))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .microseconds, warmupIterations: 3, scalingFactor: .kilo, maxDuration: .seconds(3),
        thresholds: [.mallocCountTotal: BenchmarkThresholds(relative: [.p50: 5, .p90: 5])])

    for (name, request) in [("prometheus3-accept", prometheusRequest), ("text-accept", textRequest)] {
        Benchmark("scrape-\(name)-gzip-x1000") { benchmark, listener in
            let channel = EmbeddedChannel()
            try listener.addHandlers(to: channel.pipeline.syncOperations)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9911)).get()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try channel.writeInbound(request)
                guard let response = try channel.readOutbound(as: ByteBuffer.self) else { fatalError("no response") }
                blackHole(response)
            }
            benchmark.stopMeasurement()
            _ = try? channel.finish()
        } setup: {
            await listener()
        }
    }
}
