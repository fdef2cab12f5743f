import NIOCore
import NIOHTTP1
import NIOPosix

/// One connection's request handling, behind NIO's HTTP/1.1 request decoder. Responses are
/// written as bytes, not through NIO's response encoder: a scrape is one write of a response
/// built at publish time (`PreparedResponse`). Every path ends in exactly one response; every
/// limit violation ends in an error status and a closed connection, never a trap. Pipelined
/// requests are answered in order: parts that arrive while an answer is pending (basic auth is
/// checked off the event loop) wait in a bounded queue.
final class ExporterHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(HTTPRequestHead, bodyBytes: Int)
        case responding
        case closing
    }

    private let shared: ListenerShared
    private var state = State.idle
    /// When the connection closes unless a request head completes first (nil while a request
    /// is being received or answered). One timer per connection serves every deadline: a
    /// kept-alive scrape moves the deadline instead of scheduling and cancelling a task.
    private var deadline: NIODeadline?
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private var draining = false
    /// An error was answered: the connection is half-closed and what arrives is discarded.
    private var lingering = false
    /// The last `Accept` / `Accept-Encoding` values on this connection and what they meant:
    /// Prometheus sends the same long header on every scrape of a kept-alive connection, so a
    /// comparison of bytes replaces parsing it.
    private var lastAccept: (header: String?, format: ExpositionFormat)?
    private var lastEncoding: (header: String?, gzip: Bool)?
    /// Request parts received while a response was pending, in order, and their size.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var queuedBytes = 0

    init(shared: ListenerShared) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) {
        setDeadline(context: context, after: shared.configuration.requestHeadTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
    }

    /// Closes the connection if no complete request head arrives in time (slowloris, idle
    /// keep-alive). No response is written: none may be sent while no request is in flight.
    private func setDeadline(context: ChannelHandlerContext, after delay: TimeAmount) {
        let deadline = context.eventLoop.now + delay
        self.deadline = deadline
        if let timer {
            guard timer.at > deadline else { return }
            timer.task.cancel()
        }
        schedule(context: context, at: deadline)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let deadline = handler.deadline, case .idle = handler.state else { return }
            if deadline <= context.eventLoop.now {
                handler.state = .closing
                context.close(promise: nil)
            } else {
                handler.schedule(context: context, at: deadline)
            }
        }
        timer = (task, deadline)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .responding = state {
            enqueue(part, context: context)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), .idle):
            deadline = nil
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
            // .closing: ignore what follows; anything else cannot come from the HTTP decoder,
            // and no response may be written without a request in flight.
            break
        }
    }

    /// Holds a pipelined request part until the pending response is written; a client that
    /// sends more than one request's worth of limits meanwhile is disconnected.
    private func enqueue(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        queuedBytes += Self.size(of: part)
        guard queuedBytes <= shared.configuration.maxHeadBytes + shared.configuration.maxBodyBytes else {
            state = .closing
            queued.removeAll()
            context.close(promise: nil)
            return
        }
        queued.append(part)
    }

    /// Handles queued parts until they run out or one of them is waiting for an answer again.
    private func handleQueued(context: ChannelHandlerContext) {
        while let next = queued.first {
            switch state {
            case .idle, .receiving:
                queued.removeFirst()
                queuedBytes -= Self.size(of: next)
                handle(next, context: context)
            case .responding:
                return
            case .closing:
                queued.removeAll()
            }
        }
        queuedBytes = 0
    }

    private static func size(of part: HTTPServerRequestPart) -> Int {
        switch part {
        case .head(let head): headSize(head)
        case .body(let buffer): buffer.readableBytes
        case .end: 1
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request the decoder cannot parse gets a 400, unless an answer is already pending;
        // the connection closes either way (what NIO's protocol error handler did).
        // While lingering, whatever the client still sends is discarded, malformed or not.
        if lingering { return }
        if error is HTTPParserError {
            switch state {
            case .idle, .receiving:
                respondError(context: context, status: .badRequest, body: false)
                return
            case .responding, .closing:
                break
            }
        }
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

    /// While draining, an idle connection closes once everything written so far has reached
    /// the socket (an empty write completes after every write before it). A connection that is
    /// already closing closes itself.
    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, case .idle = state else { return }
        state = .closing
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
    }

    static func headSize(_ head: HTTPRequestHead) -> Int {
        head.uri.utf8.count + 16 + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    // MARK: routing

    /// The URI's path, without query or fragment: a view of the request's string, no copy.
    static func path(of uri: String) -> Substring {
        let utf8 = uri.utf8
        guard let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else { return uri[...] }
        return uri[..<end]
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = Self.path(of: head.uri)
        let isGetOrHead = head.method == .GET || head.method == .HEAD
        if path == "/-/healthy" {
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            return respond(context: context, head: head, status: .ok, text: "Healthy\n")
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
                    handler.respond(
                        context: context, head: head, status: .unauthorized, text: "Unauthorized\n",
                        extraHeaders: [("WWW-Authenticate", "Basic realm=\"binance-futures-exporter\", charset=\"UTF-8\"")])
                }
                handler.handleQueued(context: context)
            }
        }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, path: Substring, isGetOrHead: Bool) {
        let configuration = shared.configuration
        if path == configuration.telemetryPath {
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            guard shared.acquireRequestSlot() else {
                return respond(
                    context: context, head: head, status: .serviceUnavailable,
                    text: "Too many concurrent scrapes (--web.max-requests)\n")
            }
            // The slot is held while the response is built and handed to the channel: a
            // response is a shared buffer, so a slow reader holds no slot and no memory of its own.
            let (format, gzip) = negotiate(head.headers)
            respondScrape(context: context, head: head, response: shared.cache.response(format: format, gzip: gzip))
            shared.releaseRequestSlot()
        } else if path == "/" {
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            respond(context: context, head: head, status: .ok, type: "text/html; charset=utf-8", body: ByteBuffer(string: landingPage()))
        } else if path == "/-/ready" {
            guard isGetOrHead else { return respondMethodNotAllowed(context: context, head: head) }
            let ready = shared.cache.isReady
            respond(
                context: context, head: head, status: ready ? .ok : .serviceUnavailable,
                text: ready ? "Ready\n" : "Not ready: waiting for the first poll of every account\n")
        } else {
            respond(context: context, head: head, status: .notFound, text: "Not found\n")
        }
    }

    /// The format and encoding a request asks for, parsed only when the headers differ from the
    /// previous request's on this connection and from the listener's recent ones.
    private func negotiate(_ headers: HTTPHeaders) -> (ExpositionFormat, gzip: Bool) {
        let accept = headers.first(name: "accept")
        let format: ExpositionFormat
        if let last = lastAccept, last.header == accept {
            format = last.format
        } else {
            format = shared.negotiation.format(accept: accept)
            lastAccept = (accept, format)
        }
        let encoding = headers.first(name: "accept-encoding")
        let gzip: Bool
        if let last = lastEncoding, last.header == encoding {
            gzip = last.gzip
        } else {
            gzip = shared.negotiation.acceptsGzip(encoding)
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
        respond(
            context: context, head: head, status: .methodNotAllowed, text: "Method not allowed\n", extraHeaders: [("Allow", "GET, HEAD")])
    }

    /// An error that ends the connection: answered, then closed once written, lingering
    /// (`LingeringClose`) so that the answer survives a request still being sent.
    private func respondError(context: ChannelHandlerContext, status: HTTPResponseStatus, body: Bool = true) {
        deadline = nil
        state = .closing
        queued.removeAll()
        var head = ResponseHeadWriter(version: .http1_1, status: status)
        for header in shared.responseHeaders { head.add(header.name, header.value) }
        let text = body ? "\(status.code) \(status.reasonPhrase)\n" : ""
        if body { head.add("Content-Type", "text/plain; charset=utf-8") }
        head.add("Content-Length", text.utf8.count)
        head.add("Connection", "close")
        var bytes = head.finished()
        bytes.writeString(text)
        lingering = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in LingeringClose.start(channel) }
    }

    private func respond(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, text: String,
        extraHeaders: [(String, String)] = []
    ) {
        respond(
            context: context, head: head, status: status, type: "text/plain; charset=utf-8", body: ByteBuffer(string: text),
            extraHeaders: extraHeaders)
    }

    private func respond(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, type: String, body: ByteBuffer,
        extraHeaders: [(String, String)] = []
    ) {
        guard case .responding = state else { return }
        var writer = ResponseHeadWriter(version: head.version, status: status)
        for (name, value) in extraHeaders { writer.add(name, value) }
        writer.add("Content-Type", type)
        writer.add("Content-Length", body.readableBytes)
        write(context: context, head: head, writer: writer, body: body)
    }

    /// A scrape: the prepared response as it is when the connection is kept alive over HTTP/1.1
    /// and no extra headers are configured (one write); otherwise its body behind a head built
    /// for this request.
    private func respondScrape(context: ChannelHandlerContext, head: HTTPRequestHead, response: PreparedResponse) {
        guard case .responding = state else { return }
        if head.method == .GET, head.version == .http1_1, head.isKeepAlive, shared.responseHeaders.isEmpty {
            finish(context: context, keepAlive: true, last: response.bytes)
            return
        }
        var writer = ResponseHeadWriter(version: head.version, status: .ok)
        response.addHeaders(to: &writer)
        write(context: context, head: head, writer: writer, body: response.body)
    }

    /// Adds the configured and connection headers, then writes head and body (none for HEAD).
    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, writer: ResponseHeadWriter, body: ByteBuffer) {
        var writer = writer
        for header in shared.responseHeaders { writer.add(header.name, header.value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive {
            writer.add("Connection", "close")
        } else if head.version.minor == 0 {
            writer.add("Connection", "keep-alive")
        }
        if head.method == .HEAD {
            finish(context: context, keepAlive: keepAlive, last: writer.finished())
        } else {
            context.write(wrapOutboundOut(writer.finished()), promise: nil)
            finish(context: context, keepAlive: keepAlive, last: body)
        }
    }

    /// Writes the response's last buffer and flushes. A kept-alive connection is ready for the
    /// next request at once (no promise, no callback per scrape); otherwise the connection
    /// closes when the last byte has reached the socket.
    private func finish(context: ChannelHandlerContext, keepAlive: Bool, last: ByteBuffer) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(last), promise: nil)
            state = .idle
            setDeadline(context: context, after: shared.configuration.idleTimeout)
            closeIfDrained(context: context)
        } else {
            state = .closing
            queued.removeAll()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(last)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
