import BinanceWebSocketAPI

/// The mark-price-dependent values the exporter recomputes between polls, and how far the
/// recomputation was from Binance's own numbers at the next poll.
///
/// Recomputed from Binance's public mark price (the venue's all-symbols mark price stream), per
/// open position in the venue's default margin asset (USDT on USDⓈ-M):
/// unrealized PnL = amount × (mark − entry), notional = amount × mark, maintenance margin =
/// |notional| × the rate Binance applied at the last poll (its maintenance margin ÷ notional,
/// so the bracket's cumulative term is held at the polled size), isolated margin = isolated
/// wallet + uPnL; per asset and for the account: uPnL, margin balance (wallet + uPnL),
/// maintenance margin and margin ratio. Single-asset accounts only: multi-assets totals are USD
/// values Binance computes with haircuts, so they stay the poll's. Binance's own, from the last
/// poll: liquidation price, initial margin, available balance, max withdraw amount, ADL quantile.
extension AccountData {
    /// Fields compared at each reconcile: the `field` label of `binance_futures_reconcile_drift`.
    public static let driftFields = ["unrealized_profit", "margin_balance", "maint_margin", "margin_ratio"]

    /// Whether this account's values can be recomputed locally.
    var revaluable: Bool { !(status.flags?.multiAssetsMargin ?? false) }

    /// Revalues every open position margined in `venue`'s default asset at `marks` (symbols
    /// without a mark keep their values) and rebuilds that asset's row and the account totals
    /// from them. Returns false when nothing could be revalued.
    @discardableResult
    mutating func revalue(
        at marks: (String) -> Double?, brackets: [String: [LeverageBracket]] = [:], venue: FuturesVenue = .usdM
    ) -> Bool {
        guard revaluable else { return false }
        let asset = venue.defaultMarginAsset
        var changed = false
        var profitDelta = 0.0
        var crossProfitDelta = 0.0
        var maintDelta = 0.0
        for index in status.positions.indices where status.positions[index].positionAmount != 0 {
            let row = status.positions[index]
            guard let mark = marks(row.symbol), let entry = row.entryPrice, venue.marginAsset(of: row.symbol) == asset else {
                continue
            }
            let detail = positionDetails?.firstIndex { $0.symbol == row.symbol && $0.positionSide == row.positionSide }
            let oldNotional = detail.map { abs(positionDetails![$0].notional) } ?? row.notional.map(abs) ?? 0
            let profit = row.positionAmount * (mark - entry)
            let notional = row.positionAmount * mark
            // Binance's tiers when known; else the rate Binance applied at the poll; without a
            // notional to derive it from (v1 status, no detail), the poll's value.
            let maint =
                brackets[row.symbol].flatMap { LeverageBracket.maintenanceMargin(notional: notional, tiers: $0) }
                ?? (oldNotional > 0 ? abs(notional) * (row.maintMargin / oldNotional) : row.maintMargin)
            profitDelta += profit - row.unrealizedProfit
            if !(row.isolated ?? false) { crossProfitDelta += profit - row.unrealizedProfit }
            maintDelta += maint - row.maintMargin
            status.positions[index].unrealizedProfit = profit
            status.positions[index].maintMargin = maint
            if row.notional != nil { status.positions[index].notional = notional }
            if let isolatedWallet = row.isolatedWallet, row.isolated == true {
                status.positions[index].isolatedMargin = isolatedWallet + profit
            }
            if let detail {
                positionDetails![detail].markPrice = mark
                positionDetails![detail].unrealizedProfit = profit
                positionDetails![detail].notional = notional
                positionDetails![detail].maintMargin = maint
                if positionDetails![detail].isolatedWallet != 0 {
                    positionDetails![detail].isolatedMargin = positionDetails![detail].isolatedWallet + profit
                }
            }
            changed = true
        }
        guard changed else { return false }
        if let index = status.assets.firstIndex(where: { $0.asset == asset }) {
            status.assets[index].unrealizedProfit += profitDelta
            status.assets[index].crossUnrealizedProfit += crossProfitDelta
            status.assets[index].marginBalance += profitDelta
            status.assets[index].maintMargin += maintDelta
        }
        status.totals.unrealizedProfit += profitDelta
        status.totals.crossUnrealizedProfit += crossProfitDelta
        status.totals.marginBalance += profitDelta
        status.totals.maintMargin += maintDelta
        return true
    }

    /// The drift fields of these values.
    var driftValues: [String: Double] {
        let t = status.totals
        return [
            "unrealized_profit": t.unrealizedProfit, "margin_balance": t.marginBalance, "maint_margin": t.maintMargin,
            "margin_ratio": AccountFamilies.marginRatio(maint: t.maintMargin, marginBalance: t.marginBalance),
        ]
    }

    /// How far `local` (the state the stream and the mark feed kept, revalued at the marks this
    /// poll reports) is from this poll, field by field: local − Binance.
    func drift(of local: AccountData, brackets: [String: [LeverageBracket]] = [:], venue: FuturesVenue = .usdM) -> [String: Double] {
        var revalued = local
        let marks = Dictionary((positionDetails ?? []).map { ($0.symbol, $0.markPrice) }, uniquingKeysWith: { first, _ in first })
        revalued.revalue(at: { marks[$0] }, brackets: brackets, venue: venue)
        let mine = revalued.driftValues
        return driftValues.reduce(into: [:]) { result, entry in
            let difference = (mine[entry.key] ?? 0) - entry.value
            result[entry.key] = difference.isFinite ? difference : 0
        }
    }
}
