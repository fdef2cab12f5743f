import Testing

@testable import ExporterCore

/// The session's state machines with plain numbers: no clock, no sockets.
@Suite struct PollCadenceTests {
    let t0: Int64 = 1_800_000_000_000

    @Test("normal: the first poll at the stagger, then every effective (stretched) interval")
    func normal() {
        var cadence = PollCadence(configuredSeconds: 15, reconcileSeconds: 300, firstDue: t0 + 5_000)
        #expect(cadence.nextDue == t0 + 5_000)
        cadence.started(at: t0 + 5_000)
        cadence.finished()
        #expect(cadence.nextDue == t0 + 20_000)
        cadence.stretch = 2
        #expect(cadence.nextDue == t0 + 35_000, "stretched to fit the budget")
        #expect(cadence.intervalSeconds == 30)
        #expect(cadence.demandIntervalSeconds == 15, "demand is computed before stretching")
    }

    @Test("deferred: retry when the scheduler admits, never later than an interval, never in a busy loop")
    func deferred() {
        var cadence = PollCadence(configuredSeconds: 15, reconcileSeconds: nil, firstDue: t0)
        cadence.started(at: t0)
        cadence.deferred(retry: t0 + 42_000, now: t0)
        #expect(cadence.nextDue == t0 + 15_000, "capped at one interval")
        cadence.deferred(retry: t0 + 3_000, now: t0)
        #expect(cadence.nextDue == t0 + 3_000)
        cadence.deferred(retry: t0 - 10, now: t0)
        #expect(cadence.nextDue == t0 + 50, "at least 50 ms")
        cadence.started(at: t0 + 50)
        cadence.finished()
        #expect(cadence.nextDue == t0 + 15_050, "a poll clears the retry")
    }

    @Test("live: after a poll ends live, reconciles fall on the account's phase; steady state one per interval")
    func reconcilePhase() {
        var cadence = PollCadence(configuredSeconds: 15, reconcileSeconds: 300, firstDue: t0)
        cadence.phase = 0.25
        let step1 = cadence.setStream(healthy: true)
        #expect(step1 == .none)
        let step2 = cadence.setFeed(healthy: true)
        #expect(step2 == .none)
        #expect(cadence.live)
        cadence.started(at: t0 + 10_000)
        cadence.finished()
        #expect(cadence.mode == .reconciling)
        // At least half an interval later (t0+160 s), then the phase slot: 75 s into each 300 s.
        #expect(cadence.nextDue == t0 + 375_000)
        cadence.started(at: t0 + 375_000)
        cadence.finished()
        #expect(cadence.nextDue == t0 + 675_000)
        #expect(cadence.intervalSeconds == 300)
    }

    @Test("a feed that fails while reconciling asks for a poll at once and the normal interval; while normal it asks nothing")
    func feedFailure() {
        var cadence = PollCadence(configuredSeconds: 15, reconcileSeconds: 300, firstDue: t0)
        _ = cadence.setStream(healthy: true)
        let step3 = cadence.setFeed(healthy: false)
        #expect(step3 == .none, "not live yet: nothing to do")
        _ = cadence.setFeed(healthy: true)
        cadence.started(at: t0)
        cadence.finished()
        let step4 = cadence.setStream(healthy: false)
        #expect(step4 == .pollNow)
        #expect(cadence.mode == .normal)
        let step5 = cadence.setFeed(healthy: false)
        #expect(step5 == .none, "already normal")
    }

    @Test("stopped: nothing is due, and a late poll end does not restart it")
    func stopped() {
        var cadence = PollCadence(configuredSeconds: 15, reconcileSeconds: nil, firstDue: t0)
        cadence.stop()
        cadence.finished()
        #expect(cadence.nextDue == nil)
    }
}

@Suite struct UserStreamLifecycleTests {
    let t0: Int64 = 1_800_000_000_000

    func started() -> UserStreamLifecycle {
        var stream = UserStreamLifecycle(settings: .init(), startedAt: t0)
        stream.firstPollSent(now: t0)
        let requested = stream.takeKeyRequest(now: t0)
        #expect(requested)
        stream.keyObtained(now: t0)
        _ = stream.subscribedNow()
        return stream
    }

    @Test("no key before the first poll; then one request at a time; a failure retries after the delay")
    func keyRequests() {
        var stream = UserStreamLifecycle(settings: .init(), startedAt: t0)
        #expect(stream.nextDue == nil)
        let step6 = stream.takeKeyRequest(now: t0)
        #expect(!step6)
        stream.firstPollSent(now: t0)
        let step7 = stream.takeKeyRequest(now: t0)
        #expect(step7)
        let step8 = stream.takeKeyRequest(now: t0)
        #expect(!step8, "one in flight")
        stream.keyUnavailable(now: t0)
        #expect(stream.nextDue == t0 + 5_000)
        let step9 = stream.takeKeyRequest(now: t0 + 4_999)
        #expect(!step9)
        let step10 = stream.takeKeyRequest(now: t0 + 5_000)
        #expect(step10)
        stream.keyObtained(now: t0 + 5_000)
        #expect(stream.nextDue == t0 + 5_000 + 30 * 60_000, "the first ping")
    }

    @Test("pings fall on the account's phase slot before the half hour is up")
    func phasedPings() {
        var stream = UserStreamLifecycle(settings: .init(), startedAt: t0)
        stream.pingPhase = .init(offset: 75_000, interval: 300_000)
        stream.firstPollSent(now: t0)
        _ = stream.takeKeyRequest(now: t0)
        stream.keyObtained(now: t0 + 1_000)
        // Half an hour later is t0+1801 s; the last slot before it at least 25 minutes on: 1575 s.
        #expect(stream.nextDue == t0 + 1_575_000)
        let step11 = stream.takePing(now: t0 + 1_575_000)
        #expect(step11)
        #expect(stream.nextDue == t0 + 1_575_000 + 1_500_000)
    }

    @Test("the first subscription is no gap; a drop is a gap that ends with a poll and, after money moved, a ledger read")
    func gapAndBackfill() {
        var stream = started()
        #expect(stream.subscribed)
        let down = stream.disconnected(.connectionLost, now: t0 + 100_000, wallets: ["USDT": 1000])
        #expect(down == [.setStreamHealthy(false), .report(.unsubscribed)])
        #expect(stream.unfilledSince == t0 + 40_000, "a minute of margin before the drop")
        let up = stream.subscribedNow()
        #expect(up == [.setStreamHealthy(true), .report(.subscribed(after: .connectionLost)), .pollNow])
        stream.polled(wallets: ["USDT": 998.5], now: t0 + 103_000)
        let step12 = stream.takeLedgerRead(now: t0 + 103_000)
        #expect(step12 == t0 + 40_000)
        stream.ledgerReadFailed(now: t0 + 103_500)
        #expect(stream.nextDue.map { $0 >= t0 + 118_500 } == true)
        let step13 = stream.takeLedgerRead(now: t0 + 118_500)
        #expect(step13 == t0 + 40_000)
        stream.ledgerRead(now: t0 + 119_000)
        #expect(stream.unfilledSince == nil)
        #expect(stream.backfill == .idle)
    }

    @Test("a quiet gap (no wallet moved) needs no ledger read; a gap during a read is filled from its own start")
    func quietGapAndGapDuringRead() {
        var stream = started()
        _ = stream.disconnected(.closeFrame, now: t0 + 100_000, wallets: ["USDT": 1000])
        _ = stream.subscribedNow()
        stream.polled(wallets: ["USDT": 1000], now: t0 + 101_000)
        #expect(stream.backfill == .idle)
        #expect(stream.unfilledSince == nil)
        _ = stream.disconnected(.closeFrame, now: t0 + 200_000, wallets: ["USDT": 1000])
        _ = stream.subscribedNow()
        stream.polled(wallets: ["USDT": 990], now: t0 + 201_000)
        let step14 = stream.takeLedgerRead(now: t0 + 201_000)
        #expect(step14 != nil)
        _ = stream.disconnected(.closeFrame, now: t0 + 202_000, wallets: ["USDT": 990])
        stream.ledgerRead(now: t0 + 203_000)
        #expect(stream.unfilledSince == t0 + 142_000, "the new gap, from a minute before it")
        let step15 = stream.takeLedgerRead(now: t0 + 203_000)
        #expect(step15 == t0 + 142_000)
    }

    @Test("a lost key detaches, asks for a new one at once, and the resubscription reports key_expired")
    func keyLost() {
        var stream = started()
        let lost = stream.keyLost(.keyExpired, now: t0 + 60_000, wallets: nil)
        #expect(lost == [.setStreamHealthy(false), .detach, .report(.unsubscribed)])
        let step16 = stream.takeKeyRequest(now: t0 + 60_000)
        #expect(step16)
        stream.keyObtained(now: t0 + 60_100)
        let step17 = stream.subscribedNow()
        #expect(step17.contains(.report(.subscribed(after: .keyExpired))))
    }
}
