import NIOCore
import NIOHTTP1
import NIOPosix

/// One connection's request handling. Every path ends in exactly one response; every limit
/// violation ends in an error status and a closed connection, never a trap.
final class ExporterHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, bodyBytes: Int)
        case responding
        case closing
    }

    private let shared: ListenerShared
    private var state = State.idle
    private var timer: Scheduled<Void>?
    /// Responses handed to the channel whose last byte has not reached the socket yet.
    private var writesInFlight = 0
    private var draining = false
    /// The last `Accept` / `Accept-Encoding` values on this connection and what they meant:
    /// Prometheus sends the same long header on every scrape of a kept-alive connection, so a
    /// string comparison replaces parsing it.
    private var lastAccept: (header: String?, format: ExpositionFormat)?
    private var lastEncoding: (header: String?, gzip: Bool)?

    init(shared: ListenerShared) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) {
        armTimer(context: context, after: shared.configuration.requestHeadTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    /// Closes the connection if no complete request head arrives in time (slowloris, idle
    /// keep-alive). No response is written: none may be sent while no request is in flight.
    private func armTimer(context: ChannelHandlerContext, after delay: TimeAmount) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            guard case .idle = handler.state else { return }
            handler.state = .closing
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            timer?.cancel()
            if Self.headSize(head) > shared.configuration.maxHeadBytes {
                respondError(context: context, status: .requestHeaderFieldsTooLarge)
                return
            }
            state = .receiving(head, bodyBytes: 0)
        case (.body(let buffer), .receiving(let head, let bytes)):
            let total = bytes + buffer.readableBytes
            if total > shared.configuration.maxBodyBytes {
                respondError(context: context, status: .payloadTooLarge)
                return
            }
            state = .receiving(head, bodyBytes: total)
        case (.end, .receiving(let head, _)):
            state = .responding
            route(context: context, head: head)
        default:
            // .closing/.responding: ignore what follows; anything else cannot come from the
            // HTTP decoder, and no response may be written without a request in flight.
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state = .closing
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            // Finish what is being written (closing earlier would discard queued bytes), answer
            // a request already being received, then close.
            draining = true
            closeIfDrained(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, writesInFlight == 0 else { return }
        switch state {
        case .idle, .closing:
            state = .closing
            context.close(promise: nil)
        case .receiving, .responding:
            break
        }
    }

    static func headSize(_ head: HTTPRequestHead) -> Int {
        head.uri.utf8.count + 16 + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    // MARK: routing

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = String(head.uri.prefix { $0 != "?" && $0 != "#" })
        let isGetOrHead = head.method == .GET || head.method == .HEAD
        if path == "/-/healthy" {
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            return respond(
                context: context, head: head, status: .ok, type: "text/plain; charset=utf-8", body: ByteBuffer(string: "Healthy\n"))
        }
        let authorization = head.headers.first(name: "authorization")
        let authenticator = shared.authenticator
        switch authenticator.fastPath(authorization: authorization) {
        case .some(true):
            dispatch(context: context, head: head, path: path, isGetOrHead: isGetOrHead)
        default:
            // bcrypt is slow: verify on the thread pool, answer on the event loop.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) {
                authenticator.check(authorization: authorization)
            }.whenComplete { result in
                let (handler, context) = loopBound.value
                if case .success(true) = result {
                    handler.dispatch(context: context, head: head, path: path, isGetOrHead: isGetOrHead)
                } else {
                    var headers = HTTPHeaders()
                    headers.add(name: "WWW-Authenticate", value: "Basic realm=\"binance-futures-exporter\", charset=\"UTF-8\"")
                    handler.respond(
                        context: context, head: head, status: .unauthorized, type: "text/plain; charset=utf-8",
                        body: ByteBuffer(string: "Unauthorized\n"), extraHeaders: headers)
                }
            }
        }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, path: String, isGetOrHead: Bool) {
        let configuration = shared.configuration
        switch path {
        case configuration.telemetryPath:
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            guard shared.acquireRequestSlot() else {
                return respond(
                    context: context, head: head, status: .serviceUnavailable, type: "text/plain; charset=utf-8",
                    body: ByteBuffer(string: "Too many concurrent scrapes (--web.max-requests)\n"))
            }
            let (format, gzip) = negotiate(head.headers)
            let (body, gzipped) = shared.cache.body(format: format, gzip: gzip)
            let shared = self.shared
            respond(
                context: context, head: head, status: .ok, type: format.contentType, body: body,
                extraHeaders: gzipped ? Self.gzipHeaders : Self.plainHeaders
            ) { shared.releaseRequestSlot() }
        case "/":
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            respond(context: context, head: head, status: .ok, type: "text/html; charset=utf-8", body: ByteBuffer(string: landingPage()))
        case "/-/ready":
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            let ready = shared.cache.isReady
            respond(
                context: context, head: head, status: ready ? .ok : .serviceUnavailable, type: "text/plain; charset=utf-8",
                body: ByteBuffer(string: ready ? "Ready\n" : "Not ready: waiting for the first poll of every account\n"))
        default:
            respond(
                context: context, head: head, status: .notFound, type: "text/plain; charset=utf-8", body: ByteBuffer(string: "Not found\n"))
        }
    }

    private static let plainHeaders: HTTPHeaders = ["Vary": "Accept-Encoding"]
    private static let gzipHeaders: HTTPHeaders = ["Vary": "Accept-Encoding", "Content-Encoding": "gzip"]

    /// The format and encoding a request asks for, parsed only when the headers differ from the
    /// previous request's on this connection.
    private func negotiate(_ headers: HTTPHeaders) -> (ExpositionFormat, gzip: Bool) {
        let accept = headers.first(name: "accept")
        let format: ExpositionFormat
        if let last = lastAccept, last.header == accept {
            format = last.format
        } else {
            format = ContentNegotiation.format(accept: accept)
            lastAccept = (accept, format)
        }
        let encoding = headers.first(name: "accept-encoding")
        let gzip: Bool
        if let last = lastEncoding, last.header == encoding {
            gzip = last.gzip
        } else {
            gzip = ContentNegotiation.acceptsGzip(encoding)
            lastEncoding = (encoding, gzip)
        }
        return (format, gzip)
    }

    private func landingPage() -> String {
        let path = HTMLEscape.escape(shared.configuration.telemetryPath)
        let version = HTMLEscape.escape(shared.configuration.build.version)
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Binance Futures Exporter</title></head>
            <body><h1>Binance Futures Exporter</h1>
            <p>Version \(version)</p>
            <ul><li><a href="\(path)">Metrics</a></li><li><a href="/-/healthy">Health</a></li><li><a href="/-/ready">Readiness</a></li></ul>
            </body></html>

            """
    }

    // MARK: responses

    private func respondMethodNotAllowed(context: ChannelHandlerContext, head: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "Allow", value: "GET, HEAD")
        respond(
            context: context, head: head, status: .methodNotAllowed, type: "text/plain; charset=utf-8",
            body: ByteBuffer(string: "Method not allowed\n"), extraHeaders: headers)
    }

    private func respondError(context: ChannelHandlerContext, status: HTTPResponseStatus) {
        timer?.cancel()
        state = .closing
        var headers = HTTPHeaders()
        for header in shared.responseHeaders { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Connection", value: "close")
        let body = ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func respond(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, type: String, body: ByteBuffer,
        extraHeaders: HTTPHeaders = HTTPHeaders(), completion: (@Sendable () -> Void)? = nil
    ) {
        guard case .responding = state else {
            completion?()
            return
        }
        var headers = extraHeaders
        for header in shared.responseHeaders { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if head.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let version = head.version.major == 1 && head.version.minor == 0 ? HTTPVersion.http1_0 : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        writesInFlight += 1
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            completion?()
            let (handler, context) = loopBound.value
            handler.writesInFlight -= 1
            if !keepAlive {
                channel.close(promise: nil)
            } else {
                handler.closeIfDrained(context: context)
            }
        }
        if keepAlive {
            state = .idle
            armTimer(context: context, after: shared.configuration.idleTimeout)
        } else {
            state = .closing
        }
    }
}

/// Sent to every connection when the listener shuts down (see `HTTPListener.drain`).
public struct DrainEvent: Sendable {
    public init() {}
}

enum HTMLEscape {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
