import BinanceWebSocketAPI

/// What the account's user data stream told us happened: money that moved, margin calls,
/// positions Binance closed itself, and the stream's own health. Counters start at 0 when the
/// exporter starts; they are exported whether or not the last poll is fresh, because what
/// happened stays true.
public struct AccountActivity: Sendable {
    public struct IncomeKey: Hashable, Sendable {
        public var asset: String
        public var type: IncomeType
        public var direction: IncomeDirection
    }

    public struct ForcedCloseKey: Hashable, Sendable {
        public var symbol: String
        public var positionSide: String
        public var kind: ForcedCloseKind
    }

    /// True once the account's stream is configured: its series exist from then on.
    public var streamEnabled = false
    public var streamConnected = false
    public var income: [IncomeKey: Double] = [:]
    public var marginCalls: UInt64 = 0
    public var forcedCloses: [ForcedCloseKey: UInt64] = [:]
    public var eventsByType: [String: UInt64] = [:]
    public var malformedEvents: UInt64 = 0
    /// Exchange time (`E`) of the last event, in Unix seconds.
    public var lastEventTime: Double?
    public var reconnectsByReason: [String: UInt64] = [:]
    /// Fills already counted, by the key both sources share (see `IncomeKeys`): the stream and
    /// the REST ledger may both report the same fill.
    var countedIncome = RecentSet<String>(capacity: 50_000)
    /// Funding payments seen by each source: both may report the same payment.
    var funding = FundingTally(capacity: 50_000)
    /// Income backfills from the REST ledger after stream gaps, by result.
    public var backfillsByResult: [String: UInt64] = [:]
    /// Forced-close orders already counted: one order may fill in several trades.
    var countedForcedOrders = RecentSet<Int64>(capacity: 256)
    /// Stream updates of balances, positions and settings, with the local time they arrived: a
    /// poll that was already in flight when one arrived answers with older state, so they are
    /// applied again on top of it (they carry absolute values, so applying twice is harmless).
    var recentUpdates: [(receivedAt: Double, event: UserDataEvent)] = []

    public init() {}
}

/// `binance_futures_income_total`'s `type` label.
public enum IncomeType: String, Sendable, CaseIterable {
    case realizedPnL = "realized_pnl"
    case commission
    case fundingFee = "funding_fee"
}

/// `binance_futures_income_total`'s `direction` label: amounts are absolute, so net PnL is
/// `increase(in) − increase(out)` and both stay monotonic counters.
public enum IncomeDirection: String, Sendable, CaseIterable {
    case `in`
    case out
}

/// Why an account's user stream (re)subscribed: the `reason` label of
/// `binance_futures_user_stream_reconnects_total`.
public enum UserStreamGapReason: String, Sendable, CaseIterable {
    case maxAge = "max_age"
    case closeFrame = "close_frame"
    case missedPong = "missed_pong"
    case connectionLost = "connection_lost"
    /// `listenKeyExpired`, or −1125 on a ping or subscribe: a new key was needed.
    case keyExpired = "key_expired"
    case error

    init(_ close: CloseReason) {
        switch close {
        case .closeFrame: self = .closeFrame
        case .missedPong: self = .missedPong
        case .closedByClient: self = .maxAge
        case .connectionLost, .transportError, .sendFailed: self = .connectionLost
        }
    }
}

/// What happened to an account's user data stream; `AccountView.apply` reduces them.
public enum StreamEvent: Sendable, Equatable {
    case enabled
    /// Subscribed (again); `after` names the gap it ends, nil for the first subscription.
    case subscribed(after: UserStreamGapReason?)
    case unsubscribed
    case event(UserDataEvent)
    case malformed
    /// Rows of Binance's income ledger (`GET /fapi/v1/income`) covering a stream gap; only what
    /// the stream did not already count is added.
    case ledger([IncomeEntry])
    /// A backfill attempt ended: `success` or `failed`.
    case backfill(succeeded: Bool)
    /// The open-order lists read at a reconcile.
    case orders(OrderSnapshot)
}

/// The dedupe rule between the user data stream and the REST income ledger: a realized PnL or
/// commission is identified by its type and trade id (`t` on the stream, `tradeId` in the
/// ledger). Funding payments: see `FundingTally`.
enum IncomeKeys {
    static func trade(_ type: IncomeType, _ tradeID: String) -> String { "\(type.rawValue)/\(tradeID)" }
}

/// A bounded set of recent values, oldest forgotten first.
struct RecentSet<Element: Hashable & Sendable>: Sendable {
    private var order: [Element] = []
    private var members: Set<Element> = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Inserts `value`; false when it was already there.
    mutating func insert(_ value: Element) -> Bool {
        guard members.insert(value).inserted else { return false }
        order.append(value)
        if order.count > capacity { members.remove(order.removeFirst()) }
        return true
    }
}

extension AccountView {
    /// Applies one stream event: counters, stream health, and the instant update of balances and
    /// positions that the next poll reconciles. `now` (Unix seconds) is when it arrived.
    public mutating func apply(_ event: StreamEvent, now: Double = 0) {
        switch event {
        case .enabled:
            activity.streamEnabled = true
        case .subscribed(let gap):
            activity.streamConnected = true
            if let gap { activity.reconnectsByReason[gap.rawValue, default: 0] += 1 }
        case .unsubscribed:
            activity.streamConnected = false
        case .malformed:
            activity.malformedEvents += 1
        case .orders(let snapshot):
            orders.reconcile(snapshot)
        case .backfill(let succeeded):
            activity.backfillsByResult[succeeded ? "success" : "failed", default: 0] += 1
        case .ledger(let rows):
            for row in rows {
                switch row.kind {
                case .realizedPnL? where !row.tradeID.isEmpty:
                    if activity.countedIncome.insert(IncomeKeys.trade(.realizedPnL, row.tradeID)) {
                        addIncome(row.asset, .realizedPnL, row.income)
                    }
                case .commission? where !row.tradeID.isEmpty:
                    if activity.countedIncome.insert(IncomeKeys.trade(.commission, row.tradeID)) {
                        addIncome(row.asset, .commission, row.income)
                    }
                case .fundingFee?:
                    let payment = FundingTally.Payment(asset: row.asset, time: row.time, amount: row.income)
                    if activity.funding.ledgerRow(payment, transactionID: row.tranID) {
                        addIncome(row.asset, .fundingFee, row.income)
                    }
                default:
                    break
                }
            }
        case .event(let event):
            activity.eventsByType[event.kind.label, default: 0] += 1
            if let time = event.eventTime { activity.lastEventTime = Double(time) / 1000 }
            apply(userData: event)
            orders.apply(event, now: now)
            switch event {
            case .accountUpdate where venue.valuesLiveBetweenPolls, .accountConfigUpdate where venue.valuesLiveBetweenPolls,
                .riskLevelChange:
                activity.recentUpdates.append((now, event))
                if activity.recentUpdates.count > 256 { activity.recentUpdates.removeFirst() }
            default: break
            }
        }
    }

    /// After a poll that started at `pollStarted`: stream updates that arrived since then are
    /// applied again (the poll may predate them); older ones are forgotten.
    mutating func reapplyStreamUpdates(since pollStarted: Double) {
        activity.recentUpdates.removeAll { $0.receivedAt < pollStarted }
        guard var data else { return }
        for (_, event) in activity.recentUpdates {
            switch event {
            case .accountUpdate(let update): data.apply(update, venue: venue)
            case .accountConfigUpdate(let update): data.apply(update)
            // A risk level pushed while a PM poll was under way is newer than the poll's account read.
            case .riskLevelChange(let change): data.status.portfolioMargin?.account.apply(change)
            default: break
            }
        }
        self.data = data
    }

    private mutating func addIncome(_ asset: String, _ type: IncomeType, _ amount: Double) {
        guard amount != 0, amount.isFinite else { return }
        let key = AccountActivity.IncomeKey(asset: asset, type: type, direction: amount > 0 ? .in : .out)
        activity.income[key, default: 0] += abs(amount)
    }

    private mutating func apply(userData event: UserDataEvent) {
        if case .riskLevelChange(let change) = event {
            // Portfolio Margin: uniMMR and the status move at once; a margin call is counted.
            if change.level.uppercased() == PortfolioMarginStatus.marginCall.rawValue { activity.marginCalls += 1 }
            if var data, var pm = data.status.portfolioMargin {
                pm.account.apply(change)
                data.status.portfolioMargin = pm
                self.data = data
            }
            return
        }
        // Portfolio Margin's positions, income and forced closes come from its polls (the stream
        // is read for its risk level only, so far).
        guard venue.valuesLiveBetweenPolls else { return }
        switch event {
        case .accountUpdate(let update):
            if update.incomeKind == .fundingFee {
                // A crossed position's payment comes without a symbol: only the asset, the time
                // and the amount identify it, in the stream as in the ledger.
                for balance in update.balances {
                    let payment = FundingTally.Payment(asset: balance.asset, time: update.transactionTime, amount: balance.balanceChange)
                    if activity.funding.streamEvent(payment) { addIncome(balance.asset, .fundingFee, balance.balanceChange) }
                }
            }
            if var data {
                data.apply(update, venue: venue)
                self.data = data
            }
        case .orderTradeUpdate(let order):
            guard order.isFill else { return }
            let trade = order.tradeID.map(String.init)
            if order.realizedProfit != 0, trade.map({ activity.countedIncome.insert(IncomeKeys.trade(.realizedPnL, $0)) }) ?? true {
                addIncome(venue.marginAsset(of: order.symbol), .realizedPnL, order.realizedProfit)
            }
            if let commission = order.commission, let asset = order.commissionAsset, commission != 0,
                trade.map({ activity.countedIncome.insert(IncomeKeys.trade(.commission, $0)) }) ?? true
            {
                addIncome(asset, .commission, -commission)
            }
            if let kind = order.forcedCloseKind, activity.countedForcedOrders.insert(order.orderID) {
                let key = AccountActivity.ForcedCloseKey(symbol: order.symbol, positionSide: order.positionSide, kind: kind)
                activity.forcedCloses[key, default: 0] += 1
            }
        case .marginCall:
            activity.marginCalls += 1
        case .accountConfigUpdate(let update):
            if var data { data.apply(update); self.data = data }
        case .algoUpdate, .listenKeyExpired, .riskLevelChange, .other:
            break
        }
    }

}

extension AccountData {
    /// Applies an `ACCOUNT_UPDATE` to the last poll: wallet balances and the changed positions
    /// show at once. Values that depend on the mark price (margins, ratio) stay the poll's
    /// until the next poll; the account totals follow only in single-asset mode, where they are
    /// the USDT row (multi-assets totals are USD values Binance computes).
    mutating func apply(_ update: AccountUpdate, venue: FuturesVenue) {
        let singleAsset = !(status.flags?.multiAssetsMargin ?? false)
        let settlement = venue.defaultMarginAsset
        for balance in update.balances {
            if singleAsset, balance.asset == settlement, var totals = status.totals {
                totals.marginBalance += balance.walletBalance - totals.walletBalance
                totals.walletBalance = balance.walletBalance
                totals.crossWalletBalance = balance.crossWalletBalance
                status.totals = totals
            }
            guard let index = status.assets.firstIndex(where: { $0.asset == balance.asset }) else { continue }
            status.assets[index].marginBalance += balance.walletBalance - status.assets[index].walletBalance
            status.assets[index].walletBalance = balance.walletBalance
            status.assets[index].crossWalletBalance = balance.crossWalletBalance
        }
        for position in update.positions {
            let asset = venue.marginAsset(of: position.symbol)
            var oldProfit = 0.0
            if let index = status.positions.firstIndex(where: { $0.symbol == position.symbol && $0.positionSide == position.positionSide })
            {
                oldProfit = status.positions[index].unrealizedProfit
                status.positions[index].positionAmount = position.amount
                status.positions[index].entryPrice = position.entryPrice
                if let breakEven = position.breakEvenPrice { status.positions[index].breakEvenPrice = breakEven }
                status.positions[index].unrealizedProfit = position.unrealizedProfit
                status.positions[index].isolatedWallet = position.isolatedWallet ?? status.positions[index].isolatedWallet
            } else if position.amount != 0 {
                status.positions.append(
                    StatusPosition(
                        symbol: position.symbol, positionSide: position.positionSide, positionAmount: position.amount,
                        unrealizedProfit: position.unrealizedProfit, initialMargin: 0, maintMargin: 0, isolated: position.isolated,
                        entryPrice: position.entryPrice, breakEvenPrice: position.breakEvenPrice, isolatedWallet: position.isolatedWallet,
                        updateTime: update.transactionTime))
            }
            if let details = positionDetails,
                let index = details.firstIndex(where: { $0.symbol == position.symbol && $0.positionSide == position.positionSide })
            {
                positionDetails?[index].positionAmount = position.amount
                positionDetails?[index].entryPrice = position.entryPrice
                positionDetails?[index].unrealizedProfit = position.unrealizedProfit
                if position.amount == 0 { positionDetails?[index].notional = 0 }
            }
            let delta = position.unrealizedProfit - oldProfit
            if let index = status.assets.firstIndex(where: { $0.asset == asset }) {
                status.assets[index].unrealizedProfit += delta
                status.assets[index].marginBalance += delta
            }
            if singleAsset && asset == settlement {
                status.totals?.unrealizedProfit += delta
                status.totals?.marginBalance += delta
            }
        }
    }

    /// Applies an `ACCOUNT_CONFIG_UPDATE`: a symbol's leverage, the multi-assets flag.
    mutating func apply(_ update: AccountConfigUpdate) {
        if let change = update.leverage {
            for index in status.positions.indices where status.positions[index].symbol == change.symbol {
                status.positions[index].leverage = change.leverage
            }
            if let details = positionDetails {
                for index in details.indices where details[index].symbol == change.symbol {
                    positionDetails?[index].leverage = change.leverage
                }
            }
        }
        if let multiAssets = update.multiAssetsMargin { status.flags?.multiAssetsMargin = multiAssets }
    }
}
