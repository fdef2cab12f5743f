/// Typed decoding of method results from the parsed JSON tree.
public enum ResultDecoder {
    public static func accountStatus(_ result: JSONValue, version: MethodVersion) throws(DecodeError) -> AccountStatus {
        let r = try FieldReader(result, path: "result")
        // COIN-M answers without totals: margin is per coin there.
        let totals: AccountTotals? = r.has("totalWalletBalance") ? try accountTotals(r) : nil
        var flags: AccountFlags?
        if r.has("multiAssetsMargin") || r.has("canTrade") {
            flags = AccountFlags(
                feeTier: try r.optionalInt64("feeTier") ?? 0,
                canTrade: try r.bool("canTrade"),
                canDeposit: try r.bool("canDeposit"),
                canWithdraw: try r.bool("canWithdraw"),
                multiAssetsMargin: try r.optionalBool("multiAssetsMargin")
            )
        }
        let assets = try r.rows("assets", asset)
        let positions = try r.rows("positions", statusPosition)
        return AccountStatus(version: version, flags: flags, totals: totals, assets: assets, positions: positions)
    }

    static func accountTotals(_ r: FieldReader) throws(DecodeError) -> AccountTotals {
        AccountTotals(
            walletBalance: try r.decimal("totalWalletBalance"),
            unrealizedProfit: try r.decimal("totalUnrealizedProfit"),
            marginBalance: try r.decimal("totalMarginBalance"),
            initialMargin: try r.decimal("totalInitialMargin"),
            maintMargin: try r.decimal("totalMaintMargin"),
            positionInitialMargin: try r.decimal("totalPositionInitialMargin"),
            openOrderInitialMargin: try r.decimal("totalOpenOrderInitialMargin"),
            crossWalletBalance: try r.decimal("totalCrossWalletBalance"),
            crossUnrealizedProfit: try r.decimal("totalCrossUnPnl"),
            availableBalance: try r.decimal("availableBalance"),
            maxWithdrawAmount: try r.decimal("maxWithdrawAmount")
        )
    }

    static func asset(_ a: FieldReader) throws(DecodeError) -> AssetBalance {
        AssetBalance(
            asset: try a.string("asset"),
            walletBalance: try a.decimal("walletBalance"),
            unrealizedProfit: try a.decimal("unrealizedProfit"),
            marginBalance: try a.decimal("marginBalance"),
            maintMargin: try a.decimal("maintMargin"),
            initialMargin: try a.decimal("initialMargin"),
            positionInitialMargin: try a.decimal("positionInitialMargin"),
            openOrderInitialMargin: try a.decimal("openOrderInitialMargin"),
            crossWalletBalance: try a.decimal("crossWalletBalance"),
            crossUnrealizedProfit: try a.decimal("crossUnPnl"),
            availableBalance: try a.decimal("availableBalance"),
            maxWithdrawAmount: try a.decimal("maxWithdrawAmount"),
            marginAvailable: try a.optionalBool("marginAvailable"),
            updateTime: try a.optionalInt64("updateTime") ?? 0
        )
    }

    /// Fields are read in the order Binance writes them (v1 first, then v2-only fields), so
    /// each lookup usually hits at the reader's cursor.
    static func statusPosition(_ p: FieldReader) throws(DecodeError) -> StatusPosition {
        let symbol = try p.string("symbol")
        let initialMargin = try p.decimal("initialMargin")
        let maintMargin = try p.decimal("maintMargin")
        let unrealizedProfit = try p.decimal("unrealizedProfit")
        let positionInitialMargin = try p.optionalDecimal("positionInitialMargin")
        let openOrderInitialMargin = try p.optionalDecimal("openOrderInitialMargin")
        let leverage = try p.optionalDecimal("leverage")
        let isolated = try p.optionalBool("isolated")
        let entryPrice = try p.optionalDecimal("entryPrice")
        let breakEvenPrice = try p.optionalDecimal("breakEvenPrice")
        let maxNotional = try p.optionalDecimal("maxNotional")
        let positionSide = try p.string("positionSide")
        let positionAmount = try p.decimal("positionAmt")
        let updateTime = try p.optionalInt64("updateTime") ?? 0
        // COIN-M: `notionalValue`, in the margin coin.
        let notional = try p.has("notional") ? p.optionalDecimal("notional") : p.optionalDecimal("notionalValue")
        let isolatedWallet = try p.optionalDecimal("isolatedWallet")
        let isolatedMargin = try p.optionalDecimal("isolatedMargin")
        return StatusPosition(
            symbol: symbol, positionSide: positionSide, positionAmount: positionAmount, unrealizedProfit: unrealizedProfit,
            initialMargin: initialMargin, maintMargin: maintMargin, positionInitialMargin: positionInitialMargin,
            openOrderInitialMargin: openOrderInitialMargin, leverage: leverage, isolated: isolated, entryPrice: entryPrice,
            breakEvenPrice: breakEvenPrice, maxNotional: maxNotional, notional: notional, isolatedWallet: isolatedWallet,
            isolatedMargin: isolatedMargin, updateTime: updateTime)
    }

    public static func positions(_ result: JSONValue) throws(DecodeError) -> [PositionDetail] {
        guard case .array(let rows) = result else {
            throw DecodeError(path: "result", problem: "expected array, found \(result.typeName)")
        }
        var out: [PositionDetail] = []
        out.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let p = try FieldReader(row, path: "result[\(index)]")
            out.append(
                PositionDetail(
                    symbol: try p.string("symbol"),
                    positionSide: try p.string("positionSide"),
                    positionAmount: try p.decimal("positionAmt"),
                    entryPrice: try p.decimal("entryPrice"),
                    breakEvenPrice: try p.optionalDecimal("breakEvenPrice"),
                    markPrice: try p.decimal("markPrice"),
                    unrealizedProfit: try p.decimal("unRealizedProfit"),
                    liquidationPrice: try p.decimal("liquidationPrice"),
                    isolatedMargin: try p.optionalDecimal("isolatedMargin") ?? 0,
                    notional: try (p.has("notional") ? p.optionalDecimal("notional") : p.optionalDecimal("notionalValue")) ?? 0,
                    isolatedWallet: try p.optionalDecimal("isolatedWallet") ?? 0,
                    marginAsset: try p.optionalString("marginAsset"),
                    initialMargin: try p.optionalDecimal("initialMargin"),
                    maintMargin: try p.optionalDecimal("maintMargin"),
                    positionInitialMargin: try p.optionalDecimal("positionInitialMargin"),
                    openOrderInitialMargin: try p.optionalDecimal("openOrderInitialMargin"),
                    adl: try p.optionalInt64("adl"),
                    leverage: try p.optionalDecimal("leverage"),
                    marginType: try p.optionalString("marginType"),
                    maxNotionalValue: try p.optionalDecimal("maxNotionalValue"),
                    isAutoAddMargin: try p.optionalBool("isAutoAddMargin"),
                    updateTime: try p.optionalInt64("updateTime") ?? 0
                ))
        }
        return out
    }

    public static func balances(_ result: JSONValue) throws(DecodeError) -> [BalanceEntry] {
        guard case .array(let rows) = result else {
            throw DecodeError(path: "result", problem: "expected array, found \(result.typeName)")
        }
        var out: [BalanceEntry] = []
        for (index, row) in rows.enumerated() {
            let b = try FieldReader(row, path: "result[\(index)]")
            out.append(
                BalanceEntry(
                    accountAlias: try b.optionalString("accountAlias"),
                    asset: try b.string("asset"),
                    balance: try b.decimal("balance"),
                    crossWalletBalance: try b.decimal("crossWalletBalance"),
                    crossUnrealizedProfit: try b.decimal("crossUnPnl"),
                    availableBalance: try b.decimal("availableBalance"),
                    // COIN-M: `withdrawAvailable`.
                    maxWithdrawAmount: try
                        (b.has("maxWithdrawAmount") ? b.decimal("maxWithdrawAmount") : b.optionalDecimal("withdrawAvailable"))
                        ?? 0,
                    marginAvailable: try b.optionalBool("marginAvailable"),
                    updateTime: try b.optionalInt64("updateTime") ?? 0
                ))
        }
        return out
    }

    public static func session(_ result: JSONValue) throws(DecodeError) -> SessionStatus {
        let s = try FieldReader(result, path: "result")
        return SessionStatus(
            apiKey: try s.optionalString("apiKey"),
            authorizedSince: try s.optionalInt64("authorizedSince"),
            connectedSince: try s.optionalInt64("connectedSince"),
            returnRateLimits: try s.optionalBool("returnRateLimits"),
            serverTime: try s.int64("serverTime")
        )
    }
}
