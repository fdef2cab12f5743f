import Foundation

/// Parses request text with Foundation: the simulator reads JSON independently of the client.
enum SimulatorJSON {
    static func object(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// Account activity: fills, funding, margin calls, forced closes and leverage changes. Each
/// changes the account state (so the next `account.status` agrees), records income in the
/// exchange's ledger, and pushes the events Binance would push on the user data stream.
extension ExchangeSimulator {
    /// A fill of `quantity` at `price` (default: the mark price) on `symbol`. `side` is BUY or
    /// SELL; in hedge mode `positionSide` says which leg (default: LONG for BUY, SHORT for SELL).
    /// A COIN-M symbol trades on the key's COIN-M account, `quantity` in contracts, realized
    /// profit and commission in the coin. Returns the realized profit and the commission, or nil
    /// for an unknown account.
    @discardableResult
    public func fill(
        apiKey: String, symbol: String, side: String, quantity: Double, price: Double? = nil, positionSide: String? = nil,
        maker: Bool = false
    ) -> (realizedProfit: Double, commission: Double)? {
        let id = state.withLockedValue { $0.accountID(apiKey, symbol: symbol) }
        return trade(
            accountID: id, symbol: symbol, side: side, quantity: quantity, price: price, positionSide: positionSide, maker: maker)
    }

    /// Binance closes the whole leg itself at the mark price: a liquidation, an auto-deleverage
    /// or a delisting settlement. Returns false when there is no such open leg.
    @discardableResult
    public func forceClose(apiKey: String, symbol: String, positionSide: String = "BOTH", kind: SimulatedForcedClose) -> Bool {
        let (id, amount) = state.withLockedValue { state in
            let id = state.accountID(apiKey, symbol: symbol)
            return (id, state.accounts[id]?.positions.first { $0.symbol == symbol && $0.side == positionSide }?.amount ?? 0)
        }
        guard amount != 0 else { return false }
        return trade(
            accountID: id, symbol: symbol, side: amount > 0 ? "SELL" : "BUY", quantity: abs(amount), price: nil,
            positionSide: positionSide, maker: false, forced: kind) != nil
    }

    /// A trade of the account; `context` names the triggered order it fills (default: a market
    /// or limit order of its own). Linear on USDⓈ-M; inverse on COIN-M (contracts of a USD size,
    /// entry prices averaged harmonically, profit and fees in the coin).
    @discardableResult
    func trade(
        accountID: String, symbol: String, side: String, quantity: Double, price: Double?, positionSide: String?, maker: Bool,
        forced: SimulatedForcedClose? = nil, context: UserEventFrames.OrderContext? = nil
    ) -> (realizedProfit: Double, commission: Double)? {
        let now = clock()
        let outcome = state.withLockedValue { state -> (events: [(String, String)], rp: Double, fee: Double)? in
            guard var account = state.accounts[accountID], quantity > 0 else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            let mark = state.market.price(symbol)
            let fillPrice = price ?? mark
            // COIN-M symbols trade inverse on a COIN-M account and on a Portfolio Margin one.
            let contract = account.venue != .usdM ? state.market.coinMContract(symbol) : nil
            // What `quantity` at `price` is worth in the margin asset.
            func value(_ quantity: Double, _ price: Double) -> Double {
                guard let contract else { return quantity * price }
                return price > 0 ? quantity * contract.contractSize / price : 0
            }
            let leg = positionSide ?? (account.hedgeMode ? (side == "BUY" ? "LONG" : "SHORT") : "BOTH")
            let signed = side == "BUY" ? quantity : -quantity
            var position =
                account.positions.first { $0.symbol == symbol && $0.side == leg }
                ?? SimulatedPosition(symbol: symbol, side: leg, amount: 0, entryPrice: 0, leverage: 10)
            var realized = 0.0
            let before = position.amount
            var after = ((before + signed) * 1000).rounded() / 1000
            if abs(after) < 0.0005 { after = 0 }
            if before == 0 || (before > 0) == (signed > 0) {
                if let contract {
                    // Inverse: the entry price is contracts × size over what they cost in coin.
                    let cost = (position.entryPrice > 0 ? value(abs(before), position.entryPrice) : 0) + value(quantity, fillPrice)
                    position.entryPrice = cost > 0 ? abs(after) * contract.contractSize / cost : fillPrice
                } else {
                    position.entryPrice = (abs(before) * position.entryPrice + quantity * fillPrice) / abs(after)
                }
            } else {
                let closing = min(quantity, abs(before))
                if let contract {
                    realized = closing * contract.contractSize * (1 / position.entryPrice - 1 / fillPrice) * (before > 0 ? 1 : -1)
                } else {
                    realized = closing * (fillPrice - position.entryPrice) * (before > 0 ? 1 : -1)
                }
                if after == 0 {
                    position.entryPrice = 0
                } else if (after > 0) != (before > 0) {
                    position.entryPrice = fillPrice
                }
            }
            position.amount = after
            position.updateTime = now
            let asset = state.market.marginAsset(of: symbol)
            let fee = value(quantity, fillPrice) * (maker ? AccountBook.feeRate / 2 : AccountBook.feeRate)
            account.credit(realized - fee, asset: asset, symbol: symbol, market: state.market)
            account.positions.removeAll { $0.symbol == symbol && $0.side == leg }
            if after != 0 || position.openOrderInitialMargin != 0 { account.positions.append(position) }
            state.accounts[accountID] = account
            state.serial += 1
            let orderID = context?.orderID ?? 8_000_000_000 + state.serial
            let tradeID = 500_000_000 + state.serial
            if realized != 0 {
                state.recordIncome(accountID, symbol, "REALIZED_PNL", realized, asset, now, tradeID: String(tradeID))
            }
            state.recordIncome(accountID, symbol, "COMMISSION", -fee, asset, now, tradeID: String(tradeID))
            let portfolioMargin = state.portfolioMarginShape(accountID, symbol)
            let coinM =
                portfolioMargin == nil
                ? contract.map { UserEventFrames.CoinMShape(accountAlias: account.accountAlias, marginAsset: $0.marginAsset) } : nil
            let fill = UserEventFrames.Fill(
                symbol: symbol, side: side, positionSide: leg, quantity: quantity, price: fillPrice,
                orderType: forced == .liquidation || forced == .adl ? "LIQUIDATION" : (maker ? "LIMIT" : "MARKET"),
                executionType: forced == .liquidation || forced == .adl ? "CALCULATED" : "TRADE",
                clientOrderID: context?.clientOrderID ?? forced?.clientOrderID(state.serial) ?? "sim-\(state.serial)", orderID: orderID,
                tradeID: tradeID, commission: fee, commissionAsset: asset, realizedProfit: realized, maker: maker, context: context,
                coinM: coinM, portfolioMargin: portfolioMargin)
            let book = AccountBook(account: account, market: state.market)
            let legView = AccountBook.Leg(position: position, market: state.market)
            let update = UserEventFrames.accountUpdate(
                reason: "ORDER", balances: [book.balanceChange(asset: asset, symbol: symbol, change: 0)], positions: [legView],
                accountAlias: coinM?.accountAlias, portfolioMargin: portfolioMargin, now: now)
            return ([("ORDER_TRADE_UPDATE", UserEventFrames.orderTradeUpdate(fill, now: now)), ("ACCOUNT_UPDATE", update)], realized, fee)
        }
        guard let outcome else { return nil }
        deliver(accountID: accountID, events: outcome.events.map { (type: $0.0, json: $0.1) })
        reportRiskLevelChanges()
        return (outcome.rp, outcome.fee)
    }

    /// A funding payment on every leg of `symbol` at `rate`: longs pay shorts when it is
    /// positive. Returns the amount credited (negative: paid), nil without a position.
    @discardableResult
    ///
    /// `namesSymbol: false` pushes the update as Binance documents it for a crossed position:
    /// the balance only, with no `S` (the default keeps `S`, as the SDK's model declares it).
    public func payFunding(apiKey: String, symbol: String, rate: Double, namesSymbol: Bool = true) -> Double? {
        let now = clock()
        let outcome = state.withLockedValue { state -> (String, Double, String)? in
            let accountID = state.accountID(apiKey, symbol: symbol)
            guard var account = state.accounts[accountID] else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            let legs = account.positions.filter { $0.symbol == symbol && $0.amount != 0 }
            guard !legs.isEmpty else { return nil }
            // Funding is on the position's notional: in the quote asset, or in the coin on COIN-M.
            let amount = legs.reduce(0.0) { $0 - AccountBook.Leg(position: $1, market: state.market).notional * rate }
            let asset = state.market.marginAsset(of: symbol)
            account.credit(amount, asset: asset, symbol: symbol, market: state.market)
            state.accounts[accountID] = account
            state.serial += 1
            state.recordIncome(accountID, symbol, "FUNDING_FEE", amount, asset, now, tradeID: "")
            let book = AccountBook(account: account, market: state.market)
            let isolated = book.legs.filter { $0.position.symbol == symbol && $0.position.isolated }
            let update = UserEventFrames.accountUpdate(
                reason: "FUNDING_FEE", balances: [book.balanceChange(asset: asset, symbol: symbol, change: amount)], positions: isolated,
                fundingSymbol: namesSymbol ? symbol : nil, accountAlias: account.venue == .coinM ? account.accountAlias : nil,
                portfolioMargin: state.portfolioMarginShape(accountID, symbol), now: now)
            return (update, amount, accountID)
        }
        guard let outcome else { return nil }
        deliver(accountID: outcome.2, events: [(type: "ACCOUNT_UPDATE", json: outcome.0)])
        reportRiskLevelChanges()
        return outcome.1
    }

    /// A `MARGIN_CALL` for the account's open legs. False for an unknown account, and for a
    /// Portfolio Margin one (its stream has no `MARGIN_CALL`: `riskLevelChange` says it, when
    /// uniMMR enters the band). `venue` nil: the key's USDⓈ-M account, or its COIN-M account
    /// when it has only that. A COIN-M account's `cw` is the cross wallet of its first open
    /// leg's coin.
    @discardableResult
    public func marginCall(apiKey: String, venue: SimulatedVenue? = nil) -> Bool {
        let now = clock()
        let event = state.withLockedValue { state -> (String, String)? in
            let accountID = state.accountID(apiKey, venue)
            guard let account = state.accounts[accountID], account.venue != .portfolioMargin else { return nil }
            let book = AccountBook(account: account, market: state.market)
            let legs = book.openRows()
            let crossWallet: Double
            if account.venue == .coinM {
                let coin = legs.first?.marginAsset ?? book.assets.first?.asset
                crossWallet = book.assets.first { $0.asset == coin }?.crossWallet ?? 0
            } else {
                crossWallet = book.totals().crossWallet
            }
            let event = UserEventFrames.marginCall(
                crossWallet: crossWallet, legs: legs, accountAlias: account.venue == .coinM ? account.accountAlias : nil,
                now: now + state.faults.clockSkewMilliseconds)
            return (event, accountID)
        }
        guard let event else { return false }
        deliver(accountID: event.1, events: [(type: "MARGIN_CALL", json: event.0)])
        return true
    }

    /// Changes a symbol's leverage (`ACCOUNT_CONFIG_UPDATE` with `ac`).
    public func setLeverage(apiKey: String, symbol: String, leverage: Double) {
        let now = clock()
        let accountID = state.withLockedValue { $0.accountID(apiKey, symbol: symbol) }
        let event = state.withLockedValue { state -> String? in
            guard var account = state.accounts[accountID] else { return nil }
            for index in account.positions.indices where account.positions[index].symbol == symbol {
                account.positions[index].leverage = leverage
            }
            state.accounts[accountID] = account
            return UserEventFrames.accountConfigUpdate(
                symbol: symbol, leverage: leverage, multiAssets: nil,
                businessUnit: state.portfolioMarginShape(accountID, symbol)?.businessUnit, now: now + state.faults.clockSkewMilliseconds)
        }
        if let event { deliver(accountID: accountID, events: [(type: "ACCOUNT_CONFIG_UPDATE", json: event)]) }
    }

    /// Switches multi-assets margin mode (`ACCOUNT_CONFIG_UPDATE` with `ai`) of the key's
    /// USDⓈ-M account (COIN-M has no such mode).
    public func setMultiAssetsMode(apiKey: String, enabled: Bool) {
        let now = clock()
        let event = state.withLockedValue { state -> String? in
            guard state.accounts[apiKey] != nil else { return nil }
            state.accounts[apiKey]?.multiAssetsMargin = enabled
            return UserEventFrames.accountConfigUpdate(
                symbol: nil, leverage: nil, multiAssets: enabled, now: now + state.faults.clockSkewMilliseconds)
        }
        if let event { deliver(accountID: apiKey, events: [(type: "ACCOUNT_CONFIG_UPDATE", json: event)]) }
    }

    /// The exchange's income ledger for `apiKey`, oldest first. `venue` nil: the key's USDⓈ-M
    /// account, or its COIN-M account when it has only that.
    public func incomeHistory(apiKey: String, venue: SimulatedVenue? = nil) -> [IncomeRecord] {
        state.withLockedValue { state in
            let id = state.accountID(apiKey, venue)
            return state.income.filter { $0.accountID == id }
        }
    }
}

extension ExchangeState {
    mutating func recordIncome(
        _ accountID: String, _ symbol: String, _ type: String, _ amount: Double, _ asset: String, _ time: Int64, tradeID: String
    ) {
        serial += 1
        income.append(
            IncomeRecord(
                apiKey: SimulatedVenue.apiKey(ofAccountID: accountID), symbol: symbol, type: type, amount: amount, asset: asset,
                time: time, tranID: 9_000_000_000 + serial, tradeID: tradeID, venue: SimulatedVenue(accountID: accountID)))
        // A long demo keeps the last 100k entries (Binance keeps 3 months).
        if income.count > 100_000 { income.removeFirst(income.count - 100_000) }
    }
}
