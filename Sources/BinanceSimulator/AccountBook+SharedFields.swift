/// Runs of fields that the account answers of several venues share, in the same order: written
/// once, so that fapi, dapi and papi cannot come to disagree on what they have in common.
extension AccountBook {
    /// The head of an `assets[]` row of `account.status` (fapi and dapi): `asset` through
    /// `openOrderInitialMargin`.
    static func assetMargins(_ row: AssetRow, into out: inout JSONOut) {
        out.string("asset", row.asset)
        out.dec("walletBalance", row.wallet)
        out.dec("unrealizedProfit", row.unrealizedProfit)
        out.dec("marginBalance", row.marginBalance)
        out.dec("maintMargin", row.maintMargin)
        out.dec("initialMargin", row.initialMargin)
        out.dec("positionInitialMargin", row.positionInitialMargin)
        out.dec("openOrderInitialMargin", row.openOrderInitialMargin)
    }

    /// The head of a `positions[]` row of `account.status` v1 (fapi and dapi): `symbol` through
    /// `isolated`.
    static func statusMargins(_ leg: Leg, into out: inout JSONOut) {
        out.string("symbol", leg.position.symbol)
        out.dec("initialMargin", leg.initialMargin)
        out.dec("maintMargin", leg.maintMargin)
        out.dec("unrealizedProfit", leg.unrealizedProfit)
        out.dec("positionInitialMargin", leg.positionInitialMargin)
        out.dec("openOrderInitialMargin", leg.position.openOrderInitialMargin)
        out.dec("leverage", leg.position.leverage, places: 0)
        out.bool("isolated", leg.position.isolated)
    }

    /// The head of a COIN-M position row (dapi's `account.position`, papi's `cm/positionRisk`):
    /// `symbol` through `leverage`, the amount in whole contracts.
    static func coinMPositionHead(_ leg: Leg, into out: inout JSONOut) {
        out.string("symbol", leg.position.symbol)
        out.dec("positionAmt", leg.position.amount, places: 0)
        out.dec("entryPrice", leg.position.entryPrice)
        out.dec("markPrice", leg.mark)
        out.dec("unRealizedProfit", leg.unrealizedProfit)
        out.dec("liquidationPrice", leg.liquidationPrice)
        out.dec("leverage", leg.position.leverage, places: 0)
    }
}
