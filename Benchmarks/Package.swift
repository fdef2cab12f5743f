// swift-tools-version:6.1
// The micro-benchmarks, on ordo-one/benchmark (package-benchmark): wall clock percentiles,
// allocations and peak memory, comparable against a saved baseline. A package of its own so
// the exporter's build and image never fetch the harness. Run from this directory:
//   swift package --disable-sandbox benchmark
//   swift package --disable-sandbox benchmark baseline update main       (save)
//   swift package --disable-sandbox benchmark baseline check main        (compare; thresholds in Thresholds/)
// See BENCHMARKS.md and scripts/bench.sh for the side-by-side HTTP comparison with nginx.
import Foundation
import PackageDescription

/// A path dependency is known by its directory's name, which differs between clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "binance-futures-exporter-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CHeap", path: "Sources/CHeap"),
        .executableTarget(
            name: "PollPipeline",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ExporterCore", package: root),
                .product(name: "BinanceWebSocketAPI", package: root),
                .product(name: "BinanceSimulator", package: root),
                "CHeap",
            ],
            path: "Benchmarks/PollPipeline",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Scrape",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ExporterCore", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Scrape",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
