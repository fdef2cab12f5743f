import BinanceSimulator
import Foundation
import NIOPosix
import TestSupport
import Testing

@testable import BinanceWebSocketAPI

/// The listen key methods and the stream connection against the simulator, over real sockets.
@Suite("User data stream client")
struct UserStreamClientTests {
    func streamBase(_ harness: SimulatorHarness) throws -> WebSocketURL { try WebSocketURL(parsing: harness.simulator.streamURL) }

    /// Waits for the next event on `events`, or fails after `timeout`.
    func next(_ iterator: inout AsyncStream<UserStreamEvent>.AsyncIterator, timeout: Duration = .seconds(5)) async -> UserStreamEvent? {
        let deadline = ContinuousClock.now + timeout
        let box = IteratorBox(iterator)
        let result = await withTaskGroup(of: UserStreamEvent?.self) { group in
            group.addTask { await box.next() }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        iterator = box.iterator
        return result
    }

    @Test("start returns a 64-character key, charges weight 1, ping extends it and stop ends it")
    func listenKeyLifecycle() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            let started = try await connection.startUserDataStream()
            #expect(started.value.count == 64)
            #expect(started.value == harness.simulator.listenKey(apiKey: SimulatorHarness.hmacKey))
            let before = started.rateLimit?.count ?? 0
            let again = try await connection.startUserDataStream()
            #expect(again.value == started.value, "an active key is returned again, extended")
            #expect((again.rateLimit?.count ?? 0) - before == 1)
            let pinged = try await connection.pingUserDataStream()
            #expect(pinged.value == started.value)
            try await connection.stopUserDataStream()
            #expect(harness.simulator.listenKey(apiKey: SimulatorHarness.hmacKey) == nil)
            var failure: BinanceClientError?
            do {
                try await connection.pingUserDataStream()
            } catch {
                failure = error as? BinanceClientError
            }
            guard case .api(let error)? = failure else {
                Issue.record("a ping of a stopped key must fail")
                return
            }
            #expect(error.code == -1125)
            await connection.close()
        }
    }

    @Test("an Ed25519 session that logged on needs no apiKey parameter")
    func loggedOnSession() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.ed25519)
            try await connection.synchroniseClock()
            try await connection.logon()
            let key = try await connection.startUserDataStream().value
            #expect(key == harness.simulator.listenKey(apiKey: SimulatorHarness.edKey))
            await connection.close()
        }
    }

    @Test("SUBSCRIBE answers: an unknown key is Binance's error, a closed connection fails at once, both within the deadline")
    func subscribeOutcomes() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let stream = try await UserStreamConnection.connect(
                base: try streamBase(harness), transport: TransportConfiguration(), logger: testLogger("stream"))
            let started = ContinuousClock.now
            do {
                try await stream.subscribe(["NoSuchListenKey0000000000000000000000000000000000000000000000000"], timeout: .seconds(5))
                Issue.record("an unknown key was accepted")
            } catch BinanceClientError.api(let error) {
                #expect(error.code == -1125)
            } catch {
                Issue.record("unexpected \(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(5), "answered, not timed out")
            await stream.close()
            do {
                try await stream.subscribe(["AnyKey"], timeout: .seconds(5))
                Issue.record("a closed connection accepted a SUBSCRIBE")
            } catch BinanceClientError.connectionClosed {
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("two accounts on one stream connection each get their own events; fills carry rp and n")
    func twoAccountsOneConnection() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let hmac = try await harness.connect(.hmac)
            let rsa = try await harness.connect(.rsa)
            let hmacKey = try await hmac.startUserDataStream().value
            let rsaKey = try await rsa.startUserDataStream().value
            let stream = try await UserStreamConnection.connect(
                base: try streamBase(harness), transport: TransportConfiguration(), logger: testLogger("stream"))
            try await stream.subscribe([hmacKey, rsaKey])
            #expect(harness.simulator.userStreamSubscriptionCounts == [2])
            var events = stream.events.makeAsyncIterator()

            // Close part of the 0.1 BTC long at a profit: rp = 0.05 × (62000 − 60000) = 100.
            let outcome = try #require(
                harness.simulator.fill(apiKey: SimulatorHarness.hmacKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.05, price: 62_000))
            #expect(abs(outcome.realizedProfit - 100) < 1e-9)
            guard case .event(let stream1, .orderTradeUpdate(let order)) = await next(&events) else {
                Issue.record("expected ORDER_TRADE_UPDATE")
                return
            }
            #expect(stream1 == hmacKey)
            #expect(abs(order.realizedProfit - 100) < 1e-6)
            #expect(abs((order.commission ?? 0) - 0.05 * 62_000 * 0.0004) < 1e-6)
            #expect(order.commissionAsset == "USDT")
            #expect(order.isFill && order.forcedCloseKind == nil)
            guard case .event(_, .accountUpdate(let update)) = await next(&events) else {
                Issue.record("expected ACCOUNT_UPDATE")
                return
            }
            #expect(update.reason == "ORDER")
            let wallet = 1000 + 100 - 0.05 * 62_000 * 0.0004
            #expect(abs((update.balances.first?.walletBalance ?? 0) - wallet) < 1e-6)
            #expect(update.positions.first?.amount == 0.05)

            // The next account.status agrees with the events: wallet rp − n, position 0.05.
            let status = try await hmac.accountStatus(.v2).value
            #expect(abs((status.totals?.walletBalance ?? 0) - wallet) < 1e-6)
            #expect(status.positions.first { $0.symbol == "BTCUSDT" }?.positionAmount == 0.05)

            // The RSA account's margin call arrives under its own key.
            #expect(harness.simulator.marginCall(apiKey: SimulatorHarness.rsaKey))
            guard case .event(let stream2, .marginCall) = await next(&events) else {
                Issue.record("expected MARGIN_CALL")
                return
            }
            #expect(stream2 == rsaKey)
            await stream.close()
            await hmac.close()
            await rsa.close()
        }
    }

    @Test("an expired key sends listenKeyExpired and the key is gone; a malformed frame keeps the connection")
    func expiryAndMalformed() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let api = try await harness.connect(.hmac)
            let key = try await api.startUserDataStream().value
            let stream = try await UserStreamConnection.connect(
                base: try streamBase(harness), transport: TransportConfiguration(), logger: testLogger("stream"))
            try await stream.subscribe([key])
            var events = stream.events.makeAsyncIterator()
            harness.simulator.broadcastToUserStreams(text: "{\"stream\":\"x\",\"data\":{\"e\":\"ACCOUNT_UPDATE\",\"E\":\"soon\"}}")
            guard case .malformed(let stream1, let problem) = await next(&events) else {
                Issue.record("expected a malformed report")
                return
            }
            #expect(stream1 == "x")
            #expect(problem.hasPrefix("event."), "the error names the field, never the value")
            harness.simulator.broadcastToUserStreams(text: "}{")
            guard case .malformed(nil, _) = await next(&events) else {
                Issue.record("expected a malformed report")
                return
            }
            harness.simulator.expireListenKey(apiKey: SimulatorHarness.hmacKey)
            guard case .event(let stream2, .listenKeyExpired) = await next(&events) else {
                Issue.record("expected listenKeyExpired")
                return
            }
            #expect(stream2 == key)
            #expect(await !stream.isClosed)
            // Subscribing the dead key is refused with −1125.
            await #expect(throws: BinanceClientError.self) { try await stream.subscribe([key]) }
            await stream.close()
            await api.close()
        }
    }

    @Test("the raw /private/ws form needs a live key and filters by events=")
    func rawForm() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let api = try await harness.connect(.hmac)
            let key = try await api.startUserDataStream().value
            let port = try #require(URL(string: harness.simulator.url)?.port)
            await #expect(throws: BinanceClientError.self) {
                _ = try await WebSocketTransport.connect(
                    url: try WebSocketURL(parsing: "ws://127.0.0.1:\(port)/private/ws?listenKey=nope"),
                    configuration: TransportConfiguration(),
                    group: MultiThreadedEventLoopGroup.singleton)
            }
            await #expect(throws: BinanceClientError.self) {
                _ = try await WebSocketTransport.connect(
                    url: try WebSocketURL(parsing: "ws://127.0.0.1:\(port)/ws/\(key)"), configuration: TransportConfiguration(),
                    group: MultiThreadedEventLoopGroup.singleton)
            }
            let raw = try await WebSocketTransport.connect(
                url: try WebSocketURL(parsing: "ws://127.0.0.1:\(port)/private/ws?listenKey=\(key)&events=ACCOUNT_UPDATE"),
                configuration: TransportConfiguration(), group: MultiThreadedEventLoopGroup.singleton)
            var frames = raw.events.makeAsyncIterator()
            harness.simulator.fill(apiKey: SimulatorHarness.hmacKey, symbol: "BTCUSDT", side: "BUY", quantity: 0.01)
            guard case .text(let bytes) = await frames.next() else {
                Issue.record("expected a text frame")
                return
            }
            let event = try UserDataEventDecoder.decode(try JSONParser.parse(bytes))
            #expect(event.typeName == "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE is filtered out by events=")
            await raw.close()
            await api.close()
        }
    }
}

/// Lets a task group child drive an iterator that is handed back afterwards.
final class IteratorBox: @unchecked Sendable {
    var iterator: AsyncStream<UserStreamEvent>.AsyncIterator
    init(_ iterator: AsyncStream<UserStreamEvent>.AsyncIterator) { self.iterator = iterator }
    func next() async -> UserStreamEvent? { await iterator.next() }
}
