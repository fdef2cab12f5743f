import NIOCore
import NIOWebSocket

extension ChannelHandlerContext {
    /// Sends a close frame with `code`, then closes the TCP connection: how every simulator
    /// handler ends a WebSocket connection.
    func closeWebSocket(code: WebSocketErrorCode) {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        let channel = self.channel
        writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
