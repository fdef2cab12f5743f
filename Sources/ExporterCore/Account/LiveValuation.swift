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

    /// Revalues every open position at `marks` (symbols without a mark keep their values) and
    /// rebuilds its margin asset's row and the account totals from them. USDⓈ-M: positions in
    /// the default asset (USDT), linear: uPnL = amount × (mark − entry), notional = amount × mark.
    /// COIN-M: every coin, inverse: uPnL = contracts × size × (1/entry − 1/mark), notional =
    /// contracts × size ÷ mark, in the coin (`contractSizes`: USD per contract; a symbol without
    /// one keeps the poll's values). Returns false when nothing could be revalued.
    @discardableResult
    mutating func revalue(
        at marks: (String) -> Double?, brackets: [String: [LeverageBracket]] = [:], venue: FuturesVenue = .usdM,
        contractSizes: [String: Double] = [:]
    ) -> Bool {
        guard revaluable else { return false }
        var deltas: [String: (profit: Double, crossProfit: Double, maint: Double)] = [:]
        for index in status.positions.indices where status.positions[index].positionAmount != 0 {
            let row = status.positions[index]
            let asset = venue.marginAsset(of: row.symbol)
            guard let mark = marks(row.symbol), mark > 0, let entry = row.entryPrice, entry > 0,
                venue.sizesInContracts || asset == venue.defaultMarginAsset
            else { continue }
            let profit: Double
            let notional: Double
            if venue.sizesInContracts {
                guard let size = contractSizes[row.symbol], size > 0 else { continue }
                profit = row.positionAmount * size * (1 / entry - 1 / mark)
                notional = row.positionAmount * size / mark
            } else {
                profit = row.positionAmount * (mark - entry)
                notional = row.positionAmount * mark
            }
            let detail = positionDetails?.firstIndex { $0.symbol == row.symbol && $0.positionSide == row.positionSide }
            let oldNotional = detail.map { abs(positionDetails![$0].notional) } ?? row.notional.map(abs) ?? 0
            // Binance's tiers when known; else the rate Binance applied at the poll; without a
            // notional to derive it from (v1 status, no detail), the poll's value.
            let maint =
                brackets[row.symbol].flatMap { LeverageBracket.maintenanceMargin(notional: notional, tiers: $0) }
                ?? (oldNotional > 0 ? abs(notional) * (row.maintMargin / oldNotional) : row.maintMargin)
            var delta = deltas[asset] ?? (0, 0, 0)
            delta.profit += profit - row.unrealizedProfit
            if !(row.isolated ?? false) { delta.crossProfit += profit - row.unrealizedProfit }
            delta.maint += maint - row.maintMargin
            deltas[asset] = delta
            status.positions[index].unrealizedProfit = profit
            status.positions[index].maintMargin = maint
            // A COIN-M row always gets its notional: it is the position's size in coin.
            if row.notional != nil || venue.sizesInContracts {
                status.positions[index].notional = venue.sizesInContracts ? abs(notional) : notional
            }
            if let isolatedWallet = row.isolatedWallet, row.isolated == true {
                status.positions[index].isolatedMargin = isolatedWallet + profit
            }
            if let detail {
                positionDetails![detail].markPrice = mark
                positionDetails![detail].unrealizedProfit = profit
                positionDetails![detail].notional = venue.sizesInContracts ? abs(notional) : notional
                positionDetails![detail].maintMargin = maint
                if positionDetails![detail].isolatedWallet != 0 {
                    positionDetails![detail].isolatedMargin = positionDetails![detail].isolatedWallet + profit
                }
            }
        }
        guard !deltas.isEmpty else { return false }
        for (asset, delta) in deltas {
            if let index = status.assets.firstIndex(where: { $0.asset == asset }) {
                status.assets[index].unrealizedProfit += delta.profit
                status.assets[index].crossUnrealizedProfit += delta.crossProfit
                status.assets[index].marginBalance += delta.profit
                status.assets[index].maintMargin += delta.maint
            }
            if asset == venue.defaultMarginAsset, var totals = status.totals {
                totals.unrealizedProfit += delta.profit
                totals.crossUnrealizedProfit += delta.crossProfit
                totals.marginBalance += delta.profit
                totals.maintMargin += delta.maint
                status.totals = totals
            }
        }
        return true
    }

    /// The drift fields of these values.
    /// The drift fields of these values: the account totals, or (COIN-M, no totals) the sums of
    /// the coin rows' values, which are compared like for like (each in its coin).
    var driftValues: [String: Double] {
        if let t = status.totals {
            return [
                "unrealized_profit": t.unrealizedProfit, "margin_balance": t.marginBalance, "maint_margin": t.maintMargin,
                "margin_ratio": AccountFamilies.marginRatio(maint: t.maintMargin, marginBalance: t.marginBalance),
            ]
        }
        let profit = status.assets.reduce(0) { $0 + $1.unrealizedProfit }
        let balance = status.assets.reduce(0) { $0 + $1.marginBalance }
        let maint = status.assets.reduce(0) { $0 + $1.maintMargin }
        let ratio = status.assets.map { AccountFamilies.marginRatio(maint: $0.maintMargin, marginBalance: $0.marginBalance) }.max() ?? 0
        return ["unrealized_profit": profit, "margin_balance": balance, "maint_margin": maint, "margin_ratio": ratio]
    }

    /// How far `local` (the state the stream and the mark feed kept, revalued at the marks this
    /// poll reports) is from this poll, field by field: local − Binance.
    func drift(
        of local: AccountData, brackets: [String: [LeverageBracket]] = [:], venue: FuturesVenue = .usdM,
        contractSizes: [String: Double] = [:]
    ) -> [String: Double] {
        var revalued = local
        let marks = Dictionary((positionDetails ?? []).map { ($0.symbol, $0.markPrice) }, uniquingKeysWith: { first, _ in first })
        revalued.revalue(at: { marks[$0] }, brackets: brackets, venue: venue, contractSizes: contractSizes)
        let mine = revalued.driftValues
        return driftValues.reduce(into: [:]) { result, entry in
            let difference = (mine[entry.key] ?? 0) - entry.value
            result[entry.key] = difference.isFinite ? difference : 0
        }
    }
}
