import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A parsed `https://` or `http://` base URL (`--binance.rest-url`).
public struct HTTPBaseURL: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Path prefix without a trailing slash ("" for the root).
    public var path: String

    public init(parsing text: String) throws(BinanceClientError) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            secure = true
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            secure = false
            rest = text.dropFirst(7)
        } else {
            throw .configuration("URL must start with https:// or http://")
        }
        // The WebSocket URL parser knows hosts, IPv6 brackets and ports; reuse it.
        let parsed = try WebSocketURL(parsing: (secure ? "wss://" : "ws://") + rest)
        host = parsed.host
        port = parsed.port
        var path = parsed.pathAndQuery
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    public var description: String {
        let defaultPort = secure ? 443 : 80
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(secure ? "https" : "http")://\(hostText)\(port == defaultPort ? "" : ":\(port)")\(path)"
    }
}

/// One HTTP answer: status, headers, body.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
}

/// The smallest HTTPS client that does the job: one GET per connection (`Connection: close`),
/// over the NIO and TLS stack the WebSocket client already uses. The REST calls it serves are
/// rare (an income backfill after a stream gap, a key audit per hour), so a connection pool
/// would buy nothing, and AsyncHTTPClient would add minutes to every cold build.
public enum HTTPSClient {
    public static func get(
        _ base: HTTPBaseURL, pathAndQuery: String, headers extra: [(String, String)], tlsCAFile: String?, timeout: Duration,
        sourceAddress: String? = nil, maxBodySize: Int = 16 << 20, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> HTTPAnswer {
        try await request(
            .GET, base, pathAndQuery: pathAndQuery, headers: extra, tlsCAFile: tlsCAFile, timeout: timeout, sourceAddress: sourceAddress,
            maxBodySize: maxBodySize, group: group)
    }

    /// One request without a body (`GET`, and the listen key's `POST`/`PUT`/`DELETE`, whose
    /// parameters travel in the query string as Binance documents them).
    public static func request(
        _ httpMethod: HTTPMethod, _ base: HTTPBaseURL, pathAndQuery: String, headers extra: [(String, String)], tlsCAFile: String?,
        timeout: Duration, sourceAddress: String? = nil, maxBodySize: Int = 16 << 20,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> HTTPAnswer {
        let sslContext: NIOSSLContext?
        if base.secure {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                if let tlsCAFile { tls.additionalTrustRoots = [.file(tlsCAFile)] }
                sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw .configuration("TLS setup failed: \(error)")
            }
        } else {
            sslContext = nil
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: base.port == (base.secure ? 443 : 80) ? base.host : "\(base.host):\(base.port)")
        headers.add(name: "User-Agent", value: "binance-futures-exporter")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "Connection", value: "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if httpMethod != .GET { headers.add(name: "Content-Length", value: "0") }
        let head = HTTPRequestHead(version: .http1_1, method: httpMethod, uri: base.path + pathAndQuery, headers: headers)
        let channel: any Channel
        let collector: ResponseCollector
        do {
            let connectTimeout = TimeAmount.nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
            let connected = try await SourceAddress.bootstrap(ClientBootstrap(group: group), from: sourceAddress)
                .connectTimeout(connectTimeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: base.host, port: base.port) { channel in
                    channel.eventLoop.makeCompletedFuture { () -> (any Channel, ResponseCollector) in
                        if let sslContext {
                            let sni = base.host.first?.isNumber == true || base.host.contains(":") ? nil : base.host
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        let collector = ResponseCollector(promise: channel.eventLoop.makePromise(), maxBodySize: maxBodySize)
                        try channel.pipeline.syncOperations.addHandler(collector)
                        return (channel, collector)
                    }
                }
            (channel, collector) = connected
        } catch let error as BinanceClientError {
            throw error
        } catch {
            throw .transport("connect failed: \(error)")
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let method = "\(httpMethod.rawValue) \(base.path)\(pathAndQuery.prefix { $0 != "?" })"
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            collector.timeOut(.timeout(method: method))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            let answer = try await collector.promise.futureResult.get()
            channel.close(promise: nil)
            return answer
        } catch let error as BinanceClientError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw .transport("\(error)")
        }
    }
}

/// Collects one response into an `HTTPAnswer`; fails on a body over the limit or an early close.
/// The promise is completed exactly once, whatever happens to the channel (a failed connect
/// removes the handler without any read).
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPAnswer>
    let maxBodySize: Int
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var completed = false

    init(promise: EventLoopPromise<HTTPAnswer>, maxBodySize: Int) {
        self.promise = promise
        self.maxBodySize = maxBodySize
    }

    private func finish(_ result: Result<HTTPAnswer, any Error>) {
        guard !completed else { return }
        completed = true
        promise.completeWith(result)
    }

    /// From the deadline task, on the channel's event loop.
    func timeOut(_ error: BinanceClientError) { finish(.failure(error)) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= maxBodySize else {
                finish(.failure(BinanceClientError.transport("response body over \(maxBodySize) bytes")))
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else {
                finish(.failure(BinanceClientError.transport("response without a head")))
                return
            }
            finish(.success(HTTPAnswer(status: Int(head.status.code), headers: head.headers, body: body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(BinanceClientError.connectionClosed("the server closed the connection before the response ended")))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(BinanceClientError.connectionClosed("connection closed")))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(BinanceClientError.transport("\(error)")))
        context.close(promise: nil)
    }
}
