import Foundation
import HummingbirdBcrypt
import Logging
import NIOCore
import TestSupport
import Testing

@testable import ExporterCore

/// The listener over real sockets on 127.0.0.1.
@Suite(.serialized) struct HTTPListenerTests {
    static func start(_ adjust: (inout HTTPListenerConfiguration) -> Void = { _ in }) async throws -> (HTTPListener, MetricsRegistry, Int) {
        var configuration = HTTPListenerConfiguration()
        configuration.listenAddresses = ["127.0.0.1:0"]
        configuration.build = BuildInfo(version: "1.2.3", revision: "abc")
        adjust(&configuration)
        let registry = MetricsRegistry(build: configuration.build, includeProcessMetrics: false)
        await registry.register(account: "a", pollIntervalSeconds: 15)
        await registry.renderNow()
        let listener = HTTPListener(configuration: configuration, cache: registry.cache, logger: testLogger("t"))
        let port = try await listener.bind()[0]
        return (listener, registry, port)
    }

    @Test func metricsPlainAndGzipWithHeaders() async throws {
        let (listener, _, port) = try await Self.start()
        try await withCleanup({ await listener.close() }) {
            let plain = try await RawHTTPClient.get(port: port, path: "/metrics")
            #expect(plain.status == 200)
            #expect(plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(plain.headers["vary"] == "Accept-Encoding")
            #expect(plain.headers["content-encoding"] == nil)
            #expect(plain.text.contains("binance_futures_exporter_build_info{version=\"1.2.3\",revision=\"abc\"} 1"))
            let gzip = try await RawHTTPClient.get(port: port, path: "/metrics", headers: ["Accept-Encoding": "gzip"])
            #expect(gzip.headers["content-encoding"] == "gzip")
            #expect(gzip.headers["vary"] == "Accept-Encoding")
            #expect(try Gzip.decompress(gzip.body) == plain.body)
            let refused = try await RawHTTPClient.get(port: port, path: "/metrics", headers: ["Accept-Encoding": "gzip;q=0"])
            #expect(refused.headers["content-encoding"] == nil)
            #expect(refused.body == plain.body)
            let openMetrics = try await RawHTTPClient.get(
                port: port, path: "/metrics", headers: ["Accept": "application/openmetrics-text; version=1.0.0"])
            #expect(openMetrics.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
            #expect(openMetrics.text.hasSuffix("# EOF\n"))
        }
    }

    @Test func headMatchesGetWithoutBody() async throws {
        let (listener, _, port) = try await Self.start()
        try await withCleanup({ await listener.close() }) {
            let get = try await RawHTTPClient.get(port: port, path: "/metrics")
            let raw = try await RawHTTPClient.exchange(
                port: port, request: "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let head = try HTTPResponse.parseFirst(raw, isHead: true)
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == String(get.body.count))
            #expect(raw.count < 400, "no body after HEAD")
        }
    }

    @Test func routesAndMethods() async throws {
        let (listener, registry, port) = try await Self.start()
        try await withCleanup({ await listener.close() }) {
            #expect(try await RawHTTPClient.get(port: port, path: "/nope").status == 404)
            let post = try await RawHTTPClient.get(port: port, path: "/metrics", method: "POST")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET, HEAD")
            #expect(try await RawHTTPClient.get(port: port, path: "/-/healthy").status == 200)
            let landing = try await RawHTTPClient.get(port: port, path: "/")
            #expect(landing.status == 200)
            #expect(landing.text.contains("href=\"/metrics\""))
            #expect(landing.text.contains("1.2.3"))
            #expect(try await RawHTTPClient.get(port: port, path: "/-/ready").status == 503)
            await registry.apply(account: "a", .skipped)
            await registry.renderNow()
            #expect(try await RawHTTPClient.get(port: port, path: "/-/ready").status == 200)
            #expect(try await RawHTTPClient.get(port: port, path: "/metrics?x=1").status == 200)
        }
    }

    @Test func keepAlivePipeliningAndHTTP10() async throws {
        let (listener, _, port) = try await Self.start()
        try await withCleanup({ await listener.close() }) {
            let pipelined =
                "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let responses = try HTTPResponse.parseAll(try await RawHTTPClient.exchange(port: port, request: pipelined))
            #expect(responses.map(\.status) == [200, 200, 404])
            let http10 = try await RawHTTPClient.exchange(port: port, request: "GET /metrics HTTP/1.0\r\n\r\n")
            #expect(String(decoding: http10.prefix(12), as: UTF8.self) == "HTTP/1.0 200")
        }
    }

    /// Basic auth is checked off the event loop; requests pipelined behind one waiting for
    /// bcrypt must still be answered, in order, and each with its own verdict.
    @Test func pipelinedRequestsBehindABcryptCheckAreAnsweredInOrder() async throws {
        let (listener, _, port) = try await Self.start {
            $0.basicAuthUsers = ["alice": Bcrypt.hash("secret", cost: 4)]
        }
        try await withCleanup({ await listener.close() }) {
            let good = "Basic " + Data("alice:secret".utf8).base64EncodedString()
            let bad = "Basic " + Data("alice:wrong".utf8).base64EncodedString()
            let pipelined =
                "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: \(bad)\r\n\r\n"
                + "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: \(good)\r\nAccept-Encoding: gzip\r\n\r\n"
                + "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let responses = try HTTPResponse.parseAll(try await RawHTTPClient.exchange(port: port, request: pipelined))
            #expect(responses.map(\.status) == [401, 200, 200, 401])
            #expect(responses.first?.headers["www-authenticate"]?.hasPrefix("Basic realm=") == true)
            #expect(responses.dropFirst(2).first?.headers["content-encoding"] == "gzip")
        }
    }

    /// Configured security headers reach every response, scrapes included (which otherwise go
    /// out as one prepared buffer).
    @Test func configuredHeadersAreOnScrapesToo() async throws {
        let (listener, _, port) = try await Self.start {
            $0.responseHeaders = [("X-Content-Type-Options", "nosniff")]
        }
        try await withCleanup({ await listener.close() }) {
            for headers in [[:], ["Accept-Encoding": "gzip"], ["Accept": "application/openmetrics-text; version=1.0.0"]] {
                let scrape = try await RawHTTPClient.get(port: port, path: "/metrics", headers: headers)
                #expect(scrape.status == 200)
                #expect(scrape.headers["x-content-type-options"] == "nosniff", "\(headers)")
                #expect(scrape.headers["content-length"] == String(scrape.body.count))
            }
            #expect(try await RawHTTPClient.get(port: port, path: "/nope").headers["x-content-type-options"] == "nosniff")
        }
    }

    @Test func limitsAndMalformedRequests() async throws {
        let (listener, _, port) = try await Self.start {
            $0.requestHeadTimeout = .milliseconds(300)
        }
        try await withCleanup({ await listener.close() }) {
            let bigHeader = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 9000))\r\n\r\n"
            #expect(try HTTPResponse.parseFirst(try await RawHTTPClient.exchange(port: port, request: bigHeader)).status == 431)
            let bigBody = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + String(repeating: "b", count: 70000)
            #expect(try HTTPResponse.parseFirst(try await RawHTTPClient.exchange(port: port, request: bigBody)).status == 413)
            let garbage = try await RawHTTPClient.exchange(port: port, request: "\u{1}\u{2}GARBAGE\r\n\r\n")
            #expect(String(decoding: garbage.prefix(12), as: UTF8.self) == "HTTP/1.1 400")
            let badChunked = "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n"
            #expect(
                String(decoding: try await RawHTTPClient.exchange(port: port, request: badChunked).prefix(12), as: UTF8.self)
                    == "HTTP/1.1 400")
            // Slowloris: a head that never completes is cut off at the head deadline.
            let started = ContinuousClock.now
            let slow = try await RawHTTPClient.exchange(
                port: port,
                chunks: ["GET /metrics HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n"].map { Array($0.utf8) },
                delayBetweenChunks: .milliseconds(150), timeout: .seconds(3))
            #expect(slow.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(2), "closed by the server, not by the client's timeout")
            // Still serving.
            #expect(try await RawHTTPClient.get(port: port, path: "/metrics").status == 200)
        }
    }

    @Test func maxRequestsGives503() async throws {
        let (listener, _, port) = try await Self.start { $0.maxRequests = 1 }
        try await withCleanup({ await listener.close() }) { () async throws in
            // Hold the one slot directly, then scrape.
            #expect(listener.shared.acquireRequestSlot())
            #expect(try await RawHTTPClient.get(port: port, path: "/metrics").status == 503)
            listener.shared.releaseRequestSlot()
            #expect(try await RawHTTPClient.get(port: port, path: "/metrics").status == 200)
        }
    }

    @Test func connectionsBeyondTheLimitAreRefused() async throws {
        let (listener, _, port) = try await Self.start {
            $0.maxConnections = 2
            $0.requestHeadTimeout = .seconds(2)
        }
        try await withCleanup({ await listener.close() }) {
            // Two clients hold connections open with an unfinished request head.
            let holders = (0..<2).map { _ in
                Task {
                    try await RawHTTPClient.exchange(port: port, chunks: [Array("GET /metrics HTTP/1.1\r\n".utf8)], timeout: .seconds(3))
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let refused = try await RawHTTPClient.exchange(
                port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(2))
            #expect(refused.isEmpty, "the third connection is closed without an answer")
            for holder in holders { _ = try await holder.value }
            // Once the holders are gone (head timeout), scrapes work again.
            #expect(try await RawHTTPClient.get(port: port, path: "/metrics").status == 200)
        }
    }

    @Test func drainWaitsForAnInFlightResponseToASlowReader() async throws {
        let (listener, registry, port) = try await Self.start { $0.socketSendBuffer = 4096 }
        for index in 0..<400 { await registry.register(account: "account-with-a-long-name-\(index)", pollIntervalSeconds: 15) }
        await registry.renderNow()
        let expected = try await RawHTTPClient.get(port: port, path: "/metrics").body
        #expect(expected.count > 200_000)
        let reader = try SlowSocket(port: port)
        reader.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))
        let drain = Task { await listener.drain(timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(listener.shared.openChannels.count == 1, "drain is waiting for the response being written")
        let response = try HTTPResponse.parseFirst(reader.readAll())
        await drain.value
        #expect(response.status == 200)
        // Sizes and a digest, not the megabyte itself, in any failure message.
        #expect(response.body.count == expected.count, "the whole body arrived before the listener finished")
        let identical = response.body == expected
        #expect(identical)
        #expect(listener.shared.openChannels.isEmpty)
        #expect((try? await RawHTTPClient.get(port: port, path: "/metrics")) == nil, "no new connections after drain")
    }

    @Test func portInUseIsAClearError() async throws {
        let (listener, _, port) = try await Self.start()
        try await withCleanup({ await listener.close() }) { () async throws in
            var configuration = HTTPListenerConfiguration()
            configuration.listenAddresses = ["127.0.0.1:\(port)"]
            let second = HTTPListener(configuration: configuration, cache: ScrapeCache(), logger: testLogger("t"))
            await #expect {
                try await second.bind()
            } throws: { error in
                (error as? ListenerError)?.address == "127.0.0.1:\(port)"
            }
        }
    }
}
