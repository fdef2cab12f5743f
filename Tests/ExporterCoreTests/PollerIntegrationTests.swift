import BinanceSimulator
import BinanceWebSocketAPI
import Crypto
import Foundation
import TestSupport
import Testing

@testable import ExporterCore

/// The exporter's poll path against the simulator over real sockets: exact values, vanishing
/// positions, freshness, and every fault of SPEC §7 ending in the documented state.
@Suite(.serialized) struct PollerIntegrationTests {
    static func singleAndHedge() throws -> [(name: String, account: SimulatedAccount, credentials: APICredentials)] {
        let (single, singleCredentials) = try TestAccounts.hmac(
            "KEYSINGLE",
            positions: [
                SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000, leverage: 10),
                SimulatedPosition(symbol: "ETHUSDT", amount: -2, entryPrice: 3_000, leverage: 5, isolated: true),
            ], wallets: ["USDT": 1000])
        let edKey = Curve25519.Signing.PrivateKey()
        let hedge = SimulatedAccount(
            apiKey: "KEYHEDGE", key: .ed25519(publicKey: edKey.publicKey), multiAssetsMargin: true, hedgeMode: true,
            wallets: ["USDT": 500, "BTC": 0.01],
            positions: [
                SimulatedPosition(symbol: "BTCUSDT", side: "LONG", amount: 0.2, entryPrice: 50_000, leverage: 20),
                SimulatedPosition(symbol: "BTCUSDT", side: "SHORT", amount: -0.1, entryPrice: 70_000, leverage: 20),
            ])
        let prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        let pem =
            "-----BEGIN PRIVATE KEY-----\n\(Data(prefix + Array(edKey.rawRepresentation)).base64EncodedString())\n-----END PRIVATE KEY-----"
        return [
            ("single", single, singleCredentials),
            ("hedge", hedge, APICredentials(apiKey: "KEYHEDGE", signer: try RequestSigner.privateKey(pem: pem))),
        ]
    }

    @Test func exactValuesSingleAssetOneWayAndMultiAssetsHedge() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            harness.simulator.setMarkPrice("BTCUSDT", 61_000)
            harness.simulator.setMarkPrice("ETHUSDT", 3_100)
            await harness.pollAll()
            let e = await harness.exposition()
            let single: KeyValuePairs = ["account": "single"]
            // BTC long: uPnL 0.1 × 1000 = 100; ETH short: −2 × 100 = −200.
            #expect(e.value("binance_futures_account_wallet_balance", single) == 1000)
            #expect(e.value("binance_futures_account_unrealized_profit", single) == -100)
            #expect(e.value("binance_futures_account_margin_balance", single) == 900)
            // maint = (6100 + 6200) × 0.005 = 61.5; ratio = 61.5 / 900.
            #expect(e.value("binance_futures_account_maint_margin", single) == 61.5)
            #expect(e.value("binance_futures_account_margin_ratio", single) == 61.5 / 900)
            #expect(e.value("binance_futures_account_multi_assets_margin", single) == 0)
            #expect(e.value("binance_futures_up", single) == 1)
            let btc: KeyValuePairs = ["account": "single", "symbol": "BTCUSDT", "position_side": "BOTH"]
            let eth: KeyValuePairs = ["account": "single", "symbol": "ETHUSDT", "position_side": "BOTH"]
            #expect(e.value("binance_futures_position_amount", btc) == 0.1)
            #expect(e.value("binance_futures_position_amount", eth) == -2)
            #expect(e.value("binance_futures_position_entry_price", btc) == 60_000)
            #expect(e.value("binance_futures_position_mark_price", btc) == 61_000)
            #expect(e.value("binance_futures_position_leverage", btc) == 10)
            #expect(e.value("binance_futures_position_isolated", eth) == 1)
            #expect(e.value("binance_futures_position_isolated", btc) == 0)
            #expect(e.value("binance_futures_position_notional", eth) == -6200)
            #expect(e.value("binance_futures_position_isolated_wallet", eth) == 1200)
            #expect(e.value("binance_futures_position_liquidation_price", btc) == 60_000 * (1 - 0.1 + 0.005))
            #expect(e.value("binance_futures_position_unrealized_profit", eth) == -200)
            #expect(e.series("binance_futures_position_amount").count == 4, "only open rows, not one per listed symbol")

            let hedge: KeyValuePairs = ["account": "hedge"]
            // USD totals: wallets 500 + 0.01 × 61000 = 1110; uPnL 0.2 × 11000 + (−0.1) × (−9000) = 3100.
            #expect(e.value("binance_futures_account_wallet_balance", hedge) == 1110)
            #expect(e.value("binance_futures_account_unrealized_profit", hedge) == 3100)
            #expect(e.value("binance_futures_account_multi_assets_margin", hedge) == 1)
            #expect(e.value("binance_futures_asset_wallet_balance", ["account": "hedge", "asset": "BTC"]) == 0.01)
            #expect(
                e.value("binance_futures_position_amount", ["account": "hedge", "symbol": "BTCUSDT", "position_side": "SHORT"]) == -0.1)
            #expect(e.value("binance_futures_position_amount", ["account": "hedge", "symbol": "BTCUSDT", "position_side": "LONG"]) == 0.2)
            #expect(e.value("binance_futures_up", hedge) == 1)
            #expect(harness.simulator.stats.logons == 1, "Ed25519 accounts log on once")
            #expect(e.value("binance_futures_request_weight_limit") == 2400)
        }
    }

    @Test func closedPositionsDisappearAtTheNextPoll() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            #expect(
                await harness.exposition().value(
                    "binance_futures_position_amount", ["account": "single", "symbol": "ETHUSDT", "position_side": "BOTH"]) == -2)
            harness.simulator.updateAccount(apiKey: "KEYSINGLE") { $0.positions.removeAll { $0.symbol == "ETHUSDT" } }
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.series("binance_futures_position_amount").filter { $0.contains("ETHUSDT") }.isEmpty)
            #expect(!e.text.contains("ETHUSDT"))
            #expect(e.value("binance_futures_position_amount", ["account": "single", "symbol": "BTCUSDT", "position_side": "BOTH"]) == 0.1)
        }
    }

    @Test func staleAccountDropsValuesAndKeepsUpZero() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge(), requestTimeout: .milliseconds(300))
        try await withCleanup({ await harness.stop() }) {
            await harness.pollAll()
            harness.simulator.updateFaults { $0.silent = true }
            await harness.poll("single")
            var e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 0, "last poll failed")
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "timeout"]) == 1)
            #expect(e.value("binance_futures_account_wallet_balance", ["account": "single"]) == 1000, "cached values stay until stale")
            harness.moveClock(by: 46)
            e = await harness.exposition()
            #expect(e.value("binance_futures_account_wallet_balance", ["account": "single"]) == nil)
            #expect(e.series("binance_futures_position_amount").allSatisfy { !$0.contains("\"single\"") })
            #expect(e.value("binance_futures_up", ["account": "single"]) == 0)
            #expect(e.value("binance_futures_last_success_timestamp_seconds", ["account": "single"]) != nil)
            #expect(e.value("binance_futures_up", ["account": "hedge"]) == 0, "hedge is stale too after 46 s without polls")
            // Recovery.
            harness.simulator.updateFaults { $0.silent = false }
            harness.moveClock(by: -46)
            try await Task.sleep(for: .milliseconds(100))
            await harness.poll("single")
            e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": "error"]) == 1)
        }
    }

    @Test func revokedKeyStopsOnlyThatAccount() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.pollAll()
            harness.simulator.revokeKey("KEYSINGLE")
            let before = harness.simulator.stats.totalRequests
            await harness.poll("single")
            await harness.poll("single")
            await harness.poll("hedge")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 0)
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-2015"]) == 1)
            #expect(e.value("binance_futures_account_stopped", ["account": "single", "reason": "credentials_rejected"]) == 1)
            #expect(e.value("binance_futures_up", ["account": "hedge"]) == 1)
            #expect(harness.simulator.stats.totalRequests - before == 1 + 2, "one refused request, then only the hedge poll (2 requests)")
        }
    }

    @Test func revokedKeyOnLoggedOnSessionStopsTheAccount() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.poll("hedge")
            harness.simulator.revokeKey("KEYHEDGE")
            await harness.poll("hedge")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "hedge"]) == 0)
            #expect(e.value("binance_futures_account_stopped", ["account": "hedge", "reason": "credentials_rejected"]) == 1)
        }
    }

    @Test func clockSkewIsCorrectedAndExported() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        try await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            // Exchange 3 s ahead: our timestamps are 3 s old, inside recvWindow (5 s): accepted as is.
            harness.simulator.updateFaults { $0.clockSkewMilliseconds = 3000 }
            await harness.poll("single")
            var e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-1021"]) == nil)
            // Exchange 3 s behind (our clock fast): "1000ms ahead" → −1021, resync, retry once, success.
            // Exchange 8 s ahead: outside recvWindow → the same.
            for (index, skew) in [Int64(-3000), 8000].enumerated() {
                harness.simulator.updateFaults { $0.clockSkewMilliseconds = skew }
                await harness.poll("single")
                e = await harness.exposition()
                #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
                #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-1021"]) == Double(index + 1))
                let offset = try #require(e.value("binance_futures_clock_offset_seconds", ["account": "single"]))
                #expect(abs(offset - Double(skew) / 1000) < 0.5)
            }
        }
    }

    @Test func ed25519ReconnectsUnderClockSkew() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.poll("hedge")
            // Our clock runs 3 s fast: a logon signed before measuring the offset would get −1021 forever.
            harness.simulator.updateFaults { $0.clockSkewMilliseconds = -3000 }
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.dropAllConnections()
            #expect(await eventually { await harness.exposition().value("binance_futures_websocket_connected", ["account": "hedge"]) == 0 })
            await harness.poll("hedge")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "hedge"]) == 1)
            #expect(harness.simulator.stats.logons == 2)
            #expect(harness.simulator.stats.timestampFailures == 0, "the offset was measured before signing the logon")
        }
    }

    @Test func connectionIsRotatedBeforeItsMaximumAge() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge()) { _, timing in timing.maxConnectionAgeSeconds = 0.2 }
        try await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            try await Task.sleep(for: .milliseconds(300))
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": "max_age"]) == 1)
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(harness.simulator.stats.handshakes == 2)
            #expect(await eventually { harness.simulator.openConnections == 1 }, "the old connection is closed after the new one works")
        }
    }

    @Test func missedPongsLeadToAReconnect() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge()) { connection, _ in
            connection.transport.pingInterval = .milliseconds(100)
            connection.transport.pongTimeout = .milliseconds(200)
        }
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            harness.simulator.updateFaults { $0.ignoreClientPings = true }
            #expect(
                await eventually { await harness.exposition().value("binance_futures_websocket_connected", ["account": "single"]) == 0 })
            harness.simulator.updateFaults { $0.ignoreClientPings = false }
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": "missed_pong"]) == 1)
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
        }
    }

    @Test func delayedResponsesStillSucceedAndShowInPollDuration() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge(), requestTimeout: .seconds(2))
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            harness.simulator.updateFaults { $0.responseDelayMilliseconds = 300 }
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect((e.value("binance_futures_poll_duration_seconds", ["account": "single"]) ?? 0) >= 0.6, "two requests, 300 ms each")
        }
    }

    @Test func theRealLoopStaggersAccountsAndRecoversFromSilence() async throws {
        var accounts: [(name: String, account: SimulatedAccount, credentials: APICredentials)] = []
        for index in 0..<5 {
            let (account, credentials) = try TestAccounts.hmac("LOOP\(index)", positions: [])
            accounts.append(("l\(index)", account, credentials))
        }
        let harness = try await ExporterHarness(
            accounts: accounts, policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05), interval: 1, requestTimeout: .milliseconds(400),
            scheduled: true)
        try await withCleanup({ await harness.stop() }) {
            try await Task.sleep(for: .milliseconds(2500))
            // Account i starts i/5 of the interval late: first polls are spread over most of the
            // interval (0.8 s planned; unstaggered they would all land within a few ms).
            let firsts = (0..<5).compactMap { harness.simulator.stats.accountRequestTimes["LOOP\($0)"]?.first }.sorted()
            #expect(firsts.count == 5)
            #expect((firsts.last ?? 0) - (firsts.first ?? 0) >= 500, "spread \(firsts.map { $0 - (firsts.first ?? 0) }) ms")
            // Five seconds of silence: every account goes down; then recovery within two intervals.
            harness.simulator.updateFaults { $0.silent = true }
            try await Task.sleep(for: .seconds(5))
            var e = await harness.exposition()
            #expect((0..<5).allSatisfy { e.value("binance_futures_up", ["account": "l\($0)"]) == 0 })
            #expect(
                (0..<5).allSatisfy { (e.value("binance_futures_poll_errors_total", ["account": "l\($0)", "code": "timeout"]) ?? 0) >= 1 })
            // Recovery within two (effective, possibly stretched) intervals once the fault clears.
            let interval = e.value("binance_futures_poll_interval_seconds", ["account": "l0"]) ?? 1
            harness.simulator.updateFaults { $0.silent = false }
            try await Task.sleep(for: .seconds(2 * interval + 0.3))
            e = await harness.exposition()
            #expect(
                (0..<5).allSatisfy { e.value("binance_futures_up", ["account": "l\($0)"]) == 1 },
                "\(e.series("binance_futures_up").map { "\($0)=\(e.samples[$0]!)" })")
            #expect(harness.simulator.stats.answered429 == 0)
        }
    }

    @Test(arguments: [Int64(5), 10])
    func consumedWeightMatchesWhatTheExchangeCharged(v1Weight: Int64) async throws {
        var configuration = SimulatorConfiguration()
        configuration.v1Weight = v1Weight
        let (account, credentials) = try TestAccounts.hmac(
            "WEIGHTKEY", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
        // Measurements are (rightly) not taken within 2 s of a minute boundary.
        try await avoidMinuteBoundary()
        let harness = try await ExporterHarness(accounts: [("w", account, credentials)], simulatorConfiguration: configuration)
        await withCleanup({ await harness.stop() }) {
            for _ in 0..<3 { await harness.poll("w") }
            harness.simulator.updateFaults {
                $0.forcedErrors = [ForcedError(status: 400, code: -1102, message: "Mandatory parameter malformed.")]
            }
            await harness.poll("w")
            let e = await harness.exposition()
            let charged = harness.simulator.stats.clientWeightByMinute.values.reduce(0, +)
            #expect(e.value("binance_futures_request_weight_consumed_total", ["account": "w"]) == Double(charged))
            #expect(e.value("binance_futures_up", ["account": "w"]) == 0)
        }
    }

    @Test func rateLimitIsHonouredForEveryAccount() async throws {
        try await avoidMinuteBoundary()
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 100
        let harness = try await ExporterHarness(
            accounts: try Self.singleAndHedge(), simulatorConfiguration: configuration, policy: WeightPolicy(maxShare: 1, ipHeadroom: 0))
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            harness.simulator.addBackgroundWeight(100 - harness.simulator.ipWeightCount - 5)
            await harness.poll("single")  // status OK (5 left? no: 10) → 429
            let afterLimit = harness.simulator.stats
            await harness.poll("single")
            await harness.poll("hedge")
            let e = await harness.exposition()
            #expect(afterLimit.answered429 == 1)
            #expect(harness.simulator.stats.answered418 == 0, "never sends after a 429")
            #expect(harness.simulator.stats.totalRequests == afterLimit.totalRequests, "no request until retryAfter")
            #expect(e.value("binance_futures_scheduler_deferrals_total", ["reason": "retry_after"]) == 2)
            #expect((e.value("binance_futures_rate_limited_until_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970)
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-1003"]) == 1)
        }
    }

    @Test func bannedHandshakeHonoursRetryAfter() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        try await withCleanup({ await harness.stop() }) {
            // The IP is banned for 5 more minutes: handshakes get HTTP 418 with Retry-After: 300.
            harness.simulator.updateFaults {
                $0.rejectHandshakesWithStatus = 418
                $0.rejectHandshakesRetryAfterSeconds = 300
            }
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_ip_banned") == 1)
            let until = try #require(e.value("binance_futures_rate_limited_until_timestamp_seconds"))
            #expect(abs(until - (Date().timeIntervalSince1970 + 300)) < 10, "ban end taken from Retry-After")
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-1003"]) == 1)
            // Nothing is sent to the banned IP: no handshake for any account.
            let refused = harness.simulator.stats.rejectedHandshakes
            await harness.poll("hedge")
            await harness.poll("single")
            #expect(harness.simulator.stats.rejectedHandshakes == refused)
            #expect((await harness.exposition().value("binance_futures_scheduler_deferrals_total", ["reason": "banned"]) ?? 0) >= 1)
        }
    }

    @Test func heavyBackgroundWeightCausesDeferralsNotBans() async throws {
        try await avoidMinuteBoundary()
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.pollAll()
            harness.simulator.addBackgroundWeight(1920 - harness.simulator.ipWeightCount)
            for _ in 0..<5 { await harness.pollAll() }
            let e = await harness.exposition()
            let stats = harness.simulator.stats
            #expect(stats.answered429 == 0)
            #expect(stats.answered418 == 0)
            #expect((e.value("binance_futures_scheduler_deferrals_total", ["reason": "ip_headroom"]) ?? 0) >= 9)
            // Other programs' use is learned from the next response, so at most one poll (15) can land
            // after their burst before the scheduler sees the ceiling; never a 429.
            #expect(e.value("binance_futures_request_weight_used") ?? 0 <= 1920 + 15)
        }
    }

    @Test func serverShutdownReconnectsWithoutLosingData() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.announceShutdown()
            #expect(await eventually { harness.simulator.stats.handshakes == 2 })
            #expect(await eventually { harness.simulator.openConnections == 1 }, "old connection closed after the new one is up")
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": "server_shutdown"]) == 1)
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_websocket_connected", ["account": "single"]) == 1)
        }
    }

    @Test func serverShutdownDuringAnInFlightPollIsMakeBeforeBreak() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        try await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.updateFaults { $0.responseDelayMilliseconds = 300 }
            let poll = Task { await harness.poll("single") }
            try await Task.sleep(for: .milliseconds(100))
            harness.simulator.announceShutdown()
            await poll.value
            var e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1, "the in-flight poll finished on the old connection")
            #expect(await eventually { harness.simulator.stats.handshakes == 2 })
            #expect(await eventually { harness.simulator.openConnections == 1 })
            harness.simulator.updateFaults { $0.responseDelayMilliseconds = 0 }
            await harness.poll("single")
            e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_websocket_connected", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "transport"]) == nil)
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": "server_shutdown"]) == 1)
        }
    }

    @Test(arguments: ["drop", "close1001", "garbage", "truncated", "binary"])
    func connectionFaultsRecover(fault: String) async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            #expect(await eventually { harness.simulator.openConnections == 1 })
            switch fault {
            case "drop": harness.simulator.dropAllConnections()
            case "close1001": harness.simulator.closeAllConnections(code: .goingAway)
            case "garbage": harness.simulator.broadcast(text: "}{ not json")
            case "truncated": harness.simulator.broadcast(text: #"{"id":"77","status":200,"result":{"total"#)
            default: harness.simulator.broadcastBinary([1, 2, 3])
            }
            let closes = fault == "drop" || fault == "close1001"
            if closes {
                #expect(
                    await eventually { await harness.exposition().value("binance_futures_websocket_connected", ["account": "single"]) == 0 }
                )
            } else {
                #expect(
                    await eventually {
                        await harness.exposition().value("binance_futures_poll_errors_total", ["account": "single", "code": "decode"]) == 1
                    })
            }
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            let reason = fault == "drop" ? "connection_lost" : "close_frame"
            #expect(e.value("binance_futures_websocket_reconnects_total", ["account": "single", "reason": reason]) == (closes ? 1 : nil))
            #expect(harness.simulator.stats.handshakes == (closes ? 2 : 1))
        }
    }

    @Test func errorBurstCountsCodesAndRecovers() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        try await withCleanup({ await harness.stop() }) { () async throws in
            harness.simulator.updateFaults {
                $0.forcedErrors = Array(
                    repeating: ForcedError(
                        status: 503, code: -1001, message: "Internal error; unable to process your request. Please try again."), count: 3)
            }
            for _ in 0..<3 { await harness.poll("single") }
            var e = await harness.exposition()
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "-1001"]) == 3)
            #expect(e.value("binance_futures_up", ["account": "single"]) == 0)
            await harness.poll("single")
            e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.value("binance_futures_polls_total", ["account": "single"]) == 4)
        }
    }

    @Test func retiredV1MethodFallsBackToV2Once() async throws {
        let harness = try await ExporterHarness(accounts: try Self.singleAndHedge())
        await withCleanup({ await harness.stop() }) {
            harness.simulator.updateFaults { $0.unknownMethods = ["account.status"] }
            await harness.poll("single")
            await harness.poll("single")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(e.series("binance_futures_position_leverage").filter { $0.contains("single") }.isEmpty, "v2 has no leverage")
            #expect(
                e.value("binance_futures_position_mark_price", ["account": "single", "symbol": "BTCUSDT", "position_side": "BOTH"]) != nil)
            #expect(harness.simulator.stats.requestsByMethod["account.status"] == 1, "tried once, then v2 only")
            #expect(harness.simulator.stats.requestsByMethod["v2/account.status"] == 2)
        }
    }

    @Test func tenAccountsStayWithinTheirShare() async throws {
        try await avoidMinuteBoundary()
        var accounts: [(name: String, account: SimulatedAccount, credentials: APICredentials)] = []
        for index in 0..<10 {
            let (account, credentials) = try TestAccounts.hmac(
                "KEY\(index)", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
            accounts.append(("a\(index)", account, credentials))
        }
        let harness = try await ExporterHarness(accounts: accounts, policy: WeightPolicy(maxShare: 0.05, ipHeadroom: 0.2))
        await withCleanup({ await harness.stop() }) {
            for _ in 0..<4 { await harness.pollAll() }
            let share = Int64(0.05 * 2400)
            for (_, weight) in harness.simulator.stats.clientWeightByMinute {
                #expect(weight <= share, "exporter spend per minute \(weight) exceeds its share \(share)")
            }
            let e = await harness.exposition()
            #expect((e.value("binance_futures_scheduler_deferrals_total", ["reason": "own_share"]) ?? 0) > 0)
            #expect(harness.simulator.stats.answered429 == 0)
        }
    }
}
