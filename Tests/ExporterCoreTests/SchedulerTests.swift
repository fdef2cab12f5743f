import BinanceWebSocketAPI
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import ExporterCore

/// A clock that only tells the time, moved by hand (the scheduler never sleeps).
final class SteppedClock: Sendable {
    private let value: NIOLockedValueBox<Int64>
    init(_ start: Int64 = 1_770_000_000_000) { value = NIOLockedValueBox(start) }
    func advance(milliseconds: Int64) { value.withLockedValue { $0 += milliseconds } }
    var now: Int64 { value.withLockedValue { $0 } }
    var wall: WallClock { WallClock { self.now } }
}

@Suite struct SchedulerTests {
    func scheduler(_ clock: SteppedClock, share: Double = 0.2, headroom: Double = 0.2) -> WeightScheduler {
        WeightScheduler(policy: WeightPolicy(maxShare: share, ipHeadroom: headroom), clock: clock.wall, logger: testLogger("t"))
    }

    @Test func ownShareCapsSpendPerCalendarMinute() async {
        let clock = SteppedClock(1_770_000_000_000 - 1_770_000_000_000 % 60_000)
        let s = scheduler(clock)
        var admitted: Int64 = 0
        while case .admitted = await s.admit(weight: 15) { admitted += 15 }
        #expect(admitted == 480 - 480 % 15)
        #expect(admitted <= 480)
        let refused = await s.admit(weight: 15)
        #expect(refused == .deferred(.ownShare, until: clock.now + 60_000))
        clock.advance(milliseconds: 60_000)
        #expect(await s.admit(weight: 15) == .admitted, "a new calendar minute resets the share")
        #expect(await s.view.deferralsByReason["own_share"] == 2)
    }

    @Test func ipHeadroomRespectsOtherProgramsOnTheIP() async {
        let clock = SteppedClock()
        let s = scheduler(clock)
        await s.observe(RateLimitStatus(limit: 2400, count: 1900))
        #expect(await s.admit(weight: 15) == .admitted)  // 1915 ≤ 1920
        guard case .deferred(.ipHeadroom, _) = await s.admit(weight: 15) else {
            Issue.record("expected ip_headroom deferral")
            return
        }
        #expect(await s.view.weightUsed == 1915)
        #expect(await s.view.weightLimit == 2400)
    }

    @Test("papi's count may be its own window's or the shared one's: it raises the IP's count, never lowers it, and keeps the limit")
    func aCountWithoutALimitOnlyRaises() async {
        let clock = SteppedClock(1_770_000_000_000 - 1_770_000_000_000 % 60_000 + 1_000)
        let s = scheduler(clock)
        await s.observe(RateLimitStatus(limit: 2400, count: 1500))
        // A separate papi window reports less than fapi's: the fapi count stands.
        await s.observe(RateLimitStatus(limit: 0, count: 300))
        #expect(await s.view.weightUsed == 1500)
        #expect(await s.view.weightLimit == 2400)
        // A shared window reports more (someone else spent on papi): the scheduler believes it.
        await s.observe(RateLimitStatus(limit: 0, count: 1910))
        #expect(await s.view.weightUsed == 1910)
        guard case .deferred(.ipHeadroom, _) = await s.admit(weight: 15) else {
            Issue.record("1910 + 15 is over the 1920 ceiling")
            return
        }
    }

    @Test func learnsTheLimitFromRateLimits() async {
        let clock = SteppedClock()
        let s = scheduler(clock)
        await s.observe(RateLimitStatus(limit: 1200, count: 0))
        #expect(await s.ownBudget == 240)
        #expect(await s.ipCeiling == 960)
    }

    @Test func retryAfterAndBanStopEverything() async {
        let clock = SteppedClock()
        let s = scheduler(clock)
        await s.rateLimited(retryAfter: clock.now + 5_000)
        #expect(await s.admit(weight: 1) == .deferred(.retryAfter, until: clock.now + 5_000))
        clock.advance(milliseconds: 5_001)
        #expect(await s.admit(weight: 1) == .admitted)
        await s.banned(until: clock.now + 120_000)
        #expect(await s.admit(weight: 1) == .deferred(.banned, until: clock.now + 120_000))
        #expect(await s.view.bannedUntil == Double(clock.now + 120_000) / 1000)
        clock.advance(milliseconds: 120_001)
        #expect(await s.admit(weight: 1) == .admitted)
    }

    @Test func rateLimitWithoutRetryAfterWaitsForNextMinute() async {
        let clock = SteppedClock(1_770_000_030_000 - 1_770_000_030_000 % 60_000 + 30_000)
        let s = scheduler(clock)
        await s.rateLimited(retryAfter: nil)
        let next = (clock.now / 60_000 + 1) * 60_000
        #expect(await s.admit(weight: 1) == .deferred(.retryAfter, until: next))
    }

    @Test func stretchesIntervalsWhenAccountsCannotFit() async {
        let s = scheduler(SteppedClock())
        // 10 accounts × 15 weight × 4 polls/min = 600 > 0.9 × 480.
        var factor = 1.0
        for index in 0..<10 { factor = await s.register(account: "a\(index)", weightPerMinute: 60) }
        #expect(abs(factor - 600 / 432) < 1e-9)
        for index in 0..<5 { await s.unregister(account: "a\(index)") }
        #expect(await s.stretchFactor == 1)
    }

    @Test func windowsFollowExchangeTime() async {
        let clock = SteppedClock(1_770_000_000_000 - 1_770_000_000_000 % 60_000 + 59_000)
        let s = scheduler(clock, share: 0.01)  // 24 per minute
        #expect(await s.admit(weight: 20) == .admitted)
        #expect(await s.admit(weight: 20) != .admitted)
        await s.setClockOffset(milliseconds: 2_000)  // exchange is already in the next minute
        #expect(await s.admit(weight: 20) == .admitted)
    }

    @Test func backoffGrowsWithJitterAndCaps() {
        var backoff = Backoff()
        let delays = (0..<10).map { _ in backoff.nextDelay(random: { 0.5 }) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60])
        var jittered = Backoff()
        let low = jittered.nextDelay(random: { 0 })
        let high = jittered.nextDelay(random: { 0.999999 })
        #expect(abs(low - 0.8) < 1e-9)
        #expect(high > 2.39 && high <= 2.4)
        backoff.reset()
        #expect(backoff.nextDelay(random: { 0.5 }) == 1)
    }
}
