import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import TestSupport
import Testing

@testable import ExporterCore

/// Answers that never arrive readable must not stall an account for the request deadline: a
/// frame in place of the only pending answer fails that poll at once, and a silent connection is
/// given up within one effective interval (never under 3 s), not after a fixed 10 s.
@Suite(.serialized) struct LostAnswerTests {
    @Test(arguments: [AnswerCorruption.garbage, .truncated, .binary])
    func twoUnreadableAnswersCostTwoPollsNotTwoDeadlines(corruption: AnswerCorruption) async throws {
        // The production deadline (10 s): before the fix each lost answer waited it out.
        let harness = try await ExporterHarness(accounts: try PollerIntegrationTests.singleAndHedge(), requestTimeout: .seconds(10))
        await withCleanup({ await harness.stop() }) {
            await harness.poll("single")
            harness.simulator.updateFaults { $0.corruptAnswers = [corruption, corruption] }
            let started = ContinuousClock.now
            await harness.poll("single")
            await harness.poll("single")
            // Two 10 s deadlines would be 20 s; at once is milliseconds (5 s leaves room for a loaded CI machine).
            #expect(ContinuousClock.now - started < .seconds(5), "each unreadable answer failed its poll at once")
            var e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 0)
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "decode"]) == 2, "counted once each")
            #expect(e.value("binance_futures_poll_errors_total", ["account": "single", "code": "timeout"]) == nil)
            await harness.poll("single")
            e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "single"]) == 1)
            #expect(harness.simulator.stats.handshakes == 1, "the connection itself was fine and was kept")
        }
    }

    @Test func aSilentExchangeIsGivenUpWithinTheIntervalAndRecoveryStays() async throws {
        let (account, credentials) = try TestAccounts.hmac("SILENTKEY", positions: [])
        let harness = try await ExporterHarness(
            accounts: [("s", account, credentials)], policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05), interval: 2,
            requestTimeout: .seconds(10), scheduled: true)
        try await withCleanup({ await harness.stop() }) {
            #expect(
                await eventually(timeout: .seconds(5)) { await harness.exposition().value("binance_futures_up", ["account": "s"]) == 1 })
            harness.simulator.updateFaults { $0.silent = true }
            let silent = ContinuousClock.now
            #expect(
                await eventually(timeout: .seconds(8)) {
                    await harness.exposition().value("binance_futures_poll_errors_total", ["account": "s", "code": "timeout"]) ?? 0 >= 1
                })
            let givenUp = ContinuousClock.now - silent
            // The next poll is at most 2 s away and the deadline is max(3 s, interval): ≤ 5 s, not 10 s.
            #expect(givenUp < .seconds(5.5), "silence noticed after \(givenUp)")
            harness.simulator.updateFaults { $0.silent = false }
            let cleared = ContinuousClock.now
            #expect(
                await eventually(timeout: .seconds(8)) { await harness.exposition().value("binance_futures_up", ["account": "s"]) == 1 })
            #expect(ContinuousClock.now - cleared < .seconds(2 + 3 + 1), "recovered within one interval plus the reconnect")
            // Once up again, no late timeout from the silent period knocks it down.
            for _ in 0..<25 {
                try await Task.sleep(for: .milliseconds(200))
                #expect(await harness.exposition().value("binance_futures_up", ["account": "s"]) == 1)
            }
        }
    }
}
