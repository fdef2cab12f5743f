import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import TestSupport
import Testing

@testable import ExporterCore

/// Portfolio Margin accounts through the same session and scheduler as the other venues, over
/// real HTTP to the simulator's papi: what a trader sees in each band, what a wrong key says,
/// and a budget that holds whether papi shares the IP's window or has its own.
@Suite struct PortfolioMarginSessionTests {
    static let secret = "pm-secret-\(UUID().uuidString)"

    static func pmAccount(_ apiKey: String) throws -> (name: String, account: SimulatedAccount, credentials: APICredentials) {
        (
            apiKey.lowercased(),
            SimulatedAccount(
                apiKey: apiKey, key: .hmac(secret: secret), wallets: ["USDT": 20_000, "BTC": 0.4],
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", amount: 0.3, entryPrice: 62_000, leverage: 10),
                    SimulatedPosition(symbol: "BTCUSD_PERP", amount: -25, entryPrice: 63_000, leverage: 20),
                ], venue: .portfolioMargin),
            APICredentials(apiKey: apiKey, signer: try RequestSigner.hmac(secret: secret))
        )
    }

    @Test("a PM account sliding into the reduce-only band: uniMMR, status, loans and both position kinds, from papi alone")
    func reduceOnlyBand() async throws {
        let harness = try await ExporterHarness(accounts: [try Self.pmAccount("PMKEY1")])
        try await withCleanup({ await harness.stop() }) {
            harness.simulator.setPortfolioMarginBorrowing(apiKey: "PMKEY1", asset: "USDT", borrowed: 2_000, interest: 1.5)
            await harness.poll("pmkey1")
            var e = await harness.exposition()
            #expect(e.value("binance_futures_up", ["account": "pmkey1"]) == 1)
            #expect(e.value("binance_futures_account_status", ["account": "pmkey1", "status": "normal"]) == 1)
            // The market turns against the account: its equity falls until uniMMR is 1.15.
            #expect(harness.simulator.setPortfolioMarginUniMMR(apiKey: "PMKEY1", 1.15))
            let figures = try #require(harness.simulator.portfolioMarginFigures(apiKey: "PMKEY1"))
            await harness.poll("pmkey1")
            e = await harness.exposition()
            let uniMMR = try #require(e.value("binance_futures_account_uni_mmr", ["account": "pmkey1"]))
            #expect(abs(uniMMR - 1.15) < 1e-6)
            #expect(e.value("binance_futures_account_status", ["account": "pmkey1", "status": "reduce_only"]) == 1)
            #expect(e.value("binance_futures_account_status", ["account": "pmkey1", "status": "normal"]) == 0)
            let maint = try #require(e.value("binance_futures_account_maint_margin", ["account": "pmkey1"]))
            #expect(abs(maint - figures.maintMargin) < 1e-6)
            let equity = try #require(e.value("binance_futures_account_equity_usd", ["account": "pmkey1", "kind": "account"]))
            #expect(abs(equity / maint - uniMMR) < 1e-6, "uniMMR is equity over maintenance margin")
            #expect(e.value("binance_futures_asset_cross_margin_borrowed", ["account": "pmkey1", "asset": "USDT"]) == 2_000)
            #expect(e.value("binance_futures_asset_cross_margin_interest", ["account": "pmkey1", "asset": "USDT"]) == 1.5)
            #expect(e.value("binance_futures_position_amount", ["account": "pmkey1", "symbol": "BTCUSDT", "position_side": "BOTH"]) == 0.3)
            #expect(
                e.value("binance_futures_position_contracts", ["account": "pmkey1", "symbol": "BTCUSD_PERP", "position_side": "BOTH"])
                    == -25)
            #expect(e.value("binance_futures_account_info", ["account": "pmkey1", "venue": "portfolio-margin"]) == 1)
            // papi only: no WebSocket handshake, the documented weights.
            let stats = harness.simulator.stats
            #expect(stats.handshakes == 0)
            #expect(stats.restWeightByPath["/papi/v1/account"] == 40, "20 per poll, two polls")
            #expect(stats.restWeightByPath["/papi/v1/balance"] == 40)
            #expect(stats.restWeightByPath["/papi/v1/um/positionRisk"] == 10)
            #expect(stats.restWeightByPath["/papi/v1/cm/positionRisk"] == 2)
        }
    }

    @Test(
        "a USDⓈ-M key configured as portfolio-margin: one line naming the venue and the likely causes, that account stops, the other polls on"
    )
    func wrongVenueIsNamed() async throws {
        let logs = CapturedLogs()
        // The exchange knows this key as a USDⓈ-M account's; its owner configured portfolio-margin.
        let (usdm, usdmCredentials) = try TestAccounts.hmac("USDMKEY", positions: [])
        let harness = try await ExporterHarness(
            accounts: [("usdm", usdm, usdmCredentials), try Self.pmAccount("PMKEY3")],
            services: { _, services in services.logger = logs.logger("session") })
        try await withCleanup({ await harness.stop() }) {
            var services = harness.services
            var papi = RESTConfiguration(
                futuresBase: try HTTPBaseURL(parsing: harness.simulator.pmRestURL),
                spotBase: try HTTPBaseURL(parsing: harness.simulator.restURL))
            papi.venue = .portfolioMargin
            let time = RESTConfiguration(
                futuresBase: try HTTPBaseURL(parsing: harness.simulator.restURL),
                spotBase: try HTTPBaseURL(parsing: harness.simulator.restURL))
            services.connector = AccountConnector.portfolioMargin(papi: papi, time: time)
            var account = AccountConfiguration(name: "misplaced", credentials: usdmCredentials, intervalSeconds: 15, userStream: false)
            account.venue = .portfolioMargin
            await harness.registry.register(account: "misplaced", pollIntervalSeconds: 15, venue: .portfolioMargin)
            let session = AccountSession(account: account, services: services)
            let running = Task { await session.run() }
            defer { running.cancel() }
            await session.pollOnce()
            await harness.poll("pmkey3")
            let e = await harness.exposition()
            #expect(e.value("binance_futures_account_stopped", ["account": "misplaced", "reason": "credentials_rejected"]) == 1)
            #expect(e.value("binance_futures_up", ["account": "pmkey3"]) == 1, "the other PM account is not affected")
            let line = try #require(logs.all.split(separator: "\n").first { $0.contains("rejected this account's API key") })
            #expect(line.contains(#""venue": portfolio-margin"#))
            #expect(line.contains("not a Portfolio Margin account"))
            #expect(line.contains("created before Portfolio Margin was activated"))
            #expect(!line.contains(Self.secret))
        }
    }

    @Test(
        "twelve PM accounts polling every 3 s next to another program on papi: no 429 and no ban, whether papi shares the IP's window or counts its own",
        arguments: [true, false])
    func budgetHoldsInBothModes(shared: Bool) async throws {
        var configuration = SimulatorConfiguration()
        configuration.papiSharesIPWeight = shared
        // Binance's limits: 2400 per IP for fapi/dapi (and papi, if it shares), 6000 for papi on
        // its own. The other program leaves the exporter less than two of its polling rounds.
        let (limit, background): (Int64, Int64) = shared ? (2400, 1900) : (6000, 5400)
        let accounts = try (0..<12).map { try Self.pmAccount("PMBUDGET\($0)") }
        try await avoidMinuteBoundary()  // the background weight must count while the exporter learns it
        let harness = try await ExporterHarness(
            accounts: accounts, simulatorConfiguration: configuration, policy: WeightPolicy(maxShare: 0.9, ipHeadroom: 0.05),
            // First polls a quarter second apart, as the supervisor staggers them: the first answer
            // teaches the scheduler the other program's use before most of the others are sent.
            interval: 3, scheduled: true,
            services: { simulator, _ in
                // Spent before the exporter starts: papi's count is the only way to learn it.
                if shared { simulator.addBackgroundWeight(background) } else { simulator.addBackgroundPapiWeight(background) }
            })
        await withCleanup({ await harness.stop() }) {
            // Until the scheduler has had to hold polls back (a few seconds; more on a loaded machine).
            let held = await eventually(timeout: .seconds(40)) {
                let e = await harness.exposition()
                return ["own_share", "ip_headroom"].contains {
                    (e.value("binance_futures_scheduler_deferrals_total", ["reason": $0]) ?? 0) > 0
                }
            }
            #expect(held, "polls were held back instead")
            let stats = harness.simulator.stats
            #expect(stats.answered429 == 0, "no request was sent into the limit")
            #expect(stats.answered418 == 0)
            let ours = stats.papiWeightByMinute.values.max() ?? 0
            #expect(ours > 0, "the exporter polled")
            #expect(background + ours <= limit, "the window never overran: \(background) + \(ours) of \(limit)")
        }
    }
}
