import TestSupport
import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// A COIN-M account as a trader reads it: margin per coin, positions in contracts worth a fixed
/// number of USD, every money value in the coin, and live values between polls from the mark.
@Suite struct CoinMValuationTests {
    /// `account.status` of ws-dapi (fields as the official COIN-M SDK declares them): no totals.
    static let status = #"""
        {"feeTier":0,"canTrade":true,"canDeposit":true,"canWithdraw":true,"updateTime":0,
        "assets":[
         {"asset":"BTC","walletBalance":"0.50000000","unrealizedProfit":"0.00000000","marginBalance":"0.50000000",
          "maintMargin":"0.00026667","initialMargin":"0.00333333","positionInitialMargin":"0.00333333","openOrderInitialMargin":"0",
          "maxWithdrawAmount":"0.49666667","crossWalletBalance":"0.50000000","crossUnPnl":"0","availableBalance":"0.49666667",
          "updateTime":1700000000000},
         {"asset":"ETH","walletBalance":"4","unrealizedProfit":"0","marginBalance":"4","maintMargin":"0","initialMargin":"0",
          "positionInitialMargin":"0","openOrderInitialMargin":"0","maxWithdrawAmount":"4","crossWalletBalance":"4","crossUnPnl":"0",
          "availableBalance":"4","updateTime":1700000000000}],
        "positions":[
         {"symbol":"BTCUSD_PERP","initialMargin":"0.00333333","maintMargin":"0.00026667","unrealizedProfit":"0.00000000",
          "positionInitialMargin":"0.00333333","openOrderInitialMargin":"0","leverage":"20","isolated":false,"positionSide":"BOTH",
          "entryPrice":"60000","maxQty":"100","notionalValue":"0.06666667","isolatedWallet":"0","updateTime":1700000000000,
          "positionAmt":"40","breakEvenPrice":"60000"}]}
        """#

    static func registry() async throws -> MetricsRegistry {
        let registry = MetricsRegistry(
            build: BuildInfo(version: "t", revision: "t"), coalesce: .milliseconds(1), includeProcessMetrics: false, now: { 1_700_000_001 })
        await registry.register(account: "cm", pollIntervalSeconds: 15, venue: .coinM)
        let decoded = try ResultDecoder.accountStatus(try JSONParser.parse(Array(status.utf8)), version: .v1)
        await registry.apply(
            account: "cm",
            .succeeded(AccountData(status: decoded, positionDetails: nil, polledAt: 1_700_000_000), at: 1_700_000_000, duration: 0.1))
        await registry.apply(account: "cm", .contractSizes(["BTCUSD_PERP": 100, "ETHUSD_PERP": 10]))
        return registry
    }

    static func exposition(_ registry: MetricsRegistry) async -> Exposition {
        await registry.renderNow()
        return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
    }

    static let btc: KeyValuePairs<String, String> = ["account": "cm", "symbol": "BTCUSD_PERP", "position_side": "BOTH"]

    @Test("no USDⓈ-M totals are invented: money per coin, the margin ratio per coin, size in contracts and in coin")
    func polledShape() async throws {
        let e = await Self.exposition(try await Self.registry())
        #expect(e.value("binance_futures_account_info", ["account": "cm", "venue": "coin-m"]) == 1)
        #expect(e.value("binance_futures_account_wallet_balance", ["account": "cm"]) == nil)
        #expect(e.value("binance_futures_account_margin_ratio", ["account": "cm"]) == nil)
        #expect(e.value("binance_futures_account_multi_assets_margin", ["account": "cm"]) == nil)
        #expect(e.value("binance_futures_account_can_trade", ["account": "cm"]) == 1)
        #expect(e.value("binance_futures_asset_wallet_balance", ["account": "cm", "asset": "BTC"]) == 0.5)
        let ratio = try #require(e.value("binance_futures_asset_margin_ratio", ["account": "cm", "asset": "BTC"]))
        #expect(abs(ratio - 0.00026667 / 0.5) < 1e-12)
        #expect(e.value("binance_futures_asset_margin_ratio", ["account": "cm", "asset": "ETH"]) == 0)
        #expect(e.value("binance_futures_position_contracts", Self.btc) == 40)
        #expect(e.value("binance_futures_position_amount", Self.btc) == 0.06666667, "40 × 100 USD at 60 000 = 0.0667 BTC")
    }

    @Test("the mark moves from 60 000 to 66 000: PnL, notional and margin are revalued in BTC before the next poll")
    func liveInverseValuation() async throws {
        let registry = try await Self.registry()
        await registry.updateMarks([
            MarkPriceUpdate(symbol: "BTCUSD_PERP", markPrice: 66_000, indexPrice: nil, fundingRate: nil, nextFundingTime: nil, eventTime: 1)
        ])
        let e = await Self.exposition(registry)
        // 40 contracts × 100 USD × (1/60 000 − 1/66 000) = 0.0060606 BTC.
        let profit = 40 * 100 * (1.0 / 60_000 - 1.0 / 66_000)
        #expect(abs((e.value("binance_futures_position_unrealized_profit", Self.btc) ?? 0) - profit) < 1e-12)
        #expect(abs((e.value("binance_futures_asset_unrealized_profit", ["account": "cm", "asset": "BTC"]) ?? 0) - profit) < 1e-12)
        #expect(abs((e.value("binance_futures_asset_margin_balance", ["account": "cm", "asset": "BTC"]) ?? 0) - (0.5 + profit)) < 1e-12)
        #expect(abs((e.value("binance_futures_position_amount", Self.btc) ?? 0) - 4000.0 / 66_000) < 1e-12)
        // The maintenance margin follows the notional at the poll's rate: 0.00026667 × (0.0606 / 0.0667).
        let maint = (4000.0 / 66_000) * (0.00026667 / 0.06666667)
        #expect(abs((e.value("binance_futures_position_maint_margin", Self.btc) ?? 0) - maint) < 1e-9)
        #expect(e.value("binance_futures_asset_unrealized_profit", ["account": "cm", "asset": "ETH"]) == 0, "ETH holds nothing")
        #expect(e.value("binance_futures_account_unrealized_profit", ["account": "cm"]) == nil)
    }

    @Test("without contract sizes nothing is guessed: the poll's values stay")
    func noContractSize() async throws {
        let registry = try await Self.registry()
        await registry.apply(account: "cm", .contractSizes([:]))
        await registry.updateMarks([
            MarkPriceUpdate(symbol: "BTCUSD_PERP", markPrice: 66_000, indexPrice: nil, fundingRate: nil, nextFundingTime: nil, eventTime: 1)
        ])
        let e = await Self.exposition(registry)
        #expect(e.value("binance_futures_position_unrealized_profit", Self.btc) == 0)
    }

    @Test("a COIN-M margin asset is the base of the pair; a pair's mark stream carries its dated contracts")
    func venueFacts() {
        #expect(FuturesVenue.coinM.marginAsset(of: "BTCUSD_PERP") == "BTC")
        #expect(FuturesVenue.coinM.marginAsset(of: "ETHUSD_260925") == "ETH")
        #expect(
            FuturesVenue.coinM.marketStream.streams(for: ["BTCUSD_PERP", "BTCUSD_261225", "ETHUSD_PERP"])
                == ["btcusd@markPrice@1s", "ethusd@markPrice@1s"])
        #expect(FuturesVenue.usdM.marketStream.streams(for: ["BTCUSDT"]) == ["!markPrice@arr@1s"])
        #expect(FuturesVenue.coinM.rest.income.path == "/dapi/v1/income")
        #expect(FuturesVenue.coinM.rest.income.weight == 20)
        #expect(FuturesVenue.coinM.webSocketAPI?.assumedWeight(of: .accountStatus) == 5)
        #expect(FuturesVenue.coinM.webSocketAPI?.methods.contains(.accountStatusV2) == false)
    }
}
