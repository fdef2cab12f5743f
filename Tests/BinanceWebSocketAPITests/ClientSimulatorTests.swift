import BinanceSimulator
import Foundation
import TestSupport
import Testing

@testable import BinanceWebSocketAPI

/// The client against the simulator over real WebSocket frames on 127.0.0.1.
@Suite(.serialized) struct ClientSimulatorTests {
    @Test(arguments: KeyType.allCases)
    func everyMethodWithEveryKeyType(type: KeyType) async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(type)
            if type == .ed25519 {
                let logon = try await connection.logon()
                #expect(logon.value.apiKey == SimulatorHarness.edKey)
                #expect(await connection.isLoggedOn)
            }
            let (offset, limit) = try await connection.synchroniseClock(samples: 2)
            #expect(abs(offset) < 1000)
            #expect(limit?.limit == 2400)
            for version in [MethodVersion.v1, .v2] {
                let status = try await connection.accountStatus(version)
                #expect(status.rateLimit != nil)
                #expect((status.value.flags != nil) == (version == .v1))
                let positions = try await connection.positions(version)
                if version == .v1 {
                    #expect(positions.value.count >= Market.standard().symbols.count, "v1 lists every symbol")
                } else {
                    #expect(positions.value.allSatisfy { $0.positionAmount != 0 }, "v2 lists open positions only")
                }
                let balances = try await connection.balances(version)
                #expect(!balances.value.isEmpty)
            }
            let one = try await connection.positions(.v1, symbol: "BTCUSDT")
            #expect(one.value.allSatisfy { $0.symbol == "BTCUSDT" })
            await connection.close()
        }
    }

    @Test func hmacTotalsMatchSimulatorBook() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.setMarkPrice("BTCUSDT", 61_000)
            let connection = try await harness.connect(.hmac)
            let status = try await connection.accountStatus(.v2).value
            #expect(status.totals?.walletBalance == 1000)
            #expect(status.totals?.unrealizedProfit == 100)
            #expect(status.totals?.marginBalance == 1100)
            #expect(status.positions.count == 1)
            #expect(status.positions[0].notional == 6100)
            #expect(status.positions[0].maintMargin == 30.5)
            await connection.close()
        }
    }

    @Test func wrongSignatureIsRejected() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            var configuration = ConnectionConfiguration(url: harness.url)
            configuration.requestTimeout = .seconds(5)
            let wrong = APICredentials(apiKey: SimulatorHarness.hmacKey, signer: try RequestSigner.hmac(secret: "not-the-secret"))
            let connection = try await BinanceConnection.connect(
                configuration: configuration, credentials: wrong, logger: .init(label: "t"))
            await #expect {
                try await connection.accountStatus(.v2)
            } throws: { error in
                guard case .api(let api) = error as? BinanceClientError else { return false }
                return api.code == -1022 && api.isCredentialProblem
            }
            #expect(harness.simulator.stats.signatureFailures == 1)
            await connection.close()
        }
    }

    @Test func unknownKeyIsRejected() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            var configuration = ConnectionConfiguration(url: harness.url)
            configuration.requestTimeout = .seconds(5)
            let stranger = APICredentials(apiKey: "nobody", signer: try RequestSigner.hmac(secret: "x"))
            let connection = try await BinanceConnection.connect(
                configuration: configuration, credentials: stranger, logger: .init(label: "t"))
            await #expect {
                try await connection.accountStatus(.v1)
            } throws: { error in
                guard case .api(let api) = error as? BinanceClientError else { return false }
                return api.code == -2015 && api.status == 401
            }
            await connection.close()
        }
    }

    @Test func logonRefusedForHMACKeys() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            await #expect(throws: BinanceClientError.self) { try await connection.logon() }
            await connection.close()
        }
    }

    @Test func staleTimestampThenSuccessAfterResync() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            // The exchange clock runs 8 s ahead: every timestamp is outside recvWindow until resync.
            harness.simulator.updateFaults { $0.clockSkewMilliseconds = 8000 }
            let connection = try await harness.connect(.hmac)
            await #expect {
                try await connection.accountStatus(.v2)
            } throws: { error in
                guard case .api(let api) = error as? BinanceClientError else { return false }
                return api.isInvalidTimestamp
            }
            let (offset, _) = try await connection.synchroniseClock()
            #expect(abs(offset - 8000) < 500)
            _ = try await connection.accountStatus(.v2)
            // A clock running ahead of the exchange by 3 s is refused too ("1000ms ahead").
            harness.simulator.updateFaults { $0.clockSkewMilliseconds = -3000 }
            await #expect(throws: BinanceClientError.self) { try await connection.accountStatus(.v2) }
            try await connection.synchroniseClock()
            _ = try await connection.accountStatus(.v2)
            #expect(harness.simulator.stats.timestampFailures == 2)
            await connection.close()
        }
    }

    @Test func rateLimitThenBan() async throws {
        try await avoidMinuteBoundary()
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 40
        let harness = try await SimulatorHarness.start(configuration: configuration)
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            harness.simulator.addBackgroundWeight(30)
            _ = try await connection.accountStatus(.v2)  // 5 + 5 + 30 = 40: allowed
            let limited = try #require(await Self.apiError { try await connection.accountStatus(.v2) })
            #expect(limited.status == 429)
            #expect(limited.code == -1003)
            #expect(limited.retryAfter != nil)
            // Ignoring the 429 earns a ban.
            let banned = await Self.apiError { try await connection.accountStatus(.v2) }
            if banned == nil {
                // The server closes the connection after a ban answer; a new handshake is refused with HTTP 418.
                await #expect {
                    _ = try await harness.connect(.hmac)
                } throws: { error in
                    if case .handshakeRejected(418, _) = error as? BinanceClientError { return true }
                    return false
                }
            } else {
                #expect(banned?.status == 418)
                #expect((banned?.retryAfter ?? 0) > limited.retryAfter ?? 0)
            }
            #expect(harness.simulator.stats.answered418 == 1)
            await #expect {
                _ = try await harness.connect(.hmac)
            } throws: { error in
                // The ban is 120 s; Retry-After says how long is left.
                if case .handshakeRejected(418, let retryAfter?) = error as? BinanceClientError {
                    return retryAfter > 100 && retryAfter <= 120
                }
                return false
            }
            await connection.close()
        }
    }

    /// The `APIError` a call fails with, or nil.
    static func apiError<T>(_ call: () async throws -> T) async -> APIError? {
        do {
            _ = try await call()
            return nil
        } catch let error as BinanceClientError {
            if case .api(let api) = error { return api }
            return nil
        } catch {
            return nil
        }
    }

    @Test func garbageBinaryAndTruncatedFramesDoNotBreakTheConnection() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            #expect(await eventually { harness.simulator.openConnections == 1 })
            var events = connection.events.makeAsyncIterator()
            harness.simulator.broadcast(text: "this is not json")
            harness.simulator.broadcast(text: #"{"id":"1","status":200,"result":{"totalWall"#)
            harness.simulator.broadcastBinary([0, 1, 2, 3])
            var problems = 0
            while problems < 3, let event = await events.next() {
                if case .protocolError = event { problems += 1 }
            }
            #expect(problems == 3)
            let status = try await connection.accountStatus(.v2)
            #expect(status.value.totals?.walletBalance == 1000)
            await connection.close()
        }
    }

    @Test func droppedConnectionFailsPendingRequests() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateFaults { $0.silent = true }
            let connection = try await harness.connect(.hmac, timeout: .seconds(30))
            let pending = Task { try await connection.accountStatus(.v2) }
            try await Task.sleep(for: .milliseconds(200))
            harness.simulator.dropAllConnections()
            await #expect {
                _ = try await pending.value
            } throws: { error in
                if case .connectionClosed = error as? BinanceClientError { return true }
                return false
            }
            #expect(await connection.isClosed)
            await #expect(throws: BinanceClientError.self) { try await connection.accountStatus(.v2) }
        }
    }

    @Test func silentServerTimesOut() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateFaults { $0.silent = true }
            let connection = try await harness.connect(.hmac, timeout: .milliseconds(300))
            await #expect {
                _ = try await connection.accountStatus(.v2)
            } throws: { error in
                if case .timeout = error as? BinanceClientError { return true }
                return false
            }
            await connection.close()
        }
    }

    @Test func outOfOrderAndDelayedResponsesMatchById() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateFaults { $0.responseDelayMilliseconds = 100 }
            let connection = try await harness.connect(.hmac)
            async let a = connection.accountStatus(.v2)
            async let b = connection.positions(.v2)
            async let c = connection.sessionStatus()
            let (status, positions, session) = try await (a, b, c)
            #expect(status.value.totals?.walletBalance == 1000)
            #expect(positions.value.count == 1)
            #expect(session.value.serverTime > 0)
            await connection.close()
        }
    }

    @Test func serverPingIsAnswered() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.pingAll(payload: "are-you-there")
            #expect(await eventually { harness.simulator.stats.pongsReceived == 1 })
            await connection.close()
        }
    }

    @Test func missedPongClosesTheConnection() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateFaults { $0.ignoreClientPings = true }
            let connection = try await harness.connect(.hmac, pingInterval: 100)
            var reason: CloseReason?
            for await event in connection.events {
                if case .closed(let why) = event { reason = why }
            }
            #expect(reason == .missedPong)
        }
    }

    @Test func serverShutdownEventAndCloseFrame() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.hmac)
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.announceShutdown()
            harness.simulator.closeAllConnections(code: .goingAway)
            var sawShutdown = false
            var closeReason: CloseReason?
            for await event in connection.events {
                if event == .serverShutdown { sawShutdown = true }
                if case .closed(let reason) = event { closeReason = reason }
            }
            #expect(sawShutdown)
            #expect(closeReason == .closeFrame(code: 1001))
            // A new connection works right away.
            let again = try await harness.connect(.hmac)
            _ = try await again.accountStatus(.v2)
            await again.close()
        }
    }

    @Test func revokedKeyOnLoggedOnSessionGivesNullIdError() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.ed25519)
            try await connection.logon()
            _ = try await connection.accountStatus(.v2)
            harness.simulator.revokeKey(SimulatorHarness.edKey)
            var iterator = connection.events.makeAsyncIterator()
            await #expect {
                _ = try await connection.accountStatus(.v2)
            } throws: { error in
                guard case .api(let api) = error as? BinanceClientError else { return false }
                return api.code == -2015
            }
            let event = await iterator.next()
            #expect(event == .sessionError(code: -2015, message: "Invalid API-key, IP, or permissions for action."))
            await connection.close()
        }
    }

    @Test func oneMegabyteResponseIsReceivedWhole() async throws {
        var configuration = SimulatorConfiguration()
        configuration.market = Market.standard(extraSymbols: 1800)
        configuration.maxFrameSize = 8 << 20
        let harness = try await SimulatorHarness.start(configuration: configuration)
        try await withCleanup({ await harness.simulator.stop() }) {
            let connection = try await harness.connect(.ed25519)
            try await connection.logon()
            // Hedge mode doubles the rows: 2 × 1810 symbols ≈ 1.2 MB.
            let status = try await connection.accountStatus(.v1)
            #expect(status.value.positions.count == 2 * 1810)
            await connection.close()
        }
    }

    @Test func fragmentedResponsesAreReassembled() async throws {
        var configuration = SimulatorConfiguration()
        configuration.market = Market.standard(extraSymbols: 300)
        let harness = try await SimulatorHarness.start(configuration: configuration)
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateFaults { $0.fragmentSize = 4096 }
            let connection = try await harness.connect(.hmac)
            let status = try await connection.accountStatus(.v1)
            #expect(status.value.positions.count == 310)
            let positions = try await connection.positions(.v2)
            #expect(positions.value.count == 1)
            await connection.close()
            #expect(await eventually { harness.simulator.stats.closeFramesReceived == 1 }, "close() sends a close frame")
        }
    }

    @Test func handshakeCostsWeight() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let before = harness.simulator.ipWeightCount
            let connection = try await harness.connect(.hmac)
            #expect(harness.simulator.ipWeightCount == before + 5)
            let response = try await connection.sessionStatus()
            #expect(response.rateLimit?.count == before + 7)
            await connection.close()
        }
    }
}
