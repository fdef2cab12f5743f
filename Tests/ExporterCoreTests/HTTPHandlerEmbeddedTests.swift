import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ExporterCore

/// The HTTP handler in memory (NIO's `EmbeddedChannel`): bytes in, bytes out, time advanced by
/// hand — no ports, no sleeps. The real-socket tests in HTTPListenerTests cover the whole path.
@Suite struct HTTPHandlerEmbeddedTests {
    /// A channel with the listener's pipeline (NIO's request decoder, then our handler) over a registry with one rendered account.
    static func channel(_ adjust: (inout HTTPListenerConfiguration) -> Void = { _ in }) async throws -> EmbeddedChannel {
        var configuration = HTTPListenerConfiguration()
        configuration.build = BuildInfo(version: "1.2.3", revision: "abc")
        adjust(&configuration)
        let registry = MetricsRegistry(build: configuration.build, includeProcessMetrics: false)
        await registry.register(account: "a", pollIntervalSeconds: 15)
        await registry.renderNow()
        let shared = ListenerShared(
            configuration: configuration, cache: registry.cache, authenticator: BasicAuthenticator(users: configuration.basicAuthUsers))
        let channel = EmbeddedChannel()
        try shared.configurePipeline(channel.pipeline.syncOperations)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9911)).get()
        return channel
    }

    static func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything the handler wrote so far.
    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
        return bytes
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() async throws {
        let channel = try await Self.channel()
        try Self.send(
            channel,
            "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = try HTTPResponse.parseAll(try Self.written(channel), isHead: false)
        #expect(responses.map(\.status).prefix(2) == [200, 404])
        #expect(channel.isActive, "keep-alive")
        _ = try? channel.finish()
    }

    @Test func negotiationFollowsHeadersThatChangeOnAKeptAliveConnection() async throws {
        let channel = try await Self.channel()
        let prometheus3 =
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        for (accept, encoding, type, gzip) in [
            (prometheus3, "gzip", "application/openmetrics-text; version=1.0.0; charset=utf-8", true),
            (prometheus3, "gzip", "application/openmetrics-text; version=1.0.0; charset=utf-8", true),
            ("text/plain", "gzip;q=0", "text/plain; version=0.0.4; charset=utf-8", false),
            (prometheus3, "identity", "application/openmetrics-text; version=1.0.0; charset=utf-8", false),
        ] {
            try Self.send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: \(accept)\r\nAccept-Encoding: \(encoding)\r\n\r\n")
            let response = try HTTPResponse.parseFirst(try Self.written(channel))
            #expect(response.headers["content-type"] == type, "Accept: \(accept)")
            #expect((response.headers["content-encoding"] == "gzip") == gzip, "Accept-Encoding: \(encoding)")
            #expect(response.headers["vary"] == "Accept-Encoding")
        }
        _ = try? channel.finish()
    }

    @Test func aHeadOverTheLimitGets431AndTheConnectionCloses() async throws {
        let channel = try await Self.channel { $0.maxHeadBytes = 1024 }
        try Self.send(channel, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: \(String(repeating: "a", count: 2000))\r\n\r\n")
        let response = try HTTPResponse.parseFirst(try Self.written(channel))
        #expect(response.status == 431)
        #expect(response.headers["connection"] == "close")
        #expect(!channel.isActive)
    }

    @Test func aBodyOverTheLimitGets413() async throws {
        let channel = try await Self.channel { $0.maxBodyBytes = 100 }
        try Self.send(channel, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n\(String(repeating: "b", count: 500))")
        #expect(try HTTPResponse.parseFirst(try Self.written(channel)).status == 413)
        #expect(!channel.isActive)
    }

    @Test func otherMethodsGet405WithAllow() async throws {
        let channel = try await Self.channel()
        try Self.send(channel, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try HTTPResponse.parseFirst(try Self.written(channel))
        #expect(response.status == 405)
        #expect(response.headers["allow"] == "GET, HEAD")
        _ = try? channel.finish()
    }

    @Test func http10WithoutKeepAliveIsAnsweredAndClosed() async throws {
        let channel = try await Self.channel()
        try Self.send(channel, "GET /-/healthy HTTP/1.0\r\n\r\n")
        let raw = try Self.written(channel)
        #expect(String(decoding: raw.prefix(12), as: UTF8.self) == "HTTP/1.0 200")
        #expect(!channel.isActive)
    }

    @Test func malformedRequestsGet400AndAClose() async throws {
        let channel = try await Self.channel()
        try? Self.send(channel, "GARBAGE\0\u{1}\r\n\r\n")
        #expect(try HTTPResponse.parseFirst(try Self.written(channel)).status == 400)
        #expect(!channel.isActive)
    }

    @Test func aSlowHeadIsCutOffAtTheDeadline() async throws {
        let channel = try await Self.channel { $0.requestHeadTimeout = .seconds(10) }
        try Self.send(channel, "GET /metrics HTTP/1.1\r\nHo")
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        // Our handler writes nothing (a 408 with no request in flight trips NIO's pipelining
        // assertion); NIO's codec answers the truncated request with 400 as the connection ends.
        let written = try Self.written(channel)
        if !written.isEmpty {
            #expect(try HTTPResponse.parseFirst(written).status == 400, "\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test func drainClosesAnIdleKeepAliveConnectionAfterItsResponse() async throws {
        let channel = try await Self.channel()
        try Self.send(channel, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try HTTPResponse.parseFirst(try Self.written(channel)).status == 200)
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
