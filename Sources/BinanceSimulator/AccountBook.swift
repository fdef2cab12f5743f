/// Derives everything Binance reports from wallets, positions and mark prices, so totals always
/// agree with assets and positions in both margin modes and both position modes.
struct AccountBook {
    static let maintenanceRate = 0.005
    static let feeRate = 0.0004

    struct Leg {
        var position: SimulatedPosition
        var mark: Double
        var marginAsset: String
        /// A COIN-M (inverse) contract: amounts are contracts of `contractSize` USD and every
        /// value is in the coin; nil for a USDⓈ-M (linear) leg.
        var contract: CoinMContract? = nil

        /// Signed; in the quote asset (USDⓈ-M) or the coin (COIN-M: contracts × size ÷ mark).
        var notional: Double {
            guard let contract else { return position.amount * mark }
            return mark > 0 ? position.amount * contract.contractSize / mark : 0
        }
        var unrealizedProfit: Double {
            guard let contract else { return position.amount * (mark - position.entryPrice) }
            guard position.entryPrice > 0, mark > 0 else { return 0 }
            return position.amount * contract.contractSize * (1 / position.entryPrice - 1 / mark)
        }
        var positionInitialMargin: Double { abs(notional) / position.leverage }
        var initialMargin: Double { positionInitialMargin + position.openOrderInitialMargin }
        /// USDⓈ-M: a flat rate. COIN-M: the tier of the position's coin quantity (`rate × notional − cum`).
        var maintMargin: Double {
            guard let bracket else { return abs(notional) * AccountBook.maintenanceRate }
            return max(0, abs(notional) * bracket.maintMarginRatio - bracket.cum)
        }
        var bracket: CoinMBracket? { contract?.bracket(forQuantity: abs(notional)) }
        /// What the position cost at entry, in its margin asset.
        var entryValue: Double {
            guard let contract else { return abs(position.amount * position.entryPrice) }
            return position.entryPrice > 0 ? abs(position.amount) * contract.contractSize / position.entryPrice : 0
        }
        var isolatedWallet: Double { position.isolated ? entryValue / position.leverage : 0 }
        var isolatedMargin: Double { position.isolated ? isolatedWallet + unrealizedProfit : 0 }
        var isLong: Bool { position.side == "LONG" || (position.side == "BOTH" && position.amount > 0) }
        /// Where the leg's margin at entry (entry value ÷ leverage) is used up down to maintenance.
        var liquidationPrice: Double {
            guard position.amount != 0 else { return 0 }
            guard let contract, let bracket else {
                let move = 1 / position.leverage - AccountBook.maintenanceRate
                return max(0, isLong ? position.entryPrice * (1 - move) : position.entryPrice * (1 + move))
            }
            // Inverse: wallet + Q·C·(1/E − 1/M) = |Q|·C·rate/M − cum, solved for M.
            guard position.entryPrice > 0 else { return 0 }
            let signed = (isLong ? 1.0 : -1.0) * abs(position.amount) * contract.contractSize
            let margin = entryValue / position.leverage
            let denominator = margin + bracket.cum + signed / position.entryPrice
            let numerator = signed + abs(signed) * bracket.maintMarginRatio
            guard denominator != 0, numerator / denominator > 0 else { return 0 }
            return numerator / denominator
        }
        var breakEvenPrice: Double {
            guard position.amount != 0 else { return 0 }
            return position.entryPrice * (isLong ? 1 + AccountBook.feeRate : 1 - AccountBook.feeRate)
        }
        /// Decimals of `positionAmt` / `pa`: whole contracts on COIN-M.
        var amountPlaces: Int { contract == nil ? 3 : 0 }

        init(position: SimulatedPosition, mark: Double, marginAsset: String, contract: CoinMContract? = nil) {
            self.position = position
            self.mark = mark
            self.marginAsset = marginAsset
            self.contract = contract
        }

        /// The leg of `position` valued at the market's mark price.
        init(position: SimulatedPosition, market: Market) {
            self.init(
                position: position, mark: market.price(position.symbol), marginAsset: market.marginAsset(of: position.symbol),
                contract: market.coinMContract(position.symbol))
        }
    }

    struct AssetRow {
        var asset: String
        var wallet: Double
        var unrealizedProfit: Double = 0
        var crossUnrealizedProfit: Double = 0
        var maintMargin: Double = 0
        var positionInitialMargin: Double = 0
        var openOrderInitialMargin: Double = 0
        var isolatedWallet: Double = 0
        var initialMargin: Double { positionInitialMargin + openOrderInitialMargin }
        var marginBalance: Double { wallet + unrealizedProfit }
        var crossWallet: Double { wallet - isolatedWallet }
        var available: Double { max(0, crossWallet + crossUnrealizedProfit - initialMargin) }
        var maxWithdraw: Double { max(0, min(available, wallet)) }
    }

    let account: SimulatedAccount
    let market: Market
    let legs: [Leg]
    let assets: [AssetRow]

    init(account: SimulatedAccount, market: Market) {
        self.account = account
        self.market = market
        let legs = account.positions.map { Leg(position: $0, market: market) }
        self.legs = legs
        var rows: [String: AssetRow] = [:]
        for (asset, wallet) in account.wallets { rows[asset] = AssetRow(asset: asset, wallet: wallet) }
        for leg in legs {
            var row = rows[leg.marginAsset] ?? AssetRow(asset: leg.marginAsset, wallet: 0)
            row.unrealizedProfit += leg.unrealizedProfit
            if !leg.position.isolated { row.crossUnrealizedProfit += leg.unrealizedProfit }
            row.maintMargin += leg.maintMargin
            row.positionInitialMargin += leg.positionInitialMargin
            row.openOrderInitialMargin += leg.position.openOrderInitialMargin
            row.isolatedWallet += leg.isolatedWallet
            rows[leg.marginAsset] = row
        }
        assets = rows.values.sorted { $0.asset < $1.asset }
    }

    /// Account totals: the USDT row in single-asset mode, USD values over assets in multi-assets mode.
    func totals() -> AssetRow {
        if !account.multiAssetsMargin {
            return assets.first { $0.asset == "USDT" } ?? AssetRow(asset: "USDT", wallet: 0)
        }
        var total = AssetRow(asset: "USD", wallet: 0)
        for row in assets {
            let price = market.usdPrice(of: row.asset)
            total.wallet += row.wallet * price
            total.unrealizedProfit += row.unrealizedProfit * price
            total.crossUnrealizedProfit += row.crossUnrealizedProfit * price
            total.maintMargin += row.maintMargin * price
            total.positionInitialMargin += row.positionInitialMargin * price
            total.openOrderInitialMargin += row.openOrderInitialMargin * price
            total.isolatedWallet += row.isolatedWallet * price
        }
        return total
    }

    /// Every leg the v1 methods list: each listed symbol once (one-way) or twice (hedge), with
    /// zero rows for symbols without a position.
    func allRows() -> [Leg] {
        let sides = account.hedgeMode ? ["LONG", "SHORT"] : ["BOTH"]
        var bySymbol: [String: Leg] = [:]
        for leg in legs { bySymbol[leg.position.symbol + "/" + leg.position.side] = leg }
        var out: [Leg] = []
        let symbols = account.venue == .coinM ? market.coinM.map(\.symbol) : market.symbols
        out.reserveCapacity(symbols.count * sides.count)
        for symbol in symbols {
            for side in sides {
                if let leg = bySymbol[symbol + "/" + side] {
                    out.append(leg)
                } else {
                    out.append(
                        Leg(
                            position: SimulatedPosition(symbol: symbol, side: side, amount: 0, entryPrice: 0, leverage: 20, updateTime: 0),
                            market: market))
                }
            }
        }
        return out
    }

    func openRows() -> [Leg] { legs.filter { $0.position.amount != 0 || $0.position.openOrderInitialMargin != 0 } }

    // MARK: JSON results

    func statusResult(v1: Bool) -> String {
        var out = JSONOut()
        if v1 {
            out.int("feeTier", Int64(account.feeTier))
            out.bool("canTrade", account.canTrade)
            out.bool("canDeposit", account.canDeposit)
            out.bool("canWithdraw", account.canWithdraw)
            out.int("updateTime", 0)
            out.bool("multiAssetsMargin", account.multiAssetsMargin)
            out.int("tradeGroupId", -1)
        }
        let total = totals()
        out.dec("totalInitialMargin", total.initialMargin)
        out.dec("totalMaintMargin", total.maintMargin)
        out.dec("totalWalletBalance", total.wallet)
        out.dec("totalUnrealizedProfit", total.unrealizedProfit)
        out.dec("totalMarginBalance", total.marginBalance)
        out.dec("totalPositionInitialMargin", total.positionInitialMargin)
        out.dec("totalOpenOrderInitialMargin", total.openOrderInitialMargin)
        out.dec("totalCrossWalletBalance", total.crossWallet)
        out.dec("totalCrossUnPnl", total.crossUnrealizedProfit)
        out.dec("availableBalance", total.available)
        out.dec("maxWithdrawAmount", total.maxWithdraw)
        out.raw("assets", JSONOut.array(assets.map { assetJSON($0, includeMarginAvailable: v1 || account.multiAssetsMargin) }))
        let rows = v1 ? allRows() : openRows()
        out.raw("positions", JSONOut.array(rows.map { v1 ? v1StatusRow($0) : v2StatusRow($0) }))
        return out.finished()
    }

    func assetJSON(_ row: AssetRow, includeMarginAvailable: Bool) -> String {
        var out = JSONOut()
        Self.assetMargins(row, into: &out)
        out.dec("crossWalletBalance", row.crossWallet)
        out.dec("crossUnPnl", row.crossUnrealizedProfit)
        out.dec("availableBalance", row.available)
        out.dec("maxWithdrawAmount", row.maxWithdraw)
        if includeMarginAvailable { out.bool("marginAvailable", true) }
        out.int("updateTime", 1_700_000_000_000)
        return out.finished()
    }

    func v1StatusRow(_ leg: Leg) -> String {
        var out = JSONOut()
        Self.statusMargins(leg, into: &out)
        out.dec("entryPrice", leg.position.entryPrice, places: 5)
        if account.multiAssetsMargin { out.dec("breakEvenPrice", leg.breakEvenPrice, places: 5) }
        out.dec("maxNotional", 250_000 / max(1, leg.position.leverage / 20), places: 0)
        out.dec("bidNotional", 0, places: 0)
        out.dec("askNotional", 0, places: 0)
        out.string("positionSide", leg.position.side)
        out.dec("positionAmt", leg.position.amount, places: 3)
        out.int("updateTime", leg.position.updateTime)
        return out.finished()
    }

    func v2StatusRow(_ leg: Leg) -> String {
        var out = JSONOut()
        out.string("symbol", leg.position.symbol)
        out.string("positionSide", leg.position.side)
        out.dec("positionAmt", leg.position.amount, places: 3)
        out.dec("unrealizedProfit", leg.unrealizedProfit)
        out.dec("isolatedMargin", leg.isolatedMargin)
        out.dec("notional", leg.notional)
        out.dec("isolatedWallet", leg.isolatedWallet)
        out.dec("initialMargin", leg.initialMargin)
        out.dec("maintMargin", leg.maintMargin)
        out.int("updateTime", leg.position.updateTime)
        return out.finished()
    }

    func positionRow(_ leg: Leg, v1: Bool) -> String {
        var out = JSONOut()
        out.string("symbol", leg.position.symbol)
        out.string("positionSide", leg.position.side)
        out.dec("positionAmt", leg.position.amount, places: 3)
        out.dec("entryPrice", leg.position.entryPrice, places: 5)
        out.dec("breakEvenPrice", leg.breakEvenPrice, places: 5)
        out.dec("markPrice", leg.mark)
        out.dec("unRealizedProfit", leg.unrealizedProfit)
        out.dec("liquidationPrice", leg.liquidationPrice)
        out.dec("isolatedMargin", leg.isolatedMargin)
        out.dec("notional", leg.notional)
        out.dec("isolatedWallet", leg.isolatedWallet)
        if v1 {
            out.dec("leverage", leg.position.leverage, places: 0)
            out.dec("maxNotionalValue", 250_000, places: 0)
            out.string("marginType", leg.position.isolated ? "isolated" : "cross")
            out.string("isAutoAddMargin", "false")
        } else {
            out.string("marginAsset", leg.marginAsset)
            out.dec("initialMargin", leg.initialMargin)
            out.dec("maintMargin", leg.maintMargin)
            out.dec("positionInitialMargin", leg.positionInitialMargin)
            out.dec("openOrderInitialMargin", leg.position.openOrderInitialMargin)
            out.int("adl", leg.position.amount == 0 ? 0 : 2)
            out.dec("bidNotional", 0, places: 0)
            out.dec("askNotional", 0, places: 0)
        }
        out.int("updateTime", leg.position.updateTime)
        return out.finished()
    }

    func positionsResult(v1: Bool, symbol: String?) -> String {
        var rows = v1 ? allRows() : openRows()
        if let symbol { rows = rows.filter { $0.position.symbol == symbol } }
        return JSONOut.array(rows.map { positionRow($0, v1: v1) })
    }

    func balanceResult() -> String {
        JSONOut.array(
            assets.map { row in
                var out = JSONOut()
                out.string("accountAlias", "SgsR")
                out.string("asset", row.asset)
                out.dec("balance", row.wallet)
                out.dec("crossWalletBalance", row.crossWallet)
                out.dec("crossUnPnl", row.crossUnrealizedProfit)
                out.dec("availableBalance", row.available)
                out.dec("maxWithdrawAmount", row.maxWithdraw)
                out.bool("marginAvailable", true)
                out.int("updateTime", 1_700_000_000_000)
                return out.finished()
            })
    }
}
