import BinanceWebSocketAPI
import Foundation

/// Every family the exporter can emit, with its HELP text: the one source for the encoder's
/// output and the README's metrics table.
public struct MetricDefinition: Sendable {
    public let name: String
    public let help: String
    public let type: MetricType
    public let labels: [String]

    func family(_ samples: [Sample]) -> MetricFamily {
        MetricFamily(name: name, help: help, type: type, samples: samples)
    }
}

public enum MetricCatalog {
    static let prefix = "binance_futures_"
    static let cached = " Cached from the last successful poll; dropped when older than 3 poll intervals."
    static let totalsUnit = " Single-asset mode: \(usdM.defaultMarginAsset); multi-assets mode: USD value over all margin assets."

    // The Binance names HELP texts cite, from the venue that states them: HELP is per family,
    // not per venue, and today's families are USDⓈ-M's.
    private static let usdM = FuturesVenue.usdM
    private static let v1Status = BinanceMethod.accountStatus.rawValue
    private static let v1Only = "(v1 \(v1Status) only)"
    private static let v2Position = "(\(BinanceMethod.accountPositionV2.rawValue))"

    static func gauge(_ name: String, _ help: String, _ labels: [String]) -> MetricDefinition {
        MetricDefinition(name: prefix + name, help: help, type: .gauge, labels: labels)
    }

    static func counter(_ name: String, _ help: String, _ labels: [String]) -> MetricDefinition {
        MetricDefinition(name: prefix + name, help: help, type: .counter, labels: labels)
    }

    static let account = ["account"]
    static let asset = ["account", "asset"]
    static let position = ["account", "symbol", "position_side"]

    // MARK: account totals
    static func total(_ name: String, _ what: String) -> MetricDefinition {
        gauge("account_" + name, what + " (\(v1Status) total)." + totalsUnit + cached, account)
    }
    public static let accountWalletBalance = total("wallet_balance", "Wallet balance")
    public static let accountUnrealizedProfit = total("unrealized_profit", "Unrealized profit and loss of all positions")
    public static let accountMarginBalance = total("margin_balance", "Margin balance (wallet balance + unrealized PnL), the account equity")
    public static let accountInitialMargin = total(
        "initial_margin", "Initial margin required at the current mark price (positions + open orders)")
    public static let accountMaintMargin = total("maint_margin", "Maintenance margin required")
    public static let accountPositionInitialMargin = total("position_initial_margin", "Initial margin of positions")
    public static let accountOpenOrderInitialMargin = total("open_order_initial_margin", "Initial margin of open orders")
    public static let accountCrossWalletBalance = total("cross_wallet_balance", "Cross wallet balance")
    public static let accountCrossUnrealizedProfit = total("cross_unrealized_profit", "Unrealized PnL of cross positions")
    public static let accountAvailableBalance = total("available_balance", "Available balance")
    public static let accountMaxWithdrawAmount = total("max_withdraw_amount", "Maximum amount that can be transferred out")
    public static let accountMarginRatio = gauge(
        "account_margin_ratio",
        "Maintenance margin divided by margin balance (derived); the account is liquidated at 1. +Inf when the margin balance is not positive."
            + cached, account)
    public static let accountMultiAssetsMargin = gauge(
        "account_multi_assets_margin", "1 when the account is in multi-assets margin mode \(v1Only)." + cached, account)
    public static let accountCanTrade = gauge("account_can_trade", "1 when trading is allowed \(v1Only)." + cached, account)
    public static let accountCanDeposit = gauge(
        "account_can_deposit", "1 when transfers in are allowed \(v1Only)." + cached, account)
    public static let accountCanWithdraw = gauge(
        "account_can_withdraw", "1 when transfers out are allowed \(v1Only)." + cached, account)
    public static let accountFeeTier = gauge("account_fee_tier", "Commission tier \(v1Only)." + cached, account)

    // MARK: assets
    static func assetGauge(_ name: String, _ what: String) -> MetricDefinition {
        gauge("asset_" + name, what + ", in units of the asset (assets[] of \(v1Status))." + cached, asset)
    }
    public static let assetWalletBalance = assetGauge("wallet_balance", "Wallet balance")
    public static let assetUnrealizedProfit = assetGauge("unrealized_profit", "Unrealized PnL")
    public static let assetMarginBalance = assetGauge("margin_balance", "Margin balance")
    public static let assetMaintMargin = assetGauge("maint_margin", "Maintenance margin")
    public static let assetInitialMargin = assetGauge("initial_margin", "Initial margin at the current mark price")
    public static let assetPositionInitialMargin = assetGauge("position_initial_margin", "Initial margin of positions")
    public static let assetOpenOrderInitialMargin = assetGauge("open_order_initial_margin", "Initial margin of open orders")
    public static let assetCrossWalletBalance = assetGauge("cross_wallet_balance", "Cross wallet balance")
    public static let assetCrossUnrealizedProfit = assetGauge("cross_unrealized_profit", "Unrealized PnL of cross positions")
    public static let assetAvailableBalance = assetGauge("available_balance", "Available balance")
    public static let assetMaxWithdrawAmount = assetGauge("max_withdraw_amount", "Maximum amount that can be transferred out")
    public static let assetMarginAvailable = gauge(
        "asset_margin_available", "1 when the asset can be used as margin in multi-assets mode." + cached, asset)
    public static let assetMarginRatio = gauge(
        "asset_margin_ratio",
        "Maintenance margin ÷ margin balance of one margin coin (COIN-M, whose margin is per coin and has no account total); liquidation at 1."
            + cached, asset)
    public static let assetUpdateTimestamp = gauge(
        "asset_update_timestamp_seconds", "Last update of the asset row at Binance, Unix seconds." + cached, asset)

    // MARK: positions
    static func positionGauge(_ name: String, _ what: String) -> MetricDefinition {
        gauge("position_" + name, what + " Open positions only." + cached, position)
    }
    public static let positionAmount = positionGauge(
        "amount", "Position size in base units; negative for shorts (BOTH side, and SHORT legs as Binance reports them).")
    public static let positionContracts = positionGauge(
        "contracts", "Position size in contracts, negative for shorts (COIN-M: each contract is worth its contractSize in USD).")
    public static let positionEntryPrice = positionGauge("entry_price", "Average entry price.")
    public static let positionBreakEvenPrice = positionGauge("break_even_price", "Break-even price (entry adjusted for fees).")
    public static let positionUnrealizedProfit = positionGauge("unrealized_profit", "Unrealized PnL in the margin asset.")
    public static let positionInitialMargin = positionGauge(
        "initial_margin", "Initial margin (position + open orders) at the current mark price.")
    public static let positionMaintMargin = positionGauge("maint_margin", "Maintenance margin.")
    public static let positionPositionInitialMargin = positionGauge("position_initial_margin", "Initial margin of the position.")
    public static let positionOpenOrderInitialMargin = positionGauge("open_order_initial_margin", "Initial margin of open orders.")
    public static let positionLeverage = positionGauge("leverage", "Initial leverage setting \(v1Only).")
    public static let positionIsolated = positionGauge("isolated", "1 for isolated margin, 0 for cross \(v1Only).")
    public static let positionMaxNotional = positionGauge(
        "max_notional", "Maximum notional at the current leverage \(v1Only).")
    public static let positionUpdateTimestamp = positionGauge(
        "update_timestamp_seconds", "Last update of the position at Binance, Unix seconds.")
    public static let positionMarkPrice = positionGauge("mark_price", "Mark price \(v2Position).")
    public static let positionLiquidationPrice = positionGauge(
        "liquidation_price", "Estimated liquidation price; 0 when none \(v2Position).")
    public static let positionLiquidationPriceTimestamp = positionGauge(
        "liquidation_price_timestamp_seconds",
        "Unix time of the poll the liquidation price comes from: it is Binance's, not recomputed between polls \(v2Position).")
    public static let positionNotional = positionGauge("notional", "Notional value at the mark price, signed \(v2Position).")
    public static let positionIsolatedWallet = positionGauge(
        "isolated_wallet", "Isolated wallet amount; 0 for cross \(v2Position).")
    public static let positionIsolatedMargin = positionGauge("isolated_margin", "Isolated margin; 0 for cross \(v2Position).")
    public static let positionAdlQuantile = positionGauge(
        "adl_quantile", "Auto-deleverage queue indicator, 0 (low) to 4 (high) \(v2Position).")

    // MARK: orders and protection (REST lists at every reconcile, kept current by the stream)
    static let ordersKnown = " Only once the account's open orders were read (a key that may not read them exports none)." + cached
    public static let openOrders = gauge(
        "open_orders",
        "Open orders by Binance order type in lower case (limit, stop_market, …), plain and algo (conditional) orders together."
            + ordersKnown, ["account", "symbol", "type"])
    public static let positionProtectionRatio = gauge(
        "position_protection_ratio",
        "Share 0-1 of the open position that the closing side's reduce-only or close-position conditional orders close when triggered, by kind (stop_loss, take_profit); 0 when nothing protects it."
            + ordersKnown, ["account", "symbol", "position_side", "kind"])
    public static let positionStopPrice = gauge(
        "position_stop_price",
        "Trigger price of the stop loss nearest the mark (the first to fire); absent without a stop loss." + ordersKnown,
        position)

    // MARK: self metrics per account
    public static let up = gauge("up", "1 when the last poll of the account succeeded and its data is fresh, else 0.", account)
    public static let accountInfo = gauge(
        "account_info",
        "Constant 1 for every configured account, naming its venue (\(VenueID.allCases.map(\.rawValue).joined(separator: ", "))).",
        ["account", "venue"])
    public static let lastSuccess = gauge("last_success_timestamp_seconds", "Unix time of the last successful poll.", account)
    public static let pollDuration = gauge("poll_duration_seconds", "Wall time of the last poll, requests and decoding included.", account)
    public static let pollInterval = gauge(
        "poll_interval_seconds", "Effective poll interval; larger than configured when the weight budget cannot fit all accounts.", account)
    public static let polls = counter("polls_total", "Poll attempts.", account)
    public static let pollErrors = counter(
        "poll_errors_total", "Failed polls by Binance error code, or transport, timeout, decode.", ["account", "code"])
    public static let weightConsumed = counter(
        "request_weight_consumed_total", "Request weight this exporter spent for the account, handshakes included.", account)
    public static let websocketConnected = gauge("websocket_connected", "1 while the account's WebSocket connection is open.", account)
    public static let websocketReconnects = counter(
        "websocket_reconnects_total", "WebSocket reconnections by reason.", ["account", "reason"])
    public static let clockOffset = gauge(
        "clock_offset_seconds", "Exchange time minus local time, estimated with \(BinanceMethod.sessionStatus.rawValue).", account)
    public static let accountStopped = gauge(
        "account_stopped",
        "1 when polling of the account stopped because Binance rejected its credentials (key revoked, IP not whitelisted, bad signature); 0 while it polls. SIGHUP restarts stopped accounts.",
        ["account", "reason"])

    // MARK: IP-wide
    public static let weightUsed = gauge(
        "request_weight_used", "IP-wide REQUEST_WEIGHT used in the current minute, from the last rateLimits (all programs on this IP).", [])
    public static let weightLimit = gauge("request_weight_limit", "IP-wide REQUEST_WEIGHT limit per minute, from the last rateLimits.", [])
    public static let deferrals = counter(
        "scheduler_deferrals_total", "Requests the scheduler skipped to protect the IP's weight budget, by reason.", ["reason"])
    public static let rateLimitedUntil = gauge(
        "rate_limited_until_timestamp_seconds",
        "Unix time until which Binance refuses requests from this IP (429 retryAfter or 418 ban); 0 when not limited.", [])
    public static let banned = gauge("ip_banned", "1 while Binance has banned this IP (HTTP-like 418).", [])
    public static let buildInfo = gauge("exporter_build_info", "Build information; constant 1.", ["version", "revision"])
    public static let shardInfo = gauge(
        "shard_info",
        "The share of the configured accounts this replica owns (jump consistent hash of the account name); constant 1.",
        ["shard", "total_shards"])
    public static let shards = gauge(
        "shards", "--total-shards: how many replicas share the configured accounts (fewer reporting: some accounts unwatched).",
        [])
    public static let configReloadSuccess = gauge(
        "config_last_reload_successful", "1 when the last configuration (re)load succeeded.", [])
    public static let configReloadTimestamp = gauge(
        "config_last_reload_success_timestamp_seconds", "Unix time of the last successful configuration load.", [])

    // MARK: user data stream (counters start at 0 when the exporter starts)
    static let sinceStart = " Counts since the exporter started, from the user data stream."
    public static let income = counter(
        "income_total",
        "Money credited (direction=in) or debited (direction=out) by type: realized_pnl, commission, funding_fee; absolute amounts in the asset's units. Net = increase(in) - increase(out)."
            + sinceStart, ["account", "asset", "type", "direction"])
    public static let marginCalls = counter(
        "margin_calls_total", "\(UserDataEventKind.marginCall.rawValue) events: the account is close to liquidation." + sinceStart, account)
    public static let forcedCloses = counter(
        "forced_closes_total",
        "Orders Binance placed itself to close a position, by kind: liquidation, adl (auto-deleverage), settlement (delisting)."
            + sinceStart,
        ["account", "symbol", "position_side", "kind"])
    public static let userStreamConnected = gauge(
        "user_stream_connected", "1 while the account's listen key is subscribed on an open user data stream connection.", account)
    public static let userStreamEvents = counter(
        "user_stream_events_total", "User data stream events received, by event type.", ["account", "event"])
    public static let userStreamLastEvent = gauge(
        "user_stream_last_event_timestamp_seconds", "Exchange time of the last user data stream event; 0 before the first.", account)
    public static let userStreamReconnects = counter(
        "user_stream_reconnects_total",
        "User data stream resubscriptions after a gap, by reason (connection_lost, close_frame, missed_pong, max_age, key_expired, error); every gap triggers a poll.",
        ["account", "reason"])
    public static let userStreamMalformed = counter(
        "user_stream_malformed_events_total", "User data stream frames that could not be read (logged, skipped; the connection is kept).",
        account)

    public static let apiKeyPermission = gauge(
        "api_key_permission",
        "1 when the API key has this permission (\(SpotAPI.binance.apiRestrictions.name), checked hourly): reading, futures, withdrawals, internal_transfer, universal_transfer, spot_and_margin_trading, margin, vanilla_options, portfolio_margin_trading, fix_api_trade, fix_read_only.",
        ["account", "permission"])
    public static let apiKeyIPRestricted = gauge(
        "api_key_ip_restricted", "1 when the API key only works from whitelisted IPs (apiRestrictions ipRestrict).", account)

    public static let markPrice = gauge(
        "mark_price",
        "Mark price from Binance's public \(usdM.marketStream.allMarkPrices) feed, for symbols with an open position (at most ~1 s old).",
        ["symbol"])
    public static let fundingRate = gauge(
        "funding_rate", "Current funding rate from the mark price feed, for symbols with an open position.", ["symbol"])
    public static let nextFundingTimestamp = gauge(
        "next_funding_timestamp_seconds", "Unix time of the next funding payment, for symbols with an open position.", ["symbol"])
    public static let markFeedConnected = gauge("mark_feed_connected", "1 while the public mark price feed is connected.", [])
    public static let markFeedLastFrame = gauge(
        "mark_feed_last_frame_timestamp_seconds", "Unix time of the last mark price frame; 0 before the first.", [])
    public static let reconcileDrift = gauge(
        "reconcile_drift",
        "Locally recomputed value minus Binance's at the last poll (reconcile), by field: unrealized_profit, margin_balance, maint_margin (\(usdM.defaultMarginAsset)), margin_ratio. Within rounding while the stream and the mark feed are healthy.",
        ["account", "field"])

    public static let incomeBackfills = counter(
        "income_backfills_total",
        "Income backfills from Binance's ledger (\(usdM.rest.income.name)) after user stream gaps, by result (success, failed).",
        ["account", "result"])

    public static let activityFamilies: [MetricDefinition] = [
        income, marginCalls, forcedCloses, userStreamConnected, userStreamEvents, userStreamLastEvent, userStreamReconnects,
        userStreamMalformed, incomeBackfills, reconcileDrift, markPrice, fundingRate, nextFundingTimestamp, markFeedConnected,
        markFeedLastFrame,
    ]

    /// All account-scoped value families (dropped when stale), in table order.
    public static let valueFamilies: [MetricDefinition] =
        [
            accountWalletBalance, accountUnrealizedProfit, accountMarginBalance, accountInitialMargin, accountMaintMargin,
            accountPositionInitialMargin, accountOpenOrderInitialMargin, accountCrossWalletBalance, accountCrossUnrealizedProfit,
            accountAvailableBalance, accountMaxWithdrawAmount, accountMarginRatio, accountMultiAssetsMargin, accountCanTrade,
            accountCanDeposit, accountCanWithdraw, accountFeeTier, assetWalletBalance, assetUnrealizedProfit, assetMarginBalance,
            assetMaintMargin, assetInitialMargin, assetPositionInitialMargin, assetOpenOrderInitialMargin, assetCrossWalletBalance,
            assetCrossUnrealizedProfit, assetAvailableBalance, assetMaxWithdrawAmount, assetMarginAvailable, assetMarginRatio,
            assetUpdateTimestamp, positionAmount, positionContracts, positionEntryPrice, positionBreakEvenPrice, positionUnrealizedProfit,
            positionInitialMargin,
            positionMaintMargin, positionPositionInitialMargin, positionOpenOrderInitialMargin, positionLeverage, positionIsolated,
            positionMaxNotional, positionUpdateTimestamp, positionMarkPrice, positionLiquidationPrice, positionLiquidationPriceTimestamp,
            positionNotional,
            positionIsolatedWallet, positionIsolatedMargin, positionAdlQuantile, openOrders, positionProtectionRatio, positionStopPrice,
        ] + portfolioMarginFamilies

    public static let selfFamilies: [MetricDefinition] = [
        up, accountInfo, lastSuccess, pollDuration, pollInterval, polls, pollErrors, weightConsumed, websocketConnected,
        websocketReconnects,
        clockOffset, accountStopped, apiKeyPermission, apiKeyIPRestricted, weightUsed, weightLimit, deferrals, rateLimitedUntil, banned,
        buildInfo, shardInfo, shards,
        configReloadSuccess, configReloadTimestamp,
    ]

    /// A Markdown table of every family, for the README.
    public static func markdownTable() -> String {
        var lines = ["| metric | type | labels | help |", "|---|---|---|---|"]
        for definition in valueFamilies + activityFamilies + selfFamilies + ProcessMetrics.definitions {
            let help = definition.help.replacingOccurrences(of: cached, with: "").replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(definition.name)` | \(definition.type.rawValue) | \(definition.labels.joined(separator: ", ")) | \(help) |")
        }
        return lines.joined(separator: "\n")
    }
}
