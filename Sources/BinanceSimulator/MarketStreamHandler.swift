import Foundation
import NIOCore
import NIOWebSocket

extension ExchangeSimulator {
    /// The `!markPrice@arr@1s` frame for every listed symbol (USDⓈ-M `st` 1, then COIN-M `st` 2),
    /// from the same prices the accounts are valued at, so what a client recomputes agrees with
    /// `account.status`.
    public func markPriceFrame() -> String {
        let now = clock()
        return state.withLockedValue { state in
            let now = now + state.faults.clockSkewMilliseconds
            let nextFunding = (now / 28_800_000 + 1) * 28_800_000
            var rows = state.market.symbols.map { symbol -> String in
                var out = JSONOut()
                let price = state.market.price(symbol)
                out.string("e", "markPriceUpdate")
                out.int("E", now)
                out.string("s", symbol)
                out.dec("p", price)
                out.dec("i", price * 0.9999)
                out.dec("P", price * 1.0001)
                out.dec("r", state.market.fundingRate(symbol))
                out.dec("ap", price)
                out.int("T", nextFunding)
                out.int("st", 1)
                return out.finished()
            }
            // Since the COIN-M/USDⓈ-M integration the all-market array also carries the COIN-M
            // contracts, tagged `st` 2 (USDⓈ-M rows: 1).
            rows += state.market.coinM.map { Self.coinMMarkRow($0, market: state.market, now: now, averagePrice: true) }
            return "{\"stream\":\"!markPrice@arr@1s\",\"data\":\(JSONOut.array(rows))}"
        }
    }
}

/// One market stream connection: SUBSCRIBE `!markPrice@arr@1s`, then a frame every
/// `markPriceInterval`.
final class MarketStreamConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let simulator: ExchangeSimulator
    var subscribed = false
    var timer: RepeatedTask?

    init(simulator: ExchangeSimulator) { self.simulator = simulator }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        simulator.marketClients.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
        let interval = simulator.configuration.markPriceInterval
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            guard handler.subscribed, !handler.simulator.state.withLockedValue({ $0.faults.pauseMarkPrices }) else { return }
            handler.simulator.state.withLockedValue { $0.stats.markPriceFrames += 1 }
            let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: handler.simulator.markPriceFrame()))
            context.writeAndFlush(handler.wrapOutboundOut(frame), promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        let id = ObjectIdentifier(context.channel)
        simulator.marketClients.withLockedValue { _ = $0.removeValue(forKey: id) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            var payload = frame.unmaskedData
            let text = payload.readString(length: payload.readableBytes) ?? ""
            guard let object = SimulatorJSON.object(text), let method = object["method"] as? String else {
                reply(context, "{\"error\":{\"code\":3,\"msg\":\"Invalid JSON\"},\"id\":null}")
                return
            }
            let id = (object["id"] as? NSNumber).map { String($0.int64Value) } ?? "null"
            let params = (object["params"] as? [Any])?.compactMap { $0 as? String } ?? []
            if method == "SUBSCRIBE", params.allSatisfy({ $0 == "!markPrice@arr@1s" || $0 == "!markPrice@arr" }) {
                subscribed = true
                reply(context, "{\"result\":null,\"id\":\(id)}")
            } else if method == "UNSUBSCRIBE" {
                subscribed = false
                reply(context, "{\"result\":null,\"id\":\(id)}")
            } else {
                reply(context, "{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown stream\"},\"id\":\(id)}")
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))), promise: nil)
    }
}

extension ExchangeSimulator {
    /// Drops every market stream connection without a close frame.
    public func dropMarketStreams() {
        for channel in marketClients.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }

    public var openMarketStreams: Int { marketClients.withLockedValue { $0.count } }
}
