import Foundation
import NIOCore
import NIOPosix

/// A minimal HTTP GET over NIO for the `healthcheck` subcommand (the runtime image has no curl).
enum HTTPProbe {
    /// True when the server answers `200` within `timeout` seconds.
    static func get(url: URL, timeout: Int64) async -> Bool {
        guard let host = url.host, let port = url.port else { return false }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Bool.self)
        let deadline = loop.scheduleTask(in: .seconds(timeout)) { promise.succeed(false) }
        do {
            let channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StatusLineReader(promise: promise))
                    }
                }
                .connect(host: host, port: port).get()
            let request = "GET \(url.path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
            try await channel.writeAndFlush(ByteBuffer(string: request))
            let ok = try await promise.futureResult.get()
            deadline.cancel()
            try? await channel.close()
            return ok
        } catch {
            deadline.cancel()
            promise.succeed(false)
            return false
        }
    }
}

/// Completes the promise with whether the status line says 200; a closed connection is a failure.
private final class StatusLineReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Bool>

    init(promise: EventLoopPromise<Bool>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let head = buffer.getString(at: buffer.readerIndex, length: min(buffer.readableBytes, 16)) ?? ""
        promise.succeed(head.hasPrefix("HTTP/1.1 200") || head.hasPrefix("HTTP/1.0 200"))
    }

    func channelInactive(context: ChannelHandlerContext) { promise.succeed(false) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }
}
