import NIOCore
import NIOWebSocket

/// One client connection on the simulator: runs requests through the rules, applies delays and
/// silence, pings the client and drops it if pongs stop.
final class SimulatorConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let simulator: ExchangeSimulator
    var session: SessionState
    var pingTask: RepeatedTask?
    var awaitingPongSince: NIODeadline?

    init(simulator: ExchangeSimulator, connectedSince: Int64, venue: SimulatedVenue = .usdM) {
        self.simulator = simulator
        self.session = SessionState(loggedOnKey: nil, connectedSince: connectedSince, venue: venue)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        simulator.connections.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
        if let interval = simulator.configuration.serverPingInterval {
            let pongTimeout = simulator.configuration.pongTimeout
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let (handler, context) = loopBound.value
                if let since = handler.awaitingPongSince, NIODeadline.now() - since > pongTimeout {
                    context.close(promise: nil)
                    return
                }
                if handler.awaitingPongSince == nil { handler.awaitingPongSince = .now() }
                let frame = WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "\(handler.simulator.clock())"))
                context.writeAndFlush(handler.wrapOutboundOut(frame), promise: nil)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        let id = ObjectIdentifier(context.channel)
        simulator.connections.withLockedValue { _ = $0.removeValue(forKey: id) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        simulator.connections.withLockedValue { _ = $0.removeValue(forKey: id) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard frame.maskKey != nil else {
                // RFC 6455: a server must close a connection that sends an unmasked frame.
                context.closeWebSocket(code: .protocolError)
                return
            }
            var payload = frame.unmaskedData
            let text = payload.readString(length: payload.readableBytes) ?? ""
            let now = simulator.clock()
            var session = self.session
            let (outcome, faults, corruption) = simulator.state.withLockedValue { state in
                let outcome = simulator.rules.handle(text: text, session: &session, state: &state, now: now)
                let corruption =
                    outcome.frames.isEmpty || state.faults.corruptAnswers.isEmpty ? nil : state.faults.corruptAnswers.removeFirst()
                return (outcome, state.faults, corruption)
            }
            self.session = session
            if faults.silent { return }
            let send = { [self] in
                for text in outcome.frames {
                    for frame in Self.frames(for: text, corruption: corruption, fragmentSize: faults.fragmentSize) {
                        context.write(wrapOutboundOut(frame), promise: nil)
                    }
                    context.flush()
                }
                if outcome.closeAfter { context.closeWebSocket(code: .policyViolation) }
            }
            if faults.responseDelayMilliseconds > 0 {
                let loopBound = NIOLoopBound(send, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(faults.responseDelayMilliseconds)) { loopBound.value() }
            } else {
                send()
            }
        case .binary:
            context.closeWebSocket(code: .unacceptableData)
        case .ping:
            let ignore = simulator.state.withLockedValue { $0.faults.ignoreClientPings }
            if !ignore {
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
            }
        case .pong:
            awaitingPongSince = nil
            simulator.state.withLockedValue { $0.stats.pongsReceived += 1 }
        case .connectionClose:
            simulator.state.withLockedValue { $0.stats.closeFramesReceived += 1 }
            context.closeWebSocket(code: .normalClosure)
        default:
            context.closeWebSocket(code: .protocolError)
        }
    }

    /// One text frame, or a text frame and continuation frames when fragmenting; or the
    /// corrupted stand-in for the answer.
    static func frames(for text: String, corruption: AnswerCorruption? = nil, fragmentSize: Int?) -> [WebSocketFrame] {
        var bytes = Array(text.utf8)
        switch corruption {
        case .garbage: bytes = Array("}{ not json".utf8)
        case .truncated: bytes = Array(bytes.prefix(max(1, bytes.count / 2)))
        case .binary: return [WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0xDE, 0xAD, 0xBE, 0xEF]))]
        case nil: break
        }
        guard let size = fragmentSize, size > 0, bytes.count > size else {
            return [WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes))]
        }
        var frames: [WebSocketFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            frames.append(
                WebSocketFrame(
                    fin: end == bytes.count, opcode: offset == 0 ? .text : .continuation, data: ByteBuffer(bytes: bytes[offset..<end])))
            offset = end
        }
        return frames
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.closeWebSocket(code: .unexpectedServerError)
    }
}
