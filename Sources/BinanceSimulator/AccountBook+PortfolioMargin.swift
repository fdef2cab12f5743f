/// A Portfolio Margin account valued as Binance's unified margin does: every asset's holdings
/// and debts, the USDⓈ-M legs' PnL in their quote asset and the COIN-M legs' in their coin,
/// summed in USD at the simulator's mark prices, so that `uniMMR`, the equities and the
/// per-asset rows of `GET /papi/v1/balance` always agree with each other and with the positions.
extension AccountBook {
    /// uniMMR when the account has no maintenance margin (no positions). Binance then reports a
    /// huge ratio; the simulator reports this fixed one, so tests can match it exactly.
    static let uniMMRWithoutMaintenance = 999_999.0

    /// One asset of a Portfolio Margin account, in the asset's own units.
    struct PortfolioMarginAssetRow {
        var asset: String
        var holding = SimulatedPortfolioMarginAsset()
        /// The cross-margin free balance (`SimulatedAccount.wallets`).
        var free = 0.0
        var umUnrealizedProfit = 0.0
        var cmUnrealizedProfit = 0.0

        var crossMarginAsset: Double { free + holding.locked }
        /// Binance: cross margin free + locked + UM wallet + CM wallet.
        var totalWallet: Double { crossMarginAsset + holding.umWallet + holding.cmWallet }
        /// What the asset adds to equity: holdings and open PnL, less the loan and its interest.
        var net: Double { totalWallet + umUnrealizedProfit + cmUnrealizedProfit - holding.borrowed - holding.interest }
        /// A wallet below zero (losses beyond the holding), reported as a positive amount.
        var negativeBalance: Double { max(0, -totalWallet) }
    }

    /// The account-wide figures of `GET /papi/v1/account`, in USD.
    struct PortfolioMarginSummary {
        var accountEquity: Double
        var actualEquity: Double
        var initialMargin: Double
        var maintMargin: Double
        var unrealizedProfit: Double
        var status: PortfolioMarginStatus

        /// Equity over maintenance; `uniMMRWithoutMaintenance` without positions (0 when there
        /// is no equity either, so an emptied account still reads as liquidating).
        var uniMMR: Double {
            guard maintMargin > 0 else { return accountEquity > 0 ? AccountBook.uniMMRWithoutMaintenance : 0 }
            return accountEquity / maintMargin
        }
        /// Equity not tied up as initial margin.
        var totalAvailableBalance: Double { max(0, accountEquity - initialMargin) }
        /// What could leave the account: the available balance less open profit (not yet realized).
        var virtualMaxWithdrawAmount: Double { max(0, totalAvailableBalance - max(0, unrealizedProfit)) }
    }

    /// Every asset the account holds, owes or has positions margined in, sorted by name.
    func portfolioMarginAssets() -> [PortfolioMarginAssetRow] {
        var rows: [String: PortfolioMarginAssetRow] = [:]
        for (asset, free) in account.wallets { rows[asset, default: PortfolioMarginAssetRow(asset: asset)].free = free }
        for (asset, holding) in account.portfolioMarginAssets {
            rows[asset, default: PortfolioMarginAssetRow(asset: asset)].holding = holding
        }
        for leg in legs {
            if leg.contract == nil {
                rows[leg.marginAsset, default: PortfolioMarginAssetRow(asset: leg.marginAsset)].umUnrealizedProfit += leg.unrealizedProfit
            } else {
                rows[leg.marginAsset, default: PortfolioMarginAssetRow(asset: leg.marginAsset)].cmUnrealizedProfit += leg.unrealizedProfit
            }
        }
        return rows.values.sorted { $0.asset < $1.asset }
    }

    /// Equity with and without collateral rates (a debt counts in full, only holdings are cut),
    /// margins from the legs' own rates and brackets, all in USD.
    func portfolioMarginSummary() -> PortfolioMarginSummary {
        var accountEquity = 0.0
        var actualEquity = 0.0
        for row in portfolioMarginAssets() {
            let value = row.net * market.usdPrice(of: row.asset)
            actualEquity += value
            accountEquity += value > 0 ? value * market.collateralRate(of: row.asset) : value
        }
        var initial = 0.0
        var maintenance = 0.0
        var unrealized = 0.0
        for leg in legs {
            let price = market.usdPrice(of: leg.marginAsset)
            initial += leg.initialMargin * price
            maintenance += leg.maintMargin * price
            unrealized += leg.unrealizedProfit * price
        }
        var summary = PortfolioMarginSummary(
            accountEquity: accountEquity, actualEquity: actualEquity, initialMargin: initial, maintMargin: maintenance,
            unrealizedProfit: unrealized, status: .normal)
        summary.status = account.forcedPortfolioMarginStatus ?? PortfolioMarginStatus(uniMMR: summary.uniMMR)
        return summary
    }

    /// The balance row of a stream event about `symbol` in its margin `asset`: the wallet and
    /// cross wallet; on a Portfolio Margin account the UM or CM wallet the symbol's results are
    /// booked into (`SimulatedAccount.credit`).
    func balanceChange(asset: String, symbol: String, change: Double) -> UserEventFrames.BalanceChange {
        guard account.venue == .portfolioMargin else {
            let row = assets.first { $0.asset == asset } ?? AssetRow(asset: asset, wallet: 0)
            return UserEventFrames.BalanceChange(asset: asset, wallet: row.wallet, crossWallet: row.crossWallet, change: change)
        }
        let holding = account.portfolioMarginAssets[asset] ?? SimulatedPortfolioMarginAsset()
        let wallet = market.coinMContract(symbol) == nil ? holding.umWallet : holding.cmWallet
        return UserEventFrames.BalanceChange(asset: asset, wallet: wallet, crossWallet: wallet, change: change)
    }

    // MARK: JSON

    /// `GET /papi/v1/account` (`AccountInformationResponse`).
    func portfolioMarginAccountJSON(now: Int64) -> String {
        let summary = portfolioMarginSummary()
        var out = JSONOut()
        out.dec("uniMMR", summary.uniMMR)
        out.dec("accountEquity", summary.accountEquity)
        out.dec("actualEquity", summary.actualEquity)
        out.dec("accountInitialMargin", summary.initialMargin)
        out.dec("accountMaintMargin", summary.maintMargin)
        out.string("accountStatus", summary.status.rawValue)
        out.dec("virtualMaxWithdrawAmount", summary.virtualMaxWithdrawAmount)
        out.dec("totalAvailableBalance", summary.totalAvailableBalance)
        // No margin orders in the simulator: nothing is lost to them.
        out.dec("totalMarginOpenLoss", 0)
        out.int("updateTime", now)
        return out.finished()
    }

    /// `GET /papi/v1/balance`: every asset as a list (`AccountBalanceResponse1Inner`), or with
    /// `asset` one object (`AccountBalanceResponse2`, which has no `crossMarginAsset`); an asset
    /// the account does not hold reads as zeros.
    func portfolioMarginBalanceJSON(asset: String?, now: Int64) -> String {
        let rows = portfolioMarginAssets()
        guard let asset else { return JSONOut.array(rows.map { Self.balanceRow($0, listed: true, now: now) }) }
        return Self.balanceRow(rows.first { $0.asset == asset } ?? PortfolioMarginAssetRow(asset: asset), listed: false, now: now)
    }

    static func balanceRow(_ row: PortfolioMarginAssetRow, listed: Bool, now: Int64) -> String {
        var out = JSONOut()
        out.string("asset", row.asset)
        out.dec("totalWalletBalance", row.totalWallet)
        if listed { out.dec("crossMarginAsset", row.crossMarginAsset) }
        out.dec("crossMarginBorrowed", row.holding.borrowed)
        out.dec("crossMarginFree", row.free)
        out.dec("crossMarginInterest", row.holding.interest)
        out.dec("crossMarginLocked", row.holding.locked)
        out.dec("umWalletBalance", row.holding.umWallet)
        out.dec("umUnrealizedPNL", row.umUnrealizedProfit)
        out.dec("cmWalletBalance", row.holding.cmWallet)
        out.dec("cmUnrealizedPNL", row.cmUnrealizedProfit)
        out.int("updateTime", now)
        out.dec("negativeBalance", row.negativeBalance)
        return out.finished()
    }

    /// The legs of `symbols`, one row each in one-way mode (`BOTH`), two in hedge mode (`LONG`,
    /// `SHORT`), a flat row where the account holds nothing.
    func portfolioMarginRows(_ symbols: [String]) -> [Leg] {
        let sides = account.hedgeMode ? ["LONG", "SHORT"] : ["BOTH"]
        return symbols.flatMap { symbol in
            sides.map { side in
                legs.first { $0.position.symbol == symbol && $0.position.side == side }
                    ?? Leg(
                        position: SimulatedPosition(symbol: symbol, side: side, amount: 0, entryPrice: 0, leverage: 20, updateTime: 0),
                        market: market)
            }
        }
    }

    /// `GET /papi/v1/um/positionRisk` (`QueryUmPositionInformationResponseInner`): the USDⓈ-M
    /// symbols the account holds (both sides of each in hedge mode), or `symbol` alone, held or not.
    func umPositionRiskJSON(symbol: String?) -> String {
        let held = Set(legs.filter { $0.contract == nil && $0.position.amount != 0 }.map(\.position.symbol))
        let symbols = symbol.map { [$0] } ?? market.symbols.filter(held.contains)
        return JSONOut.array(
            portfolioMarginRows(symbols).map { leg in
                var out = JSONOut()
                out.dec("entryPrice", leg.position.entryPrice, places: 5)
                out.dec("leverage", leg.position.leverage, places: 0)
                out.dec("markPrice", leg.mark)
                out.dec("maxNotionalValue", 250_000, places: 0)
                out.dec("positionAmt", leg.position.amount, places: 3)
                out.dec("notional", leg.notional)
                out.string("symbol", leg.position.symbol)
                out.dec("unRealizedProfit", leg.unrealizedProfit)
                out.dec("liquidationPrice", leg.liquidationPrice)
                out.string("positionSide", leg.position.side)
                out.int("updateTime", leg.position.updateTime)
                return out.finished()
            })
    }

    /// `GET /papi/v1/cm/positionRisk` (`QueryCmPositionInformationResponseInner`): every listed
    /// COIN-M contract (Binance: all symbols in TRADING status), optionally one margin asset's or
    /// one pair's; amounts in contracts, `notionalValue` in the coin.
    func cmPositionRiskJSON(marginAsset: String?, pair: String?) -> String {
        let symbols = market.coinM.filter { contract in
            (marginAsset == nil || contract.marginAsset == marginAsset) && (pair == nil || contract.pair == pair)
        }.map(\.symbol)
        return JSONOut.array(
            portfolioMarginRows(symbols).map { leg in
                var out = JSONOut()
                Self.coinMPositionHead(leg, into: &out)
                out.string("positionSide", leg.position.side)
                out.int("updateTime", leg.position.updateTime)
                out.string("maxQty", maxQuantity(leg))
                out.dec("notionalValue", abs(leg.notional))
                return out.finished()
            })
    }
}
