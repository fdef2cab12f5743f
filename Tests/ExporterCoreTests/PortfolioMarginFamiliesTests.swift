import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// A Portfolio Margin account as its trader reads it: one risk number for everything, equity and
/// margins in USD, Binance's verdict as a state set, loans per asset, UM positions in base units
/// and CM positions in contracts side by side. Samples carry the fields of the official PM SDK's
/// models (decimal strings, `umUnrealizedPNL`, `notionalValue` on CM rows).
@Suite struct PortfolioMarginFamiliesTests {
    static let account = #"""
        {"uniMMR":"1.31250000","accountEquity":"42000.00","actualEquity":"43500.50","accountInitialMargin":"8000.00",
         "accountMaintMargin":"32000.00","accountStatus":"MARGIN_CALL","virtualMaxWithdrawAmount":"1200.00",
         "totalAvailableBalance":"3000.00","totalMarginOpenLoss":"12.50","updateTime":1700000000000}
        """#
    static let balances = #"""
        [{"asset":"USDT","totalWalletBalance":"30000","crossMarginAsset":"1000","crossMarginBorrowed":"5000","crossMarginFree":"900",
          "crossMarginInterest":"1.25","crossMarginLocked":"100","umWalletBalance":"29000","umUnrealizedPNL":"-650.5",
          "cmWalletBalance":"0","cmUnrealizedPNL":"0","updateTime":1700000000000,"negativeBalance":"0"},
         {"asset":"BTC","totalWalletBalance":"0.2","crossMarginAsset":"0","crossMarginBorrowed":"0","crossMarginFree":"0",
          "crossMarginInterest":"0","crossMarginLocked":"0","umWalletBalance":"0","umUnrealizedPNL":"0",
          "cmWalletBalance":"0.2","cmUnrealizedPNL":"0.0012","updateTime":1700000000000,"negativeBalance":"0"}]
        """#
    static let um = #"""
        [{"entryPrice":"62000","leverage":"10","markPrice":"61350.5","maxNotionalValue":"5000000","positionAmt":"1.0",
          "notional":"61350.5","symbol":"BTCUSDT","unRealizedProfit":"-649.5","liquidationPrice":"40000","positionSide":"BOTH",
          "updateTime":1700000000000}]
        """#
    static let cm = #"""
        [{"symbol":"BTCUSD_PERP","positionAmt":"-20","entryPrice":"62500","markPrice":"61350.5","unRealizedProfit":"0.0012",
          "liquidationPrice":"90000","leverage":"20","positionSide":"BOTH","updateTime":1700000000000,"maxQty":"50",
          "notionalValue":"-0.03259961"}]
        """#

    static func data() throws -> AccountData {
        let account = try PortfolioMarginDecoding.account(try FieldReader(try JSONParser.parse(Array(Self.account.utf8)), path: "body"))
        let balances = try FieldReader.elements(of: try JSONParser.parse(Array(Self.balances.utf8))) { (row) throws(DecodeError) in
            try PortfolioMarginDecoding.balance(row)
        }
        var details = try ResultDecoder.positions(try JSONParser.parse(Array(um.utf8)))
        var coin = try ResultDecoder.positions(try JSONParser.parse(Array(cm.utf8)))
        for index in coin.indices { coin[index].inContracts = true }
        details += coin
        let status = AccountStatus(
            version: .v1, flags: nil, totals: nil, assets: [], positions: [],
            portfolioMargin: PortfolioMarginSnapshot(account: account, balances: balances))
        return AccountData(status: status, positionDetails: details, polledAt: 1_700_000_000)
    }

    static func exposition() async throws -> Exposition {
        let registry = MetricsRegistry(
            build: BuildInfo(version: "t", revision: "t"), coalesce: .milliseconds(1), includeProcessMetrics: false, now: { 1_700_000_001 })
        await registry.register(account: "pm", pollIntervalSeconds: 15, venue: .portfolioMargin)
        await registry.apply(account: "pm", .succeeded(try data(), at: 1_700_000_000, duration: 0.1))
        await registry.renderNow()
        return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
    }

    @Test("a PM account in the margin-call band: uniMMR, equity, margins in USD, the status set with one state at 1")
    func accountNumbers() async throws {
        let e = try await Self.exposition()
        let a: KeyValuePairs<String, String> = ["account": "pm"]
        #expect(e.value("binance_futures_account_info", ["account": "pm", "venue": "portfolio-margin"]) == 1)
        #expect(e.value("binance_futures_account_uni_mmr", a) == 1.3125)
        #expect(e.value("binance_futures_account_equity_usd", ["account": "pm", "kind": "account"]) == 42_000)
        #expect(e.value("binance_futures_account_equity_usd", ["account": "pm", "kind": "actual"]) == 43_500.5)
        #expect(e.value("binance_futures_account_maint_margin", a) == 32_000)
        #expect(e.value("binance_futures_account_initial_margin", a) == 8_000)
        #expect(e.value("binance_futures_account_available_balance", a) == 3_000)
        #expect(e.value("binance_futures_account_max_withdraw_amount", a) == 1_200)
        #expect(e.value("binance_futures_account_margin_open_loss_usd", a) == 12.5)
        let states = e.series("binance_futures_account_status")
        #expect(states.count == 7, "every documented state is a series")
        #expect(states.filter { e.samples[$0] == 1 } == [#"binance_futures_account_status{account="pm",status="margin_call"}"#])
        // uniMMR is the risk number: no classic margin ratio that would read 0.76 and page as "near liquidation".
        #expect(e.value("binance_futures_account_margin_ratio", a) == nil)
        #expect(e.value("binance_futures_account_wallet_balance", a) == nil, "papi states no USD wallet total")
    }

    @Test("loans and the UM and CM wallets per asset, in the asset's units")
    func balances() async throws {
        let e = try await Self.exposition()
        let usdt: KeyValuePairs<String, String> = ["account": "pm", "asset": "USDT"]
        #expect(e.value("binance_futures_asset_wallet_balance", usdt) == 30_000)
        #expect(e.value("binance_futures_asset_cross_margin_borrowed", usdt) == 5_000)
        #expect(e.value("binance_futures_asset_cross_margin_interest", usdt) == 1.25)
        #expect(e.value("binance_futures_asset_cross_margin_free", usdt) == 900)
        #expect(e.value("binance_futures_asset_cross_margin_locked", usdt) == 100)
        #expect(e.value("binance_futures_asset_um_wallet_balance", usdt) == 29_000)
        #expect(e.value("binance_futures_asset_um_unrealized_profit", usdt) == -650.5)
        #expect(e.value("binance_futures_asset_negative_balance", usdt) == 0)
        let btc: KeyValuePairs<String, String> = ["account": "pm", "asset": "BTC"]
        #expect(e.value("binance_futures_asset_cm_wallet_balance", btc) == 0.2)
        #expect(e.value("binance_futures_asset_cm_unrealized_profit", btc) == 0.0012)
    }

    @Test("UM positions in base units next to CM positions in contracts (and their size in coin)")
    func positions() async throws {
        let e = try await Self.exposition()
        let um: KeyValuePairs<String, String> = ["account": "pm", "symbol": "BTCUSDT", "position_side": "BOTH"]
        let cm: KeyValuePairs<String, String> = ["account": "pm", "symbol": "BTCUSD_PERP", "position_side": "BOTH"]
        #expect(e.value("binance_futures_position_amount", um) == 1)
        #expect(e.value("binance_futures_position_contracts", um) == nil)
        #expect(e.value("binance_futures_position_liquidation_price", um) == 40_000)
        #expect(e.value("binance_futures_position_leverage", um) == 10)
        #expect(e.value("binance_futures_position_contracts", cm) == -20)
        #expect(e.value("binance_futures_position_amount", cm) == -0.03259961, "the short's size in BTC")
        #expect(e.value("binance_futures_position_unrealized_profit", cm) == 0.0012)
    }

    @Test("a status this build does not know is exported under its own name, and decoding does not fail")
    func unknownStatus() throws {
        let text = Self.account.replacingOccurrences(of: "MARGIN_CALL", with: "SOMETHING_NEW")
        let account = try PortfolioMarginDecoding.account(try FieldReader(try JSONParser.parse(Array(text.utf8)), path: "body"))
        #expect(account.status == .unknown)
        #expect(account.statusText == "SOMETHING_NEW")
    }

    @Test("a papi answer without uniMMR is a decode error naming the field, not a zero")
    func missingField() {
        let text = Self.account.replacingOccurrences(of: #""uniMMR":"1.31250000","#, with: "")
        #expect(throws: DecodeError.self) {
            _ = try PortfolioMarginDecoding.account(try FieldReader(try JSONParser.parse(Array(text.utf8)), path: "body"))
        }
    }

    @Test("a riskLevelChange pushed while a poll was under way outlives that poll's older account read")
    func riskLevelSurvivesASlowerPoll() async throws {
        let clock = NIOLockedValueBox<Double>(1_700_000_000)
        let registry = MetricsRegistry(
            build: BuildInfo(version: "t", revision: "t"), coalesce: .milliseconds(1), includeProcessMetrics: false,
            now: { clock.withLockedValue { $0 } })
        await registry.register(account: "pm", pollIntervalSeconds: 60, venue: .portfolioMargin)
        await registry.apply(account: "pm", .succeeded(try Self.data(), at: 1_700_000_000, duration: 0.2))
        // A poll starts at +10 s and reads the account (still MARGIN_CALL at 1.3125)…
        clock.withLockedValue { $0 = 1_700_000_011 }
        // …Binance pushes REDUCE_ONLY at +11 s while the poll reads balances and positions…
        let change = RiskLevelChange(
            eventTime: 1_700_000_011_000, uniMMR: 1.15, level: "REDUCE_ONLY", accountEquity: 36_800, actualEquity: 38_000,
            maintMargin: 32_000)
        await registry.apply(account: "pm", stream: .event(.riskLevelChange(change)))
        // …and the poll ends at +12 s with what it read at +10 s.
        clock.withLockedValue { $0 = 1_700_000_012 }
        await registry.apply(account: "pm", .succeeded(try Self.data(), at: 1_700_000_012, duration: 2))
        await registry.renderNow()
        let e = Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
        #expect(e.value("binance_futures_account_uni_mmr", ["account": "pm"]) == 1.15)
        #expect(e.value("binance_futures_account_status", ["account": "pm", "status": "reduce_only"]) == 1)
        #expect(e.value("binance_futures_account_equity_usd", ["account": "pm", "kind": "account"]) == 36_800)
        #expect((e.value("binance_futures_margin_calls_total", ["account": "pm"]) ?? 0) == 0, "reduce-only is not a margin call")
    }
}
