import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A bare WebSocket client for the simulator's tests (no code shared with the exporter's client):
/// connects to `ws://127.0.0.1:<port><path>`, yields every text frame, sends masked text frames.
final class TestWebSocket: Sendable {
    struct Timeout: Error {}

    let channel: any Channel
    private let frames: AsyncStream<String>.Iterator.Box

    private init(channel: any Channel, frames: AsyncStream<String>) {
        self.channel = channel
        self.frames = .init(frames.makeAsyncIterator())
    }

    static func connect(port: Int, path: String) async throws -> TestWebSocket {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let upgraded = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop).channelInitializer { channel in
            let request = UpgradeRequest(path: path, port: port, failed: upgraded)
            let upgrader = NIOWebSocketClientUpgrader(
                requestKey: "dGhlIHNhbXBsZSBub25jZQ==",
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(FrameCollector(continuation: continuation))
                    }
                })
            let configuration: NIOHTTPClientUpgradeConfiguration = (
                upgraders: [upgrader],
                completionHandler: { context in
                    context.pipeline.syncOperations.removeHandler(request, promise: nil)
                    upgraded.succeed()
                }
            )
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers(withClientUpgrade: configuration)
                try channel.pipeline.syncOperations.addHandler(request)
            }
        }.connect(host: "127.0.0.1", port: port).get()
        channel.closeFuture.whenComplete { _ in
            continuation.finish()
            upgraded.fail(ChannelError.ioOnClosedChannel)
        }
        try await upgraded.futureResult.get()
        return TestWebSocket(channel: channel, frames: stream)
    }

    func send(_ text: String) {
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        channel.writeAndFlush(frame, promise: nil)
    }

    /// The next text frame, or `Timeout`.
    func next(timeout: Duration = .seconds(5)) async throws -> String {
        let box = frames
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { await box.next() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let text = first else { throw Timeout() }
            return text
        }
    }

    func close() async { try? await channel.close() }
}

extension AsyncStream<String>.Iterator {
    /// Holds the iterator so that `next()` can be called from a task.
    final class Box: @unchecked Sendable {
        private var iterator: AsyncStream<String>.Iterator
        init(_ iterator: AsyncStream<String>.Iterator) { self.iterator = iterator }
        func next() async -> String? { await iterator.next() }
    }
}

/// Sends the upgrade request once connected; fails the upgrade on a non-101 answer.
private final class UpgradeRequest: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let path: String
    let port: Int
    let failed: EventLoopPromise<Void>

    init(path: String, port: Int, failed: EventLoopPromise<Void>) {
        self.path = path
        self.port = port
        self.failed = failed
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a refused upgrade reaches here (an accepted one removes the HTTP handlers).
        if case .head(let head) = unwrapInboundIn(data) {
            failed.fail(HTTPStatusError(status: Int(head.status.code)))
            context.close(promise: nil)
        }
    }
}

struct HTTPStatusError: Error, Equatable {
    let status: Int
}

private final class FrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketFrame
    let continuation: AsyncStream<String>.Continuation

    init(continuation: AsyncStream<String>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            var payload = frame.unmaskedData
            continuation.yield(payload.readString(length: payload.readableBytes) ?? "")
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }
}
