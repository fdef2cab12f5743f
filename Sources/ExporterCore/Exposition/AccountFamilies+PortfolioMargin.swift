import BinanceWebSocketAPI

/// A Portfolio Margin account's own numbers as families. Its margins are USD over the whole
/// account, so they fill the account totals that mean the same (initial and maintenance
/// margin, available balance, what can be withdrawn); its risk is uniMMR, not a margin ratio.
extension AccountFamilies {
    static func appendPortfolioMargin(account: String, _ pm: PortfolioMarginSnapshot, to sink: inout FamilySink) {
        let a = [("account", account)]
        let p = pm.account
        sink.add(C.accountUniMMR, a, p.uniMMR)
        sink.add(C.accountEquityUSD, [("account", account), ("kind", "account")], p.accountEquity)
        sink.add(C.accountEquityUSD, [("account", account), ("kind", "actual")], p.actualEquity)
        for status in PortfolioMarginStatus.documented {
            sink.add(C.accountStatus, [("account", account), ("status", status.label)], status == p.status ? 1 : 0)
        }
        // A status Binance added after this build is still a state, under its own name: alerts
        // on "not normal" must see it.
        if p.status == .unknown, !p.statusText.isEmpty {
            sink.add(C.accountStatus, [("account", account), ("status", p.statusText.lowercased())], 1)
        }
        sink.add(C.accountInitialMargin, a, p.initialMargin)
        sink.add(C.accountMaintMargin, a, p.maintMargin)
        sink.add(C.accountAvailableBalance, a, p.totalAvailableBalance)
        sink.add(C.accountMaxWithdrawAmount, a, p.virtualMaxWithdrawAmount)
        sink.add(C.accountMarginOpenLoss, a, p.totalMarginOpenLoss)
        for balance in pm.balances {
            let l = [("account", account), ("asset", balance.asset)]
            sink.add(C.assetWalletBalance, l, balance.totalWalletBalance)
            sink.add(C.assetCrossMarginFree, l, balance.crossMarginFree)
            sink.add(C.assetCrossMarginLocked, l, balance.crossMarginLocked)
            sink.add(C.assetCrossMarginBorrowed, l, balance.crossMarginBorrowed)
            sink.add(C.assetCrossMarginInterest, l, balance.crossMarginInterest)
            sink.add(C.assetUMWalletBalance, l, balance.umWalletBalance)
            sink.add(C.assetUMUnrealizedProfit, l, balance.umUnrealizedProfit)
            sink.add(C.assetCMWalletBalance, l, balance.cmWalletBalance)
            sink.add(C.assetCMUnrealizedProfit, l, balance.cmUnrealizedProfit)
            sink.add(C.assetNegativeBalance, l, balance.negativeBalance)
            sink.add(C.assetUpdateTimestamp, l, Double(balance.updateTime) / 1000)
        }
    }
}
