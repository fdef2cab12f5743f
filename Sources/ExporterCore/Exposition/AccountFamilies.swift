import BinanceWebSocketAPI

/// Turns account views into metric families. Pure: same input, same output.
public enum AccountFamilies {
    typealias C = MetricCatalog

    /// One position leg as exported: the `account.status` row merged with its
    /// `v2/account.position` row (either may be missing when the two calls straddle a change).
    struct PositionLeg {
        var symbol: String
        var side: String
        var status: StatusPosition?
        var detail: PositionDetail?
    }

    static func openLegs(_ data: AccountData) -> [PositionLeg] {
        var legs: [PositionLeg] = []
        var index: [String: Int] = [:]
        for row in data.status.positions where row.isOpen {
            index[row.symbol + "\u{0}" + row.positionSide] = legs.count
            legs.append(PositionLeg(symbol: row.symbol, side: row.positionSide, status: row, detail: nil))
        }
        for detail in data.positionDetails ?? [] {
            let key = detail.symbol + "\u{0}" + detail.positionSide
            if let position = index[key] {
                legs[position].detail = detail
            } else if detail.positionAmount != 0 || (detail.openOrderInitialMargin ?? 0) != 0 {
                index[key] = legs.count
                legs.append(PositionLeg(symbol: detail.symbol, side: detail.positionSide, status: nil, detail: detail))
            }
        }
        return legs
    }

    /// Appends the value families of one fresh account into `sink`, keyed by family name.
    static func appendValues(account: String, data: AccountData, venue: FuturesVenue = .usdM, to sink: inout FamilySink) {
        let a = [("account", account)]
        if let t = data.status.totals {
            appendTotals(t, a, to: &sink)
        } else if let pm = data.status.portfolioMargin {
            appendPortfolioMargin(account: account, pm, to: &sink)
        } else {
            // No account-wide totals (COIN-M): the margin ratio is per coin.
            for asset in data.status.assets {
                sink.add(
                    C.assetMarginRatio, [("account", account), ("asset", asset.asset)],
                    marginRatio(maint: asset.maintMargin, marginBalance: asset.marginBalance))
            }
        }
        if let flags = data.status.flags {
            if let multiAssets = flags.multiAssetsMargin { sink.add(C.accountMultiAssetsMargin, a, multiAssets ? 1 : 0) }
            sink.add(C.accountCanTrade, a, flags.canTrade ? 1 : 0)
            sink.add(C.accountCanDeposit, a, flags.canDeposit ? 1 : 0)
            sink.add(C.accountCanWithdraw, a, flags.canWithdraw ? 1 : 0)
            sink.add(C.accountFeeTier, a, Double(flags.feeTier))
        }
        appendAssets(account: account, data: data, to: &sink)
        appendPositions(account: account, data: data, venue: venue, to: &sink)
    }

    private static func appendTotals(_ t: AccountTotals, _ a: [(String, String)], to sink: inout FamilySink) {
        sink.add(C.accountWalletBalance, a, t.walletBalance)
        sink.add(C.accountUnrealizedProfit, a, t.unrealizedProfit)
        sink.add(C.accountMarginBalance, a, t.marginBalance)
        sink.add(C.accountInitialMargin, a, t.initialMargin)
        sink.add(C.accountMaintMargin, a, t.maintMargin)
        sink.add(C.accountPositionInitialMargin, a, t.positionInitialMargin)
        sink.add(C.accountOpenOrderInitialMargin, a, t.openOrderInitialMargin)
        sink.add(C.accountCrossWalletBalance, a, t.crossWalletBalance)
        sink.add(C.accountCrossUnrealizedProfit, a, t.crossUnrealizedProfit)
        sink.add(C.accountAvailableBalance, a, t.availableBalance)
        sink.add(C.accountMaxWithdrawAmount, a, t.maxWithdrawAmount)
        sink.add(C.accountMarginRatio, a, marginRatio(maint: t.maintMargin, marginBalance: t.marginBalance))
    }

    private static func appendAssets(account: String, data: AccountData, to sink: inout FamilySink) {
        for asset in data.status.assets {
            let l = [("account", account), ("asset", asset.asset)]
            sink.add(C.assetWalletBalance, l, asset.walletBalance)
            sink.add(C.assetUnrealizedProfit, l, asset.unrealizedProfit)
            sink.add(C.assetMarginBalance, l, asset.marginBalance)
            sink.add(C.assetMaintMargin, l, asset.maintMargin)
            sink.add(C.assetInitialMargin, l, asset.initialMargin)
            sink.add(C.assetPositionInitialMargin, l, asset.positionInitialMargin)
            sink.add(C.assetOpenOrderInitialMargin, l, asset.openOrderInitialMargin)
            sink.add(C.assetCrossWalletBalance, l, asset.crossWalletBalance)
            sink.add(C.assetCrossUnrealizedProfit, l, asset.crossUnrealizedProfit)
            sink.add(C.assetAvailableBalance, l, asset.availableBalance)
            sink.add(C.assetMaxWithdrawAmount, l, asset.maxWithdrawAmount)
            if let available = asset.marginAvailable { sink.add(C.assetMarginAvailable, l, available ? 1 : 0) }
            sink.add(C.assetUpdateTimestamp, l, Double(asset.updateTime) / 1000)
        }
    }

    private static func appendPositions(account: String, data: AccountData, venue: FuturesVenue, to sink: inout FamilySink) {
        for leg in openLegs(data) {
            let l = [("account", account), ("symbol", leg.symbol), ("position_side", leg.side)]
            let s = leg.status
            let d = leg.detail
            if let amount = s?.positionAmount ?? d?.positionAmount {
                if venue.sizesInContracts || d?.inContracts == true {
                    // Contracts in their own family; the base-coin size is the notional in coin.
                    sink.add(C.positionContracts, l, amount)
                    // Unknown until a poll or a mark frame values it (a position the stream just opened).
                    if let notional = s?.notional ?? d?.notional, notional != 0 || amount == 0 {
                        sink.add(C.positionAmount, l, amount < 0 ? -abs(notional) : abs(notional))
                    }
                } else {
                    sink.add(C.positionAmount, l, amount)
                }
            }
            if let value = s?.entryPrice ?? d?.entryPrice { sink.add(C.positionEntryPrice, l, value) }
            if let value = s?.breakEvenPrice ?? d?.breakEvenPrice { sink.add(C.positionBreakEvenPrice, l, value) }
            if let value = s?.unrealizedProfit ?? d?.unrealizedProfit { sink.add(C.positionUnrealizedProfit, l, value) }
            if let value = s?.initialMargin ?? d?.initialMargin { sink.add(C.positionInitialMargin, l, value) }
            if let value = s?.maintMargin ?? d?.maintMargin { sink.add(C.positionMaintMargin, l, value) }
            if let value = s?.positionInitialMargin ?? d?.positionInitialMargin { sink.add(C.positionPositionInitialMargin, l, value) }
            if let value = s?.openOrderInitialMargin ?? d?.openOrderInitialMargin { sink.add(C.positionOpenOrderInitialMargin, l, value) }
            if let value = s?.leverage ?? d?.leverage { sink.add(C.positionLeverage, l, value) }
            if let isolated = s?.isolated ?? d?.isIsolated {
                sink.add(C.positionIsolated, l, isolated ? 1 : 0)
            }
            if let value = s?.maxNotional ?? d?.maxNotionalValue { sink.add(C.positionMaxNotional, l, value) }
            if let time = s?.updateTime ?? d?.updateTime { sink.add(C.positionUpdateTimestamp, l, Double(time) / 1000) }
            if let d {
                sink.add(C.positionMarkPrice, l, d.markPrice)
                sink.add(C.positionLiquidationPrice, l, d.liquidationPrice)
                sink.add(C.positionLiquidationPriceTimestamp, l, data.polledAt)
                sink.add(C.positionNotional, l, d.notional)
                sink.add(C.positionIsolatedWallet, l, d.isolatedWallet)
                sink.add(C.positionIsolatedMargin, l, d.isolatedMargin)
                if let adl = d.adl { sink.add(C.positionAdlQuantile, l, Double(adl)) }
            }
        }
    }

    /// maint ÷ margin balance; liquidation at 1. A non-positive balance with margin in use is +Inf.
    static func marginRatio(maint: Double, marginBalance: Double) -> Double {
        if maint == 0 { return 0 }
        return marginBalance > 0 ? maint / marginBalance : .infinity
    }

    static func appendHealth(account: String, view: AccountView, now: Double, to sink: inout FamilySink) {
        let h = view.health
        let a = [("account", account)]
        sink.add(C.up, a, h.lastPollSucceeded && view.isFresh(now: now) ? 1 : 0)
        sink.add(C.accountInfo, [("account", account), ("venue", view.venue.id.rawValue)], 1)
        sink.add(C.lastSuccess, a, h.lastSuccess ?? 0)
        sink.add(C.pollDuration, a, h.pollDurationSeconds)
        sink.add(C.pollInterval, a, h.pollIntervalSeconds)
        sink.add(C.polls, a, Double(h.polls))
        for (code, count) in h.errorsByCode { sink.add(C.pollErrors, [("account", account), ("code", code)], Double(count)) }
        sink.add(C.weightConsumed, a, Double(h.weightConsumed))
        sink.add(C.websocketConnected, a, h.connected ? 1 : 0)
        for (reason, count) in h.reconnectsByReason {
            sink.add(C.websocketReconnects, [("account", account), ("reason", reason)], Double(count))
        }
        sink.add(C.clockOffset, a, h.clockOffsetSeconds)
        for (field, drift) in h.reconcileDrift {
            sink.add(C.reconcileDrift, [("account", account), ("field", field)], drift)
        }
        if let restrictions = h.keyRestrictions {
            for (flag, granted) in restrictions.flags {
                sink.add(C.apiKeyPermission, [("account", account), ("permission", APIKeyVerdict.label(flag))], granted ? 1 : 0)
            }
            sink.add(C.apiKeyIPRestricted, a, restrictions.ipRestricted ? 1 : 0)
        }
        // Every reason, 0 or 1: a restarted account shows 0 again instead of a vanished series.
        for reason in AccountStopReason.allCases {
            sink.add(C.accountStopped, [("account", account), ("reason", reason.rawValue)], h.stopped == reason ? 1 : 0)
        }
    }

    /// The stream's counters and health, for accounts with a user stream. The income series of
    /// every asset the account holds exist from the start at 0, so `increase()` sees the first
    /// payment.
    static func appendActivity(account: String, view: AccountView, to sink: inout FamilySink) {
        let activity = view.activity
        guard activity.streamEnabled else { return }
        let a = [("account", account)]
        var income = activity.income
        for asset in view.data?.status.assets ?? [] where asset.walletBalance != 0 {
            for type in IncomeType.allCases {
                for direction in IncomeDirection.allCases {
                    income[AccountActivity.IncomeKey(asset: asset.asset, type: type, direction: direction), default: 0] += 0
                }
            }
        }
        for (key, amount) in income {
            sink.add(
                C.income, [("account", account), ("asset", key.asset), ("type", key.type.rawValue), ("direction", key.direction.rawValue)],
                amount)
        }
        sink.add(C.marginCalls, a, Double(activity.marginCalls))
        for (key, count) in activity.forcedCloses {
            sink.add(
                C.forcedCloses,
                [("account", account), ("symbol", key.symbol), ("position_side", key.positionSide), ("kind", key.kind.rawValue)],
                Double(count))
        }
        sink.add(C.userStreamConnected, a, activity.streamConnected ? 1 : 0)
        for (event, count) in activity.eventsByType {
            sink.add(C.userStreamEvents, [("account", account), ("event", event)], Double(count))
        }
        sink.add(C.userStreamLastEvent, a, activity.lastEventTime ?? 0)
        for (reason, count) in activity.reconnectsByReason {
            sink.add(C.userStreamReconnects, [("account", account), ("reason", reason)], Double(count))
        }
        sink.add(C.userStreamMalformed, a, Double(activity.malformedEvents))
        for (result, count) in activity.backfillsByResult {
            sink.add(C.incomeBackfills, [("account", account), ("result", result)], Double(count))
        }
    }

    static func appendScheduler(_ scheduler: SchedulerView, now: Double, to sink: inout FamilySink) {
        if let used = scheduler.weightUsed { sink.add(C.weightUsed, [], Double(used)) }
        if let limit = scheduler.weightLimit { sink.add(C.weightLimit, [], Double(limit)) }
        for (reason, count) in scheduler.deferralsByReason { sink.add(C.deferrals, [("reason", reason)], Double(count)) }
        let until = max(scheduler.rateLimitedUntil, scheduler.bannedUntil)
        sink.add(C.rateLimitedUntil, [], until > now ? until : 0)
        sink.add(C.banned, [], scheduler.bannedUntil > now ? 1 : 0)
    }
}

/// Collects samples by family while keeping each family's definition.
struct FamilySink {
    private var families: [String: MetricFamily] = [:]

    mutating func add(_ definition: MetricDefinition, _ labels: [(String, String)], _ value: Double) {
        families[definition.name, default: definition.family([])].samples.append(Sample(labels, value))
    }

    /// A family no one else adds samples to, as it is (no copy of its samples).
    mutating func set(_ family: MetricFamily) { families[family.name] = family }

    mutating func add(_ family: MetricFamily) {
        families[family.name, default: MetricFamily(name: family.name, help: family.help, type: family.type)]
            .samples.append(contentsOf: family.samples)
    }

    var all: [MetricFamily] { Array(families.values) }
}
