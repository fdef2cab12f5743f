import BinanceWebSocketAPI
import Testing

@testable import ExporterCore

/// The connection's life as pure transitions: no sockets, no clocks, milliseconds as numbers.
@Suite struct ConnectionLifecycleTests {
    static let hour: Int64 = 3_600_000

    @Test func firstPollConnectsThenUsesTheConnection() {
        var life = ConnectionLifecycle(maxAgeSeconds: 23 * 3600)
        let step1 = life.pollDue(now: 0)
        #expect(step1 == .connect(reason: nil))
        life.opened(now: 10)
        let step2 = life.pollDue(now: 15_000)
        #expect(step2 == .useConnection)
        #expect(life.isConnected)
    }

    @Test func aConnectionOlderThanTheMaximumAgeIsRotatedUntilTheRotationSucceeds() {
        var life = ConnectionLifecycle(maxAgeSeconds: 23 * 3600)
        life.opened(now: 0)
        let step3 = life.pollDue(now: 23 * Self.hour)
        #expect(step3 == .useConnection)
        let step4 = life.pollDue(now: 23 * Self.hour + 1)
        #expect(step4 == .rotate(reason: .maxAge))
        // The new connection could not be opened: keep the old one, try again next poll.
        life.openFailed(retryAt: 23 * Self.hour + 5_000)
        let step5 = life.pollDue(now: 23 * Self.hour + 2)
        #expect(step5 == .rotate(reason: .maxAge))
        life.opened(now: 23 * Self.hour + 3)
        let step6 = life.pollDue(now: 23 * Self.hour + 4)
        #expect(step6 == .useConnection)
    }

    @Test func serverShutdownAsksForAnImmediateRotationOnlyWhenConnected() {
        var life = ConnectionLifecycle(maxAgeSeconds: 3600)
        let step7 = life.serverShutdown()
        #expect(step7 == false)
        life.opened(now: 0)
        let step8 = life.serverShutdown()
        #expect(step8)
        let step9 = life.pollDue(now: 1)
        #expect(step9 == .rotate(reason: .serverShutdown))
    }

    @Test(arguments: [
        (CloseReason.closeFrame(code: 1001), ReconnectReason.closeFrame),
        (.missedPong, .missedPong),
        (.connectionLost, .connectionLost),
        (.transportError("reset"), .connectionLost),
        (.sendFailed("broken pipe"), .connectionLost),
        (.closedByClient, .clientClose),
    ])
    func aCloseIsCountedByItsReasonAndReconnectsAtOnce(close: CloseReason, expected: ReconnectReason) {
        var life = ConnectionLifecycle(maxAgeSeconds: 3600)
        life.opened(now: 0)
        life.closed(close)
        let step10 = life.pollDue(now: 1)
        #expect(step10 == .connect(reason: expected))
    }

    @Test func aFailedRequestBacksOffAndKeepsAKnownReason() {
        var life = ConnectionLifecycle(maxAgeSeconds: 3600)
        life.opened(now: 0)
        life.requestFailed(retryAt: 2_000)
        let step11 = life.pollDue(now: 1_000)
        #expect(step11 == .skip(.backoff))
        let step12 = life.pollDue(now: 2_000)
        #expect(step12 == .connect(reason: .error))
        // A close seen first keeps its reason through the request failure it caused.
        life.opened(now: 3_000)
        life.closed(.missedPong)
        life.requestFailed(retryAt: 5_000)
        let step13 = life.pollDue(now: 4_000)
        #expect(step13 == .skip(.backoff))
        let step14 = life.pollDue(now: 5_000)
        #expect(step14 == .connect(reason: .missedPong))
    }

    @Test func aRefusedConnectWaitsForTheBackoff() {
        var life = ConnectionLifecycle(maxAgeSeconds: 3600)
        let step15 = life.pollDue(now: 0)
        #expect(step15 == .connect(reason: nil))
        life.openFailed(retryAt: 1_000)
        let step16 = life.pollDue(now: 999)
        #expect(step16 == .skip(.backoff))
        let step17 = life.pollDue(now: 1_000)
        #expect(step17 == .connect(reason: nil))
    }

    @Test func aRejectedKeyStopsEverythingUntilANewLifecycle() {
        var life = ConnectionLifecycle(maxAgeSeconds: 3600)
        life.opened(now: 0)
        life.credentialsRejected()
        #expect(life.isStopped)
        let step18 = life.pollDue(now: 1)
        #expect(step18 == .stop)
        life.opened(now: 2)
        life.closed(.connectionLost)
        life.requestFailed(retryAt: 3)
        let step19 = life.serverShutdown()
        #expect(step19 == false)
        let step20 = life.pollDue(now: 4)
        #expect(step20 == .stop)
    }
}

/// The measured cost of each method, learnt from Binance's counter.
@Suite struct WeightLedgerTests {
    static func limit(_ count: Int64) -> RateLimitStatus { RateLimitStatus(limit: 2400, count: count) }
    // 10 s into a minute: far from both boundaries.
    static let t: Int64 = 1_700_000_010_000 - (1_700_000_010_000 % 60_000) + 10_000

    @Test func assumesDocumentedWeightsUntilMeasured() {
        let ledger = WeightLedger()
        #expect(ledger.weight(of: .accountStatus) == 10)
        #expect(ledger.weight(of: .accountStatusV2) == 5)
        #expect(ledger.weight(of: .sessionStatus) == 2)
    }

    @Test func learnsTheSmallestChangeWithinOneMinute() {
        var ledger = WeightLedger()
        ledger.observe(Self.limit(100), now: Self.t)
        let step21 = ledger.charge(.accountStatus, Self.limit(105), now: Self.t + 1_000, offset: 0)
        #expect(step21 == 5)
        // Another program's weight inflates the next change: the smaller one stands.
        let step22 = ledger.charge(.accountStatus, Self.limit(130), now: Self.t + 2_000, offset: 0)
        #expect(step22 == 5)
    }

    @Test("with 200 accounts polling at once, a first change that mixes in others' requests is no measurement")
    func aChangeMixedWithOtherAccountsIsNoMeasurement() {
        var ledger = WeightLedger()
        ledger.observe(Self.limit(100), now: Self.t)
        // 45 = this userDataStream.start (1) and other accounts' polls in between.
        #expect(ledger.charge(.userDataStreamStart, Self.limit(145), now: Self.t + 1_000, offset: 0) == 1)
        #expect(ledger.measured[.userDataStreamStart] == nil)
        // account.status: Binance documents 5 and 10; 10 is measured, 45 is not.
        #expect(ledger.charge(.accountStatus, Self.limit(190), now: Self.t + 2_000, offset: 0) == 10)
        #expect(ledger.measured[.accountStatus] == nil)
        #expect(ledger.charge(.accountStatus, Self.limit(200), now: Self.t + 3_000, offset: 0) == 10)
        #expect(ledger.measured[.accountStatus] == 10)
    }

    @Test func aMinuteBoundaryBetweenAnswersMeasuresNothing() {
        var ledger = WeightLedger()
        let nearEnd = Self.t + 49_000  // 59 s into the minute
        ledger.observe(Self.limit(2000), now: nearEnd)
        let step23 = ledger.charge(.accountStatus, Self.limit(7), now: nearEnd + 2_000, offset: 0)
        #expect(step23 == 10)
        #expect(ledger.measured.isEmpty)
    }
}
