import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// Where a handshake goes, from its request path.
enum SimulatorRoute: Equatable {
    /// The WebSocket API (`/ws-fapi/v1`, and any path not listed below).
    case api
    /// `/private/stream`: combined frames, keys added with SUBSCRIBE.
    case userStream
    /// `/private/ws?listenKey=K&events=E/E`: raw frames of one key, optionally filtered.
    case userStreamRaw(listenKey: String?, events: Set<String>?)
    /// `/market/stream`: public market streams (`!markPrice@arr@1s`).
    case marketStream
    /// `/ws/<listenKey>` and other retired or unknown stream paths: 404.
    case retired
    /// ws-dapi (`/ws-dapi/v1`): the COIN-M WebSocket API.
    case coinMAPI
    /// dstream `/dstream/stream` (`?streams=a/b`): combined frames of mark price streams and
    /// COIN-M listen keys, more added with SUBSCRIBE.
    case coinMStream(streams: [String])
    /// dstream `/dstream/ws/<name>`: raw frames of one COIN-M listen key or one mark price stream.
    case coinMRaw(name: String)
    /// `/pm/ws/<listenKey>`: raw frames of one Portfolio Margin listen key (Binance's documented form).
    case portfolioMarginRaw(listenKey: String)
    /// `/pm/stream`: combined frames of Portfolio Margin listen keys added with SUBSCRIBE (the PM SDK's form).
    case portfolioMarginStream

    /// A WebSocket API (request and answer), not a stream.
    var isWebSocketAPI: Bool { self == .api || self == .coinMAPI }

    init(uri: String) {
        let path = uri.prefix { $0 != "?" }
        let query = uri.contains("?") ? uri[uri.index(after: uri.firstIndex(of: "?")!)...] : ""
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            parameters[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        switch path {
        case "/ws-dapi/v1", "/ws-dapi/v1/": self = .coinMAPI
        case "/dstream/stream", "/dstream/stream/":
            self = .coinMStream(streams: parameters["streams"].map { $0.split(separator: "/").map(String.init) } ?? [])
        case _ where path.hasPrefix("/dstream/ws/") && path.count > "/dstream/ws/".count:
            self = .coinMRaw(name: String(path.dropFirst("/dstream/ws/".count)))
        case _ where path.hasPrefix("/pm/ws/") && path.count > "/pm/ws/".count:
            self = .portfolioMarginRaw(listenKey: String(path.dropFirst("/pm/ws/".count)))
        case "/pm/stream", "/pm/stream/": self = .portfolioMarginStream
        case "/private/stream", "/private/stream/": self = .userStream
        case "/market/stream", "/market/stream/": self = .marketStream
        case "/private/ws", "/private/ws/":
            self = .userStreamRaw(
                listenKey: parameters["listenKey"],
                events: parameters["events"].map { Set($0.split(separator: "/").map(String.init)) })
        default:
            self =
                path.hasPrefix("/ws/") || path.hasPrefix("/private") || path.hasPrefix("/stream") || path.hasPrefix("/dstream")
                    || path.hasPrefix("/ws-dapi") || path.hasPrefix("/pm/") ? .retired : .api
        }
    }
}

/// One client of the user data stream endpoints.
struct StreamClient {
    let channel: any Channel
    var keys: Set<String>
    /// Raw frames (`/private/ws`) instead of combined ones.
    let raw: Bool
    /// Only these event types (`events=` of the raw form); nil: all.
    let events: Set<String>?
}

extension ExchangeSimulator {
    /// Stream handshakes cost no request weight (Binance limits stream connections by count),
    /// but an IP ban refuses them too. A raw-form handshake needs a live listen key.
    func admitStreamHandshake(_ route: SimulatorRoute) -> Int? {
        let now = clock()
        return state.withLockedValue { state -> Int? in
            let now = now + state.faults.clockSkewMilliseconds
            if let status = state.faults.rejectHandshakesWithStatus { return status }
            if state.bannedUntil > now { return 418 }
            if state.faults.rejectStreamHandshakes { return 503 }
            switch route {
            case .retired: return 404
            case .userStreamRaw(let key, _):
                guard let key, state.liveAccount(listenKey: key, now: now, venue: .usdM) != nil else { return 400 }
                state.stats.streamHandshakes += 1
                return nil
            case .coinMRaw(let name):
                if MarkStreamName(name) != nil {
                    state.stats.marketStreamHandshakes += 1
                    return nil
                }
                guard state.liveAccount(listenKey: name, now: now, venue: .coinM) != nil else { return 400 }
                state.stats.streamHandshakes += 1
                return nil
            case .portfolioMarginRaw(let key):
                guard state.liveAccount(listenKey: key, now: now, venue: .portfolioMargin) != nil else { return 400 }
                state.stats.streamHandshakes += 1
                return nil
            case .coinMStream, .portfolioMarginStream:
                state.stats.streamHandshakes += 1
                return nil
            case .userStream:
                state.stats.streamHandshakes += 1
                return nil
            case .marketStream:
                state.stats.marketStreamHandshakes += 1
                return nil
            case .api, .coinMAPI: return nil
            }
        }
    }

    // MARK: listen keys

    /// The account's live listen key, if it has one (tests: to check it never leaks). `venue`
    /// nil: the key's USDⓈ-M account, or its COIN-M account when it has only that.
    public func listenKey(apiKey: String, venue: SimulatedVenue? = nil) -> String? {
        listenKey(accountID: state.withLockedValue { $0.accountID(apiKey, venue) })
    }

    func listenKey(accountID: String) -> String? {
        let now = clock()
        return state.withLockedValue { state in
            guard let live = state.listenKeys[accountID], live.expiresAt > now + state.faults.clockSkewMilliseconds else { return nil }
            return live.key
        }
    }

    /// Ends the account's listen key now, as if 60 minutes passed without a ping.
    public func expireListenKey(apiKey: String, venue: SimulatedVenue? = nil) {
        state.withLockedValue { $0.listenKeys[$0.accountID(apiKey, venue)]?.expiresAt = 0 }
        expireListenKeys()
    }

    /// Removes keys past their validity and tells their subscribers with `listenKeyExpired`.
    func expireListenKeys() {
        let now = clock()
        let expired = state.withLockedValue { state -> [(key: String, accountID: String)] in
            let now = now + state.faults.clockSkewMilliseconds
            var expired: [(key: String, accountID: String)] = []
            for (accountID, live) in state.listenKeys where live.expiresAt <= now {
                expired.append((live.key, accountID))
                state.listenKeys.removeValue(forKey: accountID)
                state.stats.listenKeysExpired += 1
            }
            return expired
        }
        for (key, accountID) in expired {
            let portfolioMargin = SimulatedVenue(accountID: accountID) == .portfolioMargin
            send(
                toListenKey: key, type: "listenKeyExpired",
                event: UserEventFrames.listenKeyExpired(key, portfolioMargin: portfolioMargin, now: now))
            streamClients.withLockedValue { clients in
                for id in clients.keys { clients[id]?.keys.remove(key) }
            }
        }
    }

    // MARK: stream delivery

    /// Sends an account's events to every stream client subscribed to its live listen key.
    func deliver(accountID: String, events: [(type: String, json: String)]) {
        guard let key = listenKey(accountID: accountID) else { return }
        for event in events { send(toListenKey: key, type: event.type, event: event.json) }
    }

    private func send(toListenKey key: String, type: String, event: String) {
        let targets = streamClients.withLockedValue { clients in clients.values.filter { $0.keys.contains(key) } }
        let sent = state.withLockedValue { state -> Bool in
            if state.faults.pauseUserStream { return false }
            state.stats.userStreamEventsSent += targets.count
            return true
        }
        guard sent else { return }
        eventObserver.withLockedValue { $0 }?(key, type, event)
        let combined = UserEventFrames.combined(stream: key, data: event)
        for client in targets {
            if let events = client.events, !events.contains(type) { continue }
            let text = client.raw ? event : combined
            client.channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil)
        }
    }

    /// Sends raw text to every user stream client (malformed-event tests).
    public func broadcastToUserStreams(text: String) {
        for client in streamClients.withLockedValue({ Array($0.values) }) {
            client.channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil)
        }
    }

    /// Drops every user stream connection without a close frame.
    public func dropUserStreams() {
        for client in streamClients.withLockedValue({ Array($0.values) }) { client.channel.close(promise: nil) }
    }

    public var openUserStreams: Int { streamClients.withLockedValue { $0.count } }

    /// The listen keys each user stream connection carries (how many accounts share one).
    public var userStreamSubscriptionCounts: [Int] { streamClients.withLockedValue { $0.values.map(\.keys.count) } }
}

extension ExchangeState {
    /// The account ID whose live listen key is `listenKey`; with `venue`, only an account of that venue.
    func liveAccount(listenKey: String, now: Int64, venue: SimulatedVenue? = nil) -> String? {
        listenKeys.first {
            $0.value.key == listenKey && $0.value.expiresAt > now && (venue == nil || SimulatedVenue(accountID: $0.key) == venue)
        }?.key
    }
}

/// One user data stream connection on the simulator: SUBSCRIBE / UNSUBSCRIBE /
/// LIST_SUBSCRIPTIONS on the combined form, listen-key expiry checks, server pings, and the
/// 24 h limit.
final class UserStreamConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let simulator: ExchangeSimulator
    let route: SimulatorRoute
    let openedAt: NIODeadline
    var timer: RepeatedTask?
    var lastPing: NIODeadline
    /// dstream: the mark price streams of this connection, in subscription order.
    var markStreams: [String] = []
    /// dstream `/ws/<stream>`: frames without the `{stream,data}` envelope.
    var rawMarkStream = false
    var lastMarkPush: NIODeadline
    var markPushes = 0

    init(simulator: ExchangeSimulator, route: SimulatorRoute) {
        self.simulator = simulator
        self.route = route
        self.openedAt = .now()
        self.lastPing = .now()
        self.lastMarkPush = .now()
    }

    /// The venue whose listen keys this connection serves: dstream COIN-M, `/pm` Portfolio
    /// Margin, fstream USDⓈ-M.
    var venue: SimulatedVenue {
        switch route {
        case .coinMRaw, .coinMStream: .coinM
        case .portfolioMarginRaw, .portfolioMarginStream: .portfolioMargin
        default: .usdM
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        var client = StreamClient(channel: channel, keys: [], raw: false, events: nil)
        switch route {
        case .userStreamRaw(let key?, let events):
            client = StreamClient(channel: channel, keys: [key], raw: true, events: events)
        case .portfolioMarginRaw(let key):
            client = StreamClient(channel: channel, keys: [key], raw: true, events: nil)
        case .coinMRaw(let name):
            if MarkStreamName(name) != nil {
                markStreams = [name]
                rawMarkStream = true
            } else {
                client = StreamClient(channel: channel, keys: [name], raw: true, events: nil)
            }
        case .coinMStream(let streams):
            markStreams = streams.filter { MarkStreamName($0) != nil }
            let now = simulator.clock()
            let keys = simulator.state.withLockedValue { state in
                streams.filter { state.liveAccount(listenKey: $0, now: now + state.faults.clockSkewMilliseconds, venue: .coinM) != nil }
            }
            client = StreamClient(channel: channel, keys: Set(keys), raw: false, events: nil)
        default:
            break
        }
        simulator.streamClients.withLockedValue { $0[ObjectIdentifier(channel)] = client }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            let (handler, context) = loopBound.value
            handler.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        simulator.expireListenKeys()
        let configuration = simulator.configuration
        if NIODeadline.now() - openedAt >= configuration.streamMaxAge {
            context.closeWebSocket(code: .goingAway)
            return
        }
        if let interval = configuration.serverPingInterval, NIODeadline.now() - lastPing >= interval {
            lastPing = .now()
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "s"))), promise: nil)
        }
        if !markStreams.isEmpty, NIODeadline.now() - lastMarkPush >= configuration.markPriceInterval {
            lastMarkPush = .now()
            markPushes += 1
            guard !simulator.state.withLockedValue({ $0.faults.pauseMarkPrices }) else { return }
            for stream in markStreams {
                // `@1s` every push, the 3 s form every third.
                guard let name = MarkStreamName(stream), name.everySecond || markPushes % 3 == 0,
                    let text = simulator.coinMMarkPriceFrame(stream, raw: rawMarkStream)
                else { continue }
                simulator.state.withLockedValue { $0.stats.markPriceFrames += 1 }
                context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))), promise: nil)
            }
            context.flush()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        let id = ObjectIdentifier(context.channel)
        simulator.streamClients.withLockedValue { _ = $0.removeValue(forKey: id) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        simulator.streamClients.withLockedValue { _ = $0.removeValue(forKey: id) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard frame.maskKey != nil else {
                context.closeWebSocket(code: .protocolError)
                return
            }
            var payload = frame.unmaskedData
            let text = payload.readString(length: payload.readableBytes) ?? ""
            let answer = handle(text, channel: context.channel)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: answer))), promise: nil)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .connectionClose:
            context.closeWebSocket(code: .normalClosure)
        default:
            context.closeWebSocket(code: .protocolError)
        }
    }

    /// Answers one request of the combined-stream protocol.
    private func handle(_ text: String, channel: any Channel) -> String {
        guard let object = SimulatorJSON.object(text), let method = object["method"] as? String else {
            return
                "{\"error\":{\"code\":3,\"msg\":\"Invalid JSON: expected {\\\"method\\\":…,\\\"params\\\":…,\\\"id\\\":…}\"},\"id\":null}"
        }
        // Foundation on Linux reads the numbers 0 and 1 as booleans too: take any number as a number.
        let id = (object["id"] as? NSNumber).map { String($0.int64Value) } ?? simulator.rules.idJSON(object["id"])
        let params = (object["params"] as? [Any])?.compactMap { $0 as? String } ?? []
        let id_ = ObjectIdentifier(channel)
        // dstream's combined connection carries market streams (names with an `@`) and listen keys.
        let markets = venue == .coinM && !rawMarkStream ? params.filter { $0.contains("@") || $0.hasPrefix("!") } : []
        let keys = params.filter { !markets.contains($0) }
        switch method {
        case "SUBSCRIBE":
            if markets.contains(where: { MarkStreamName($0) == nil }) {
                return "{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown stream\"},\"id\":\(id)}"
            }
            let now = simulator.clock()
            let venue = venue
            let unknown = simulator.state.withLockedValue { state in
                keys.contains { state.liveAccount(listenKey: $0, now: now + state.faults.clockSkewMilliseconds, venue: venue) == nil }
            }
            if unknown { return "{\"error\":{\"code\":-1125,\"msg\":\"This listenKey does not exist.\"},\"id\":\(id)}" }
            simulator.streamClients.withLockedValue { $0[id_]?.keys.formUnion(keys) }
            for market in markets where !markStreams.contains(market) { markStreams.append(market) }
            return "{\"result\":null,\"id\":\(id)}"
        case "UNSUBSCRIBE":
            simulator.streamClients.withLockedValue { $0[id_]?.keys.subtract(keys) }
            markStreams.removeAll { markets.contains($0) }
            return "{\"result\":null,\"id\":\(id)}"
        case "LIST_SUBSCRIPTIONS":
            let names = simulator.streamClients.withLockedValue { $0[id_]?.keys.sorted() ?? [] } + markStreams
            return "{\"result\":[\(names.map(JSONOut.quote).joined(separator: ","))],\"id\":\(id)}"
        default:
            return
                "{\"error\":{\"code\":1,\"msg\":\"Invalid value type: expected SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS\"},\"id\":\(id)}"
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.closeWebSocket(code: .unexpectedServerError)
    }
}
