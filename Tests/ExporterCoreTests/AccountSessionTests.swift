import BinanceWebSocketAPI
import Foundation
import TestSupport
import Testing

@testable import ExporterCore

/// Account sessions against an exchange in memory, on a manual clock: cadence, reconcile phases,
/// deferral, backfill and key renewal, stepped through minutes and hours without waiting.
struct SessionRig {
    let clock = ManualClock()
    let exchange: InMemoryExchange
    let hub = InMemoryHub()
    let feed = InMemoryFeed()
    let scheduler: WeightScheduler
    let registry: MetricsRegistry

    init(policy: WeightPolicy = WeightPolicy()) async {
        exchange = InMemoryExchange(clock: clock)
        scheduler = WeightScheduler(policy: policy, clock: clock.wallClock, logger: testLogger("scheduler"))
        let clock = self.clock
        registry = MetricsRegistry(
            build: BuildInfo(version: "test", revision: "test"), coalesce: .milliseconds(1), includeProcessMetrics: false,
            now: { Double(clock.now) / 1000 })
        let registry = self.registry
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
    }

    func session(
        _ name: String, interval: Double = 15, reconcile: Double? = nil, stream: Bool = true, rest: Bool = false,
        stagger: Double = 0
    ) throws -> AccountSession {
        var services = SessionServices(
            scheduler: scheduler, registry: registry, connector: exchange.connector, logger: testLogger("session"))
        services.clock = clock.wallClock
        services.random = { 0 }
        services.hub = stream ? hub : nil
        services.markFeed = feed
        if rest {
            let exchange = self.exchange
            services.rest = { exchange.rest($0) }
        }
        services.timing.reconcileIntervalSeconds = reconcile
        services.timing.staggerFraction = stagger
        let credentials = APICredentials(apiKey: name.uppercased(), signer: try RequestSigner.hmac(secret: "secret-\(name)"))
        return AccountSession(
            account: AccountConfiguration(name: name, credentials: credentials, intervalSeconds: interval, userStream: stream),
            services: services)
    }

    /// Runs the sessions while `body` steps the clock; every session has ended when it returns.
    func run(_ sessions: [AccountSession], _ body: () async throws -> Void) async rethrows {
        for session in sessions { clock.track { session.isIdle } }
        let running = Task {
            await withDiscardingTaskGroup { group in
                for session in sessions { group.addTask { await session.run() } }
            }
        }
        await clock.settle()
        do {
            try await body()
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        running.cancel()
        await running.value
    }

    func value(_ name: String, _ labels: KeyValuePairs<String, String>) async -> Double? {
        await registry.renderNow()
        return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer)).value(name, labels)
    }

    /// Seconds since the clock's start of each call of `method`.
    func seconds(_ method: String, _ apiKey: String? = nil) -> [Int64] {
        exchange.calls(method, apiKey: apiKey).map { ($0 - start) / 1000 }
    }

    var start: Int64 { 1_800_000_000_000 - 1_800_000_000_000 % 60_000 }
}

@Suite struct AccountSessionTests {
    @Test("polls every interval; once the stream and mark feed are live it reconciles at its phase; a failed feed polls at once")
    func cadenceFollowsTheFeeds() async throws {
        let rig = await SessionRig()
        let session = try rig.session("a", interval: 15, reconcile: 300)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(60))
            #expect(rig.seconds("account.status") == [0, 15, 30, 45, 60], "the normal interval while the feed is down")
            #expect(rig.hub.attached == ["a"], "the stream started after the first poll")
            rig.feed.set(healthy: true)
            await rig.clock.advance(by: .seconds(15))
            // The poll at 75 s ran live: the next is the account's phase slot (slot 0: on the 5 minutes).
            await rig.clock.advance(to: rig.start + 299_000)
            #expect(rig.seconds("account.status") == [0, 15, 30, 45, 60, 75])
            #expect(await rig.value("binance_futures_poll_interval_seconds", ["account": "a"]) == 300)
            await rig.clock.advance(to: rig.start + 620_000)
            #expect(rig.seconds("account.status").suffix(2) == [300, 600], "a reconciliation every 5 minutes, on its phase")
            rig.feed.set(healthy: false)
            #expect(await rig.clock.eventually { rig.seconds("account.status").last == 620 }, "the feed failed: a poll at once")
            await rig.clock.advance(by: .seconds(30))
            #expect(rig.seconds("account.status").suffix(3) == [620, 635, 650], "and the normal interval again")
        }
    }

    @Test("a poll the budget cannot take is retried when the next window opens, not an interval later")
    func deferralRetriesAtTheNextWindow() async throws {
        // 1 % of 2400: 24 weight a minute. Connect 7 + a poll 10 fits; a second poll does not.
        let rig = await SessionRig(policy: WeightPolicy(maxShare: 0.01, ipHeadroom: 0.2))
        let session = try rig.session("d", interval: 15, stream: false)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(59))
            #expect(rig.seconds("account.status") == [0])
            #expect((await rig.value("binance_futures_scheduler_deferrals_total", ["reason": "own_share"]) ?? 0) >= 1)
            await rig.clock.advance(by: .seconds(2))
            #expect(rig.seconds("account.status") == [0, 60], "retried as the window opened")
        }
    }

    @Test("a gap in which money moved reads the ledger once; a failed read is retried after the retry delay")
    func gapBackfillWithRetry() async throws {
        let rig = await SessionRig()
        let session = try rig.session("b", rest: true)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.hub.attached == ["b"])
            // A quiet gap: the gap's poll shows no wallet moved, so no ledger read.
            rig.hub.send("b", .disconnected(.connectionLost))
            await rig.clock.advance(by: .seconds(2))
            rig.hub.send("b", .subscribed)
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.seconds("account.status") == [0, 3], "the gap ended with a poll")
            #expect(rig.seconds("income").isEmpty, "nothing moved: no ledger read")
            // A gap with a funding payment in it, and a ledger that fails once.
            rig.hub.send("b", .disconnected(.connectionLost))
            await rig.clock.advance(by: .seconds(1))
            rig.exchange.payFunding("B", amount: -1.5)
            rig.exchange.state.withLockedValue { $0.incomeFailures = [.transport("connection reset")] }
            await rig.clock.advance(by: .seconds(1))
            rig.hub.send("b", .subscribed)
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.seconds("income") == [6])
            await rig.clock.advance(by: .seconds(15))
            #expect(rig.seconds("income") == [6, 21], "retried after 15 s")
            let out = await rig.value(
                "binance_futures_income_total", ["account": "b", "asset": "USDT", "type": "funding_fee", "direction": "out"])
            #expect(out == 1.5)
            #expect(await rig.value("binance_futures_income_backfills_total", ["account": "b", "result": "failed"]) == 1)
            #expect(await rig.value("binance_futures_income_backfills_total", ["account": "b", "result": "success"]) == 1)
            await rig.clock.advance(by: .seconds(60))
            #expect(rig.seconds("income").count == 2, "the gap is filled: no more reads")
        }
    }

    @Test("the listen key is extended every 30 minutes; a ping answered −1125 gets a new key and counts a key_expired gap")
    func keyRenewal() async throws {
        let rig = await SessionRig()
        let session = try rig.session("k", interval: 60)
        await rig.run([session]) {
            await rig.clock.advance(by: .seconds(1))
            #expect(rig.seconds("userDataStream.start") == [0])
            await rig.clock.advance(by: .seconds(30 * 60))
            #expect(rig.seconds("userDataStream.ping") == [1800])
            rig.exchange.expireKey(of: "K")
            await rig.clock.advance(by: .seconds(30 * 60))
            #expect(rig.seconds("userDataStream.ping") == [1800, 3600])
            #expect(await rig.clock.eventually { rig.seconds("userDataStream.start") == [0, 3600] }, "a new key at once")
            #expect(rig.hub.attached == ["k"])
            #expect(
                await rig.value("binance_futures_user_stream_reconnects_total", ["account": "k", "reason": "key_expired"]) == 1)
        }
    }

    @Test("60 accounts that turned live together: in steady state no minute carries more than 1.5× the mean weight")
    func reconcilesSpreadOverTheInterval() async throws {
        let rig = await SessionRig()
        let count = 60
        let sessions = try (0..<count).map {
            try rig.session("acct\($0)", interval: 15, reconcile: 300, stagger: Double($0) / Double(count))
        }
        rig.feed.set(healthy: true)
        await rig.run(sessions) {
            await rig.clock.advance(by: .seconds(40 * 60))
        }
        let perMinute = rig.exchange.state.withLockedValue { $0.weightByMinute }
        let first = rig.start / 60_000
        // Steady state: every account reconciles; two whole reconcile cycles and a ping round.
        let window = (first + 10)..<(first + 40)
        let weights = window.map { perMinute[$0, default: 0] }
        let mean = Double(weights.reduce(0, +)) / Double(weights.count)
        let worst = weights.max() ?? 0
        #expect(Double(worst) <= 1.5 * mean, "per minute: \(weights)")
        #expect(mean / Double(count) <= 2.5, "mean \(mean) per minute for \(count) accounts")
        #expect(mean > 0)
    }
}
