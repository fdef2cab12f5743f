import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// What the transport reports upward, in arrival order.
public enum TransportEvent: Sendable {
    case text([UInt8])
    /// A frame the protocol does not allow (binary); reported so it can be counted.
    case unexpectedFrame(String)
    case closed(reason: CloseReason)
}

/// Connection knobs in one value, with production defaults.
public struct TransportConfiguration: Sendable {
    /// v1 `account.status` reaches hundreds of KB; Binance publishes no maximum.
    public var maxMessageSize: Int = 16 << 20
    public var connectTimeout: TimeAmount = .seconds(10)
    /// Client pings detect a dead TCP connection; Binance allows at most 5 control frames/s.
    public var pingInterval: TimeAmount? = .seconds(30)
    /// No pong by then: the connection is treated as dead and closed.
    public var pongTimeout: TimeAmount = .seconds(10)
    /// Extra trust anchor (PEM) for a private CA or a test server.
    public var tlsCAFile: String?
    /// Local address every connection leaves from (`--binance.source-address`): replicas on a
    /// multi-address host each get the weight budget of their own IP.
    public var sourceAddress: String?

    public init() {}
}

/// One WebSocket connection over NIO: TLS, HTTP upgrade, fragment reassembly, automatic pong
/// replies, client keep-alive pings and close handling. Knows nothing about Binance.
public final class WebSocketTransport: Sendable {
    let channel: any Channel
    public let events: AsyncStream<TransportEvent>

    init(channel: any Channel, events: AsyncStream<TransportEvent>) {
        self.channel = channel
        self.events = events
    }

    private enum UpgradeResult: Sendable {
        case upgraded(any Channel)
        case rejected(EventLoopFuture<HTTPResponseHead>)
    }

    public static func connect(
        url: WebSocketURL, configuration: TransportConfiguration, group: any EventLoopGroup
    ) async throws(BinanceClientError) -> WebSocketTransport {
        let (stream, continuation) = AsyncStream.makeStream(of: TransportEvent.self, bufferingPolicy: .unbounded)
        let sslContext: NIOSSLContext?
        if url.secure {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                if let caFile = configuration.tlsCAFile {
                    tls.additionalTrustRoots = [.file(caFile)]
                }
                sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw .configuration("TLS setup failed: \(error)")
            }
        } else {
            sslContext = nil
        }
        let frameHandler = WebSocketFrameHandler(
            continuation: continuation, pingInterval: configuration.pingInterval, pongTimeout: configuration.pongTimeout)
        let maxSize = configuration.maxMessageSize
        let hostHeader = url.port == (url.secure ? 443 : 80) ? url.host : "\(url.host):\(url.port)"
        do {
            let upgradeFuture: EventLoopFuture<UpgradeResult> = try await SourceAddress.bootstrap(
                ClientBootstrap(group: group), from: configuration.sourceAddress
            )
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let sni = url.host.first?.isNumber == true || url.host.contains(":") ? nil : url.host
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                    }
                    let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(
                        maxFrameSize: maxSize,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 4096,
                                        maxAccumulatedFrameSize: maxSize))
                                try channel.pipeline.syncOperations.addHandler(frameHandler)
                                return UpgradeResult.upgraded(channel)
                            }
                        })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: hostHeader)
                    headers.add(name: "User-Agent", value: "binance-futures-exporter")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathAndQuery, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<UpgradeResult>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let capture = HandshakeResponseCapture(promise: channel.eventLoop.makePromise())
                                try channel.pipeline.syncOperations.addHandler(capture)
                                return UpgradeResult.rejected(capture.promise.futureResult)
                            }
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
            switch try await upgradeFuture.get() {
            case .upgraded(let channel):
                return WebSocketTransport(channel: channel, events: stream)
            case .rejected(let headFuture):
                let head = try await headFuture.get()
                throw BinanceClientError.handshakeRejected(
                    httpStatus: Int(head.status.code), retryAfterSeconds: head.headers.first(name: "retry-after").flatMap { Int($0) })
            }
        } catch let error as BinanceClientError {
            continuation.finish()
            throw error
        } catch {
            continuation.finish()
            throw .transport(String(describing: error))
        }
    }

    /// Sends one text frame (masked, as RFC 6455 requires of clients).
    public func send(text: String) async throws(BinanceClientError) {
        let frame = WebSocketFrame(
            fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        do {
            try await channel.writeAndFlush(frame)
        } catch {
            throw .transport("send failed: \(error)")
        }
    }

    /// Sends a close frame with `code` and closes the TCP connection.
    public func close(code: WebSocketErrorCode = .normalClosure) async {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        try? await channel.writeAndFlush(frame)
        try? await channel.close()
    }
}

/// Captures the HTTP status of a refused upgrade (429/418 during a ban, 403 from a WAF).
private final class HandshakeResponseCapture: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPResponseHead>

    init(promise: EventLoopPromise<HTTPResponseHead>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            promise.succeed(head)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// Runs on the channel's event loop: answers pings at once with the same payload, sends
/// keep-alive pings, turns close frames and errors into one `.closed` event.
final class WebSocketFrameHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let continuation: AsyncStream<TransportEvent>.Continuation
    private let pingInterval: TimeAmount?
    private let pongTimeout: TimeAmount
    private var awaitingPong = false
    private var pingTask: RepeatedTask?
    private var pongDeadline: Scheduled<Void>?
    private var closed = false

    init(continuation: AsyncStream<TransportEvent>.Continuation, pingInterval: TimeAmount?, pongTimeout: TimeAmount) {
        self.continuation = continuation
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let pingInterval else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            let (handler, context) = loopBound.value
            handler.sendKeepAlivePing(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pongDeadline?.cancel()
    }

    private func sendKeepAlivePing(context: ChannelHandlerContext) {
        guard !closed, !awaitingPong else { return }
        awaitingPong = true
        let frame = WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer(string: "keepalive"))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pongDeadline = context.eventLoop.scheduleTask(in: pongTimeout) {
            let (handler, context) = loopBound.value
            if handler.awaitingPong { handler.finish(context: context, reason: .missedPong) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let data = frame.unmaskedData
            continuation.yield(.text(Array(data.readableBytesView)))
        case .binary:
            continuation.yield(.unexpectedFrame("binary frame of \(frame.length) bytes"))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            awaitingPong = false
            pongDeadline?.cancel()
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode()
            if !closed {
                var reply = ByteBuffer()
                reply.write(webSocketErrorCode: code ?? .normalClosure)
                let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            }
            finish(context: context, reason: .closeFrame(code: code.map { UInt16(webSocketErrorCode: $0) }))
        default:
            continuation.yield(.unexpectedFrame("opcode \(frame.opcode)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, reason: .connectionLost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context: context, reason: .transportError("\(error)"))
    }

    private func finish(context: ChannelHandlerContext, reason: CloseReason) {
        guard !closed else { return }
        closed = true
        pingTask?.cancel()
        pongDeadline?.cancel()
        continuation.yield(.closed(reason: reason))
        continuation.finish()
        context.close(promise: nil)
    }
}
