import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP GET over NIO for the health check subcommand.
enum HTTPProbe {
    static func get(url: URL, timeout: Int64) async -> Bool {
        guard let host = url.host, let port = url.port else { return false }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(timeout))
                .connect(host: host, port: port).get()
            defer { channel.close(promise: nil) }
            let request = "GET \(url.path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
            try await channel.writeAndFlush(ByteBuffer(string: request))
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    let handler = StatusLineReader()
                    try await channel.pipeline.addHandler(handler)
                    return try await handler.promise(on: channel.eventLoop).futureResult.get()
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return false
                }
                let result = try await group.next() ?? false
                group.cancelAll()
                return result
            }
        } catch {
            return false
        }
    }
}

private final class StatusLineReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var buffer = ByteBuffer()
    private var statusPromise: EventLoopPromise<Bool>?

    func promise(on loop: any EventLoop) -> EventLoopPromise<Bool> {
        if let statusPromise { return statusPromise }
        let promise = loop.makePromise(of: Bool.self)
        statusPromise = promise
        return promise
    }

    func handlerAdded(context: ChannelHandlerContext) { _ = promise(on: context.eventLoop) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        if let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes), text.contains("\r\n") {
            statusPromise?.succeed(text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) { statusPromise?.succeed(false) }
}
