import BinanceSimulator
import Foundation
import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// The REST companion in the exporter: income exact across stream gaps, REST weight and bans
/// shared with the WebSocket API, and the API key audit.
@Suite(.serialized) struct RESTCompanionTests {
    static func income(_ e: Exposition, _ account: String, _ type: String, _ direction: String) -> Double {
        e.value("binance_futures_income_total", ["account": account, "asset": "USDT", "type": type, "direction": direction]) ?? -1
    }

    /// Net income per type from the exchange's own ledger.
    static func ledgerTotals(_ simulator: ExchangeSimulator, _ apiKey: String) -> [String: (in: Double, out: Double)] {
        var totals: [String: (in: Double, out: Double)] = [:]
        for record in simulator.incomeHistory(apiKey: apiKey) {
            let label = ["REALIZED_PNL": "realized_pnl", "COMMISSION": "commission", "FUNDING_FEE": "funding_fee"][record.type]!
            var entry = totals[label] ?? (0, 0)
            if record.amount > 0 { entry.in += record.amount } else { entry.out -= record.amount }
            totals[label] = entry
        }
        return totals
    }

    /// A rig with the ledger, one account holding a BTC long and an ETH short, polled once and
    /// subscribed; stopped (awaited) when `body` returns or throws.
    static func withLongAndShort(
        _ key: String, _ body: (StreamRig, ExchangeSimulator) async throws -> Void
    ) async throws {
        let rig = try await StreamRig(
            accounts: [
                try UserStreamIntegrationTests.account(
                    key,
                    positions: [
                        SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000),
                        SimulatedPosition(symbol: "ETHUSDT", amount: -5, entryPrice: 3_000),
                    ])
            ], withLedger: true)
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected([key.lowercased()]))
            try await body(rig, rig.harness.simulator)
        }
    }

    @Test("fills and funding while the stream is down are counted once, from the ledger; nothing is counted twice")
    func incomeExactAcrossAStreamGap() async throws {
        try await Self.withLongAndShort("IOTA") { rig, simulator in
            // Before the gap: the stream delivers.
            simulator.fill(apiKey: "IOTA", symbol: "BTCUSDT", side: "SELL", quantity: 0.1, price: 61_000)
            simulator.payFunding(apiKey: "IOTA", symbol: "ETHUSDT", rate: 0.0002)
            #expect(await rig.exposition { Self.income($0, "iota", "funding_fee", "in") > 0 } != nil)
            // The gap: the stream loses these, then the connection drops.
            simulator.updateFaults { $0.pauseUserStream = true }
            simulator.fill(apiKey: "IOTA", symbol: "BTCUSDT", side: "SELL", quantity: 0.2, price: 59_000)
            simulator.fill(apiKey: "IOTA", symbol: "ETHUSDT", side: "BUY", quantity: 1, price: 2_900)
            simulator.payFunding(apiKey: "IOTA", symbol: "BTCUSDT", rate: 0.0003)
            simulator.payFunding(apiKey: "IOTA", symbol: "ETHUSDT", rate: -0.0001)
            simulator.updateFaults { $0.pauseUserStream = false }
            simulator.dropUserStreams()
            // After: the stream again, and the ledger for the gap.
            #expect(
                await rig.exposition { $0.value("binance_futures_income_backfills_total", ["account": "iota", "result": "success"]) == 1 }
                    != nil)
            simulator.fill(apiKey: "IOTA", symbol: "ETHUSDT", side: "BUY", quantity: 1, price: 3_050)
            let expected = Self.ledgerTotals(simulator, "IOTA")
            let e = try #require(
                await rig.exposition {
                    abs(Self.income($0, "iota", "commission", "out") - (expected["commission"]?.out ?? 0)) < 1e-9
                }, "every commission counted exactly once")
            for (type, totals) in expected {
                #expect(abs(Self.income(e, "iota", type, "in") - totals.in) < 1e-9, "\(type) in")
                #expect(abs(Self.income(e, "iota", type, "out") - totals.out) < 1e-9, "\(type) out")
            }
            #expect(expected["realized_pnl"].map { $0.in > 0 && $0.out > 0 } == true, "the test has gains and losses")
            #expect(expected["funding_fee"].map { $0.in > 0 && $0.out > 0 } == true, "the test has funding both ways")
            // 30 weight per ledger page, spent through the scheduler and shown per account.
            #expect((rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/income"] ?? 0) == 1, "one ledger read, for the one gap")
        }
    }

    @Test("a crossed funding payment (no symbol on the stream) just before a gap is counted once after the backfill")
    func crossedFundingBeforeAGapCountsOnce() async throws {
        try await Self.withLongAndShort("XI") { rig, simulator in
            // On the stream: a crossed payment as Binance pushes it (balance only), one with a symbol,
            // and a fill with its fee. The backfill window after the gap starts before all of them.
            let crossed = try #require(simulator.payFunding(apiKey: "XI", symbol: "BTCUSDT", rate: 0.0002, namesSymbol: false))
            simulator.payFunding(apiKey: "XI", symbol: "ETHUSDT", rate: 0.0001)
            simulator.fill(apiKey: "XI", symbol: "BTCUSDT", side: "SELL", quantity: 0.1, price: 61_000)
            #expect(await rig.exposition { abs(Self.income($0, "xi", "funding_fee", "out") - abs(crossed)) < 1e-9 } != nil)
            // The gap hides a payment of each kind and another fill.
            simulator.updateFaults { $0.pauseUserStream = true }
            simulator.payFunding(apiKey: "XI", symbol: "BTCUSDT", rate: 0.0003, namesSymbol: false)
            simulator.payFunding(apiKey: "XI", symbol: "ETHUSDT", rate: -0.0002)
            simulator.fill(apiKey: "XI", symbol: "ETHUSDT", side: "BUY", quantity: 1, price: 2_900)
            simulator.updateFaults { $0.pauseUserStream = false }
            simulator.dropUserStreams()
            #expect(
                await rig.exposition { $0.value("binance_futures_income_backfills_total", ["account": "xi", "result": "success"]) == 1 }
                    != nil)
            // After the gap, on the stream again.
            simulator.payFunding(apiKey: "XI", symbol: "BTCUSDT", rate: 0.0001, namesSymbol: false)
            simulator.fill(apiKey: "XI", symbol: "BTCUSDT", side: "SELL", quantity: 0.1, price: 60_500)
            let expected = Self.ledgerTotals(simulator, "XI")
            let e = try #require(
                await rig.exposition {
                    abs(Self.income($0, "xi", "funding_fee", "out") - (expected["funding_fee"]?.out ?? 0)) < 1e-9
                        && abs(Self.income($0, "xi", "commission", "out") - (expected["commission"]?.out ?? 0)) < 1e-9
                }, "income_total equals Binance's ledger")
            for (type, totals) in expected {
                #expect(abs(Self.income(e, "xi", type, "in") - totals.in) < 1e-9, "\(type) in")
                #expect(abs(Self.income(e, "xi", type, "out") - totals.out) < 1e-9, "\(type) out")
            }
        }
    }

    @Test("a gap in which no wallet moved costs a poll, not a ledger read (100 accounts share one stream connection)")
    func quietGapNeedsNoLedgerRead() async throws {
        let rig = try await StreamRig(
            accounts: [
                try UserStreamIntegrationTests.account(
                    "RHO", positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)])
            ], withLedger: true)
        try await withCleanup({ await rig.stop() }) {
            await rig.harness.pollAll()
            #expect(await rig.connected(["rho"]))
            let polls = rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0
            rig.harness.simulator.dropUserStreams()
            #expect(
                await rig.exposition {
                    $0.value("binance_futures_user_stream_reconnects_total", ["account": "rho", "reason": "connection_lost"]) == 1
                } != nil)
            #expect(await eventually { (rig.harness.simulator.stats.requestsByMethod["account.status"] ?? 0) > polls }, "the gap's poll")
            try await Task.sleep(for: .milliseconds(300))
            #expect((rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/income"] ?? 0) == 0, "nothing moved: no ledger read")
            // The same gap with a funding payment in it does read the ledger, and counts the payment.
            rig.harness.simulator.updateFaults { $0.pauseUserStream = true }
            let paid = try #require(rig.harness.simulator.payFunding(apiKey: "RHO", symbol: "BTCUSDT", rate: 0.0001))
            rig.harness.simulator.updateFaults { $0.pauseUserStream = false }
            rig.harness.simulator.dropUserStreams()
            let e = try #require(
                await rig.exposition {
                    abs(Self.income($0, "rho", "funding_fee", "out") - abs(paid)) < 1e-9
                }, "the payment the stream missed came from the ledger")
            #expect((rig.harness.simulator.stats.restRequestsByPath["/fapi/v1/income"] ?? 0) == 1)
            #expect(e.value("binance_futures_income_backfills_total", ["account": "rho", "result": "success"]) == 1)
        }
    }

    @Test("the weight a REST answer reports reaches the scheduler; a 429 over REST pauses the WebSocket polls too")
    func restWeightAndRateLimitAreIPWide() async throws {
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 200
        let (account, credentials) = try TestAccounts.hmac("KAPPA", positions: [])
        let harness = try await ExporterHarness(
            accounts: [("kappa", account, credentials)], simulatorConfiguration: configuration,
            policy: WeightPolicy(maxShare: 1, ipHeadroom: 0))
        try await withCleanup({ await harness.stop() }) {
            try await avoidMinuteBoundary()
            let base = try HTTPBaseURL(parsing: harness.simulator.restURL)
            let ledger = IncomeLedger(
                client: BinanceRESTClient(configuration: RESTConfiguration(futuresBase: base, spotBase: base), credentials: credentials),
                scheduler: harness.scheduler)
            harness.simulator.addBackgroundWeight(100)
            guard case .rows = await ledger.fetch(from: 0, to: 1) else {
                Issue.record("the first page fits")
                return
            }
            let view = await harness.exposition()
            #expect(view.value("binance_futures_request_weight_used") == 130, "X-MBX-USED-WEIGHT-1M reached the scheduler")
            // Someone else spends the rest of the minute; the next REST call gets a 429.
            harness.simulator.addBackgroundWeight(60)
            guard case .retryLater = await ledger.fetch(from: 0, to: 1) else {
                Issue.record("a 429 is retried later")
                return
            }
            let polls = harness.simulator.stats.requestsByMethod["account.status"] ?? 0
            await harness.poll("kappa")
            #expect((harness.simulator.stats.requestsByMethod["account.status"] ?? 0) == polls, "the poll waits for Retry-After too")
            #expect(harness.simulator.stats.answered418 == 0, "no request was sent into the rate limit")
            let after = await harness.exposition()
            #expect((after.value("binance_futures_rate_limited_until_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970)
        }
    }

    @Test("the key audit exports permissions; a withdrawal-enabled key shows it; a missing /sapi exports nothing and polling goes on")
    func keyAudit() async throws {
        let (account, credentials) = try TestAccounts.hmac("LAMBDA", positions: [])
        var powerful = account
        powerful.restrictions.flags["enableWithdrawals"] = true
        powerful.restrictions.flags["enableFutures"] = true
        let harness = try await ExporterHarness(accounts: [("lambda", powerful, credentials)])
        try await withCleanup({ await harness.stop() }) {
            let base = try HTTPBaseURL(parsing: harness.simulator.restURL)
            let client = BinanceRESTClient(configuration: RESTConfiguration(futuresBase: base, spotBase: base), credentials: credentials)
            let audit = APIKeyAudit(
                account: "lambda", client: client, scheduler: harness.scheduler, registry: harness.registry, logger: testLogger("audit"))
            await audit.check()
            let e = await harness.exposition()
            let permission = { (name: String) in e.value("binance_futures_api_key_permission", ["account": "lambda", "permission": name]) }
            #expect(permission("withdrawals") == 1)
            #expect(permission("futures") == 1)
            #expect(permission("reading") == 1)
            #expect(permission("internal_transfer") == 0)
            #expect(permission("universal_transfer") == 0)
            #expect(e.value("binance_futures_api_key_ip_restricted", ["account": "lambda"]) == 1)
            #expect(
                APIKeyVerdict.problems(try #require(await harness.registryView("lambda")?.health.keyRestrictions)) == [
                    "can move money out (withdrawals)", "can trade (futures)",
                ])

            var testnet = SimulatorConfiguration()
            testnet.serveSpotAPI = false
            let other = try await ExporterHarness(accounts: [("mu", account, credentials)], simulatorConfiguration: testnet)
            try await withCleanup({ await other.stop() }) {
                let otherBase = try HTTPBaseURL(parsing: other.simulator.restURL)
                let logs = CapturedLogs()
                let quiet = APIKeyAudit(
                    account: "mu",
                    client: BinanceRESTClient(
                        configuration: RESTConfiguration(futuresBase: otherBase, spotBase: otherBase), credentials: credentials),
                    scheduler: other.scheduler, registry: other.registry, logger: logs.logger("audit"))
                await quiet.check()
                await quiet.check()
                await other.pollAll()
                let o = await other.exposition()
                #expect(o.series("binance_futures_api_key_permission").isEmpty)
                #expect(o.series("binance_futures_api_key_ip_restricted").isEmpty)
                #expect(o.value("binance_futures_up", ["account": "mu"]) == 1, "the account polls as usual")
                #expect(logs.all.components(separatedBy: "cannot read this API key's permissions").count == 2, "said once, not every hour")
            }
        }
    }
}
