/// The ws-dapi answers of a COIN-M account, with every field of the official COIN-M SDK's
/// models (`binance-sdk-derivatives-trading-coin-futures`): no account-wide totals (margin is per
/// coin, in `assets[]`), `positionAmt` in contracts, notional, PnL and margins in the coin.
extension AccountBook {
    /// `account.status` (`AccountInformationResponseResult`).
    func coinMStatusResult() -> String {
        var out = JSONOut()
        out.int("feeTier", Int64(account.feeTier))
        out.bool("canTrade", account.canTrade)
        out.bool("canDeposit", account.canDeposit)
        out.bool("canWithdraw", account.canWithdraw)
        out.int("updateTime", 0)
        out.raw("assets", JSONOut.array(assets.map(coinMAssetJSON)))
        out.raw("positions", JSONOut.array(allRows().map(coinMStatusRow)))
        return out.finished()
    }

    func coinMAssetJSON(_ row: AssetRow) -> String {
        var out = JSONOut()
        Self.assetMargins(row, into: &out)
        out.dec("maxWithdrawAmount", row.maxWithdraw)
        out.dec("crossWalletBalance", row.crossWallet)
        out.dec("crossUnPnl", row.crossUnrealizedProfit)
        out.dec("availableBalance", row.available)
        out.int("updateTime", 1_700_000_000_000)
        return out.finished()
    }

    /// The most coins the leg may hold at its leverage, as Binance reports `maxQty`.
    func maxQuantity(_ leg: Leg) -> String {
        DecimalFormat.string(leg.contract?.maxQuantity(atLeverage: leg.position.leverage) ?? 0, places: 0)
    }

    /// One `positions[]` row of `account.status` (`AccountInformationResponseResultPositionsInner`).
    func coinMStatusRow(_ leg: Leg) -> String {
        var out = JSONOut()
        Self.statusMargins(leg, into: &out)
        out.string("positionSide", leg.position.side)
        out.dec("entryPrice", leg.position.entryPrice)
        out.string("maxQty", maxQuantity(leg))
        out.dec("notionalValue", abs(leg.notional))
        out.dec("isolatedWallet", leg.isolatedWallet)
        out.int("updateTime", leg.position.updateTime)
        out.dec("positionAmt", leg.position.amount, places: 0)
        out.dec("breakEvenPrice", leg.breakEvenPrice)
        return out.finished()
    }

    /// `account.position` (`PositionInformationResponseResultInner`): every COIN-M symbol (two rows
    /// each in hedge mode), optionally only one margin asset's or one pair's.
    func coinMPositionsResult(marginAsset: String?, pair: String?) -> String {
        let rows = allRows().filter { leg in
            (marginAsset == nil || leg.marginAsset == marginAsset) && (pair == nil || leg.contract?.pair == pair)
        }
        return JSONOut.array(rows.map(coinMPositionRow))
    }

    func coinMPositionRow(_ leg: Leg) -> String {
        var out = JSONOut()
        Self.coinMPositionHead(leg, into: &out)
        out.string("maxQty", maxQuantity(leg))
        out.string("marginType", leg.position.isolated ? "isolated" : "cross")
        out.dec("isolatedMargin", leg.isolatedMargin)
        out.string("isAutoAddMargin", "false")
        out.string("positionSide", leg.position.side)
        out.dec("notionalValue", abs(leg.notional))
        out.dec("isolatedWallet", leg.isolatedWallet)
        out.int("updateTime", leg.position.updateTime)
        out.dec("breakEvenPrice", leg.breakEvenPrice)
        return out.finished()
    }

    /// `account.balance` (`FuturesAccountBalanceResponseResultInner`): one row per coin.
    func coinMBalanceResult() -> String {
        JSONOut.array(
            assets.map { row in
                var out = JSONOut()
                out.string("accountAlias", account.accountAlias)
                out.string("asset", row.asset)
                out.dec("balance", row.wallet)
                out.dec("withdrawAvailable", row.maxWithdraw)
                out.dec("crossWalletBalance", row.crossWallet)
                out.dec("crossUnPnl", row.crossUnrealizedProfit)
                out.dec("availableBalance", row.available)
                out.int("updateTime", 1_700_000_000_000)
                return out.finished()
            })
    }
}
