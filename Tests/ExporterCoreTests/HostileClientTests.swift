import Foundation
import Logging
import NIOCore
import TestSupport
import Testing

@testable import ExporterCore

/// Bounded fuzzing of the listener: malformed, oversized and random requests plus slowloris
/// connections, while a well-behaved scraper must keep getting complete 200 answers.
@Suite(.serialized) struct HostileClientTests {
    /// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static func hostileRequest(_ random: inout Random) -> [UInt8] {
        let templates: [() -> [UInt8]] = [
            { Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8) },
            { Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "a", count: 20_000))\r\n\r\n".utf8) },
            { Array("POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n".utf8) + [UInt8](repeating: 0x41, count: 70_000) },
            { Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n".utf8) },
            { Array("GET /\u{0}\u{7f} HTTP/1.1\r\n\r\n".utf8) },
            { Array("GET /metrics HTTP/9.9\r\n\r\n".utf8) },
            { Array("\r\n\r\n\r\n".utf8) },
            { Array("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8) },
            { Array("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) },
            { Array("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8) },
            { Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + [0xFF, 0x00, 0x13] },
        ]
        if random.next() % 3 == 0 { return random.bytes(Int(random.next() % 4096) + 1) }
        var request = random.pick(templates)()
        if random.next() % 4 == 0, !request.isEmpty {
            // Flip a few bytes.
            for _ in 0..<3 { request[Int(random.next() % UInt64(request.count))] = UInt8(truncatingIfNeeded: random.next()) }
        }
        return request
    }

    @Test func thousandsOfHostileRequestsWhileScrapesSucceed() async throws {
        var configuration = HTTPListenerConfiguration()
        configuration.listenAddresses = ["127.0.0.1:0"]
        // Short enough to cut the slowloris clients off during the test, long enough that a
        // starved event loop on a busy 2-core CI machine (with the stream, feed and REST suites
        // running beside this one) still reads a scraper's head in time: 2 s lost one scrape of 60.
        configuration.requestHeadTimeout = .seconds(4)
        configuration.idleTimeout = .seconds(4)
        let registry = MetricsRegistry(build: BuildInfo(version: "t", revision: "t"), includeProcessMetrics: false)
        for index in 0..<50 { await registry.register(account: "acct\(index)", pollIntervalSeconds: 15) }
        await registry.renderNow()
        let listener = HTTPListener(configuration: configuration, cache: registry.cache, logger: testLogger("t"))
        let port = try await listener.bind()[0]
        try await withCleanup({ await listener.close() }) {
            let expected = try await RawHTTPClient.get(port: port, path: "/metrics").body

            let scrapes = Task {
                var ok = 0
                var failures: [String] = []
                for _ in 0..<60 {
                    let raw =
                        (try? await RawHTTPClient.exchange(
                            port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
                            timeout: .seconds(10)))  // Prometheus's default scrape timeout
                        ?? []
                    if let response = try? HTTPResponse.parseFirst(raw), response.status == 200,
                        (try? Gzip.decompress(response.body)) == expected
                    {
                        ok += 1
                    } else {
                        // Size and start only, for diagnosis.
                        failures.append("\(raw.count) bytes: \(String(decoding: raw.prefix(40), as: UTF8.self))")
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (ok, failures)
            }
            let slowloris = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            _ = try? await RawHTTPClient.exchange(
                                port: port,
                                chunks: ["GET /metrics HTTP/1.1\r\n", "X-1: a\r\n", "X-2: b\r\n", "X-3: c\r\n"].map { Array($0.utf8) },
                                delayBetweenChunks: .milliseconds(300), timeout: .seconds(2))
                        }
                    }
                }
            }
            var random = Random(state: 0x5EED)
            var requests: [[UInt8]] = []
            for _ in 0..<2000 { requests.append(Self.hostileRequest(&random)) }
            let batches = stride(from: 0, to: requests.count, by: 100).map { Array(requests[$0..<min($0 + 100, requests.count)]) }
            for batch in batches {
                await withTaskGroup(of: Void.self) { group in
                    for request in batch {
                        group.addTask { _ = try? await RawHTTPClient.exchange(port: port, chunks: [request], timeout: .milliseconds(400)) }
                    }
                }
            }
            await slowloris.value
            let (ok, failures) = await scrapes.value
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(ok == 60)
            #expect(try await RawHTTPClient.get(port: port, path: "/-/healthy").status == 200)
        }
    }
}
