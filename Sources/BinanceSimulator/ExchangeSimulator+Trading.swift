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
    /// Returns the realized profit and the commission, or nil for an unknown account.
    @discardableResult
    public func fill(
        apiKey: String, symbol: String, side: String, quantity: Double, price: Double? = nil, positionSide: String? = nil,
        maker: Bool = false
    ) -> (realizedProfit: Double, commission: Double)? {
        trade(apiKey: apiKey, symbol: symbol, side: side, quantity: quantity, price: price, positionSide: positionSide, maker: maker)
    }

    /// Binance closes the whole leg itself at the mark price: a liquidation, an auto-deleverage
    /// or a delisting settlement. Returns false when there is no such open leg.
    @discardableResult
    public func forceClose(apiKey: String, symbol: String, positionSide: String = "BOTH", kind: SimulatedForcedClose) -> Bool {
        let amount = state.withLockedValue { state in
            state.accounts[apiKey]?.positions.first { $0.symbol == symbol && $0.side == positionSide }?.amount ?? 0
        }
        guard amount != 0 else { return false }
        return trade(
            apiKey: apiKey, symbol: symbol, side: amount > 0 ? "SELL" : "BUY", quantity: abs(amount), price: nil,
            positionSide: positionSide, maker: false, forced: kind) != nil
    }

    /// A trade of the account; `context` names the triggered order it fills (default: a market
    /// or limit order of its own).
    @discardableResult
    func trade(
        apiKey: String, symbol: String, side: String, quantity: Double, price: Double?, positionSide: String?, maker: Bool,
        forced: SimulatedForcedClose? = nil, context: UserEventFrames.OrderContext? = nil
    ) -> (realizedProfit: Double, commission: Double)? {
        let now = clock()
        let outcome = state.withLockedValue { state -> (events: [(String, String)], rp: Double, fee: Double)? in
            guard var account = state.accounts[apiKey], quantity > 0 else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            let mark = state.market.price(symbol)
            let fillPrice = price ?? mark
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
                position.entryPrice = (abs(before) * position.entryPrice + quantity * fillPrice) / abs(after)
            } else {
                let closing = min(quantity, abs(before))
                realized = closing * (fillPrice - position.entryPrice) * (before > 0 ? 1 : -1)
                if after == 0 {
                    position.entryPrice = 0
                } else if (after > 0) != (before > 0) {
                    position.entryPrice = fillPrice
                }
            }
            position.amount = after
            position.updateTime = now
            let asset = symbol.hasSuffix("USDC") ? "USDC" : "USDT"
            let fee = quantity * fillPrice * (maker ? AccountBook.feeRate / 2 : AccountBook.feeRate)
            account.wallets[asset, default: 0] += realized - fee
            account.positions.removeAll { $0.symbol == symbol && $0.side == leg }
            if after != 0 || position.openOrderInitialMargin != 0 { account.positions.append(position) }
            state.accounts[apiKey] = account
            state.serial += 1
            let orderID = context?.orderID ?? 8_000_000_000 + state.serial
            let tradeID = 500_000_000 + state.serial
            if realized != 0 {
                state.recordIncome(apiKey, symbol, "REALIZED_PNL", realized, asset, now, tradeID: String(tradeID))
            }
            state.recordIncome(apiKey, symbol, "COMMISSION", -fee, asset, now, tradeID: String(tradeID))
            let fill = UserEventFrames.Fill(
                symbol: symbol, side: side, positionSide: leg, quantity: quantity, price: fillPrice,
                orderType: forced == .liquidation || forced == .adl ? "LIQUIDATION" : (maker ? "LIMIT" : "MARKET"),
                executionType: forced == .liquidation || forced == .adl ? "CALCULATED" : "TRADE",
                clientOrderID: context?.clientOrderID ?? forced?.clientOrderID(state.serial) ?? "sim-\(state.serial)", orderID: orderID,
                tradeID: tradeID, commission: fee, commissionAsset: asset, realizedProfit: realized, maker: maker, context: context)
            let book = AccountBook(account: account, market: state.market)
            let row = book.assets.first { $0.asset == asset } ?? AccountBook.AssetRow(asset: asset, wallet: 0)
            let legView = AccountBook.Leg(position: position, mark: mark, marginAsset: asset)
            let update = UserEventFrames.accountUpdate(
                reason: "ORDER",
                balances: [UserEventFrames.BalanceChange(asset: asset, wallet: row.wallet, crossWallet: row.crossWallet, change: 0)],
                positions: [legView], now: now)
            return ([("ORDER_TRADE_UPDATE", UserEventFrames.orderTradeUpdate(fill, now: now)), ("ACCOUNT_UPDATE", update)], realized, fee)
        }
        guard let outcome else { return nil }
        deliver(apiKey: apiKey, events: outcome.events.map { (type: $0.0, json: $0.1) })
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
        let outcome = state.withLockedValue { state -> (String, Double)? in
            guard var account = state.accounts[apiKey] else { return nil }
            let now = now + state.faults.clockSkewMilliseconds
            let legs = account.positions.filter { $0.symbol == symbol && $0.amount != 0 }
            guard !legs.isEmpty else { return nil }
            let mark = state.market.price(symbol)
            let amount = legs.reduce(0.0) { $0 - $1.amount * mark * rate }
            let asset = symbol.hasSuffix("USDC") ? "USDC" : "USDT"
            account.wallets[asset, default: 0] += amount
            state.accounts[apiKey] = account
            state.serial += 1
            state.recordIncome(apiKey, symbol, "FUNDING_FEE", amount, asset, now, tradeID: "")
            let book = AccountBook(account: account, market: state.market)
            let row = book.assets.first { $0.asset == asset } ?? AccountBook.AssetRow(asset: asset, wallet: 0)
            let isolated = book.legs.filter { $0.position.symbol == symbol && $0.position.isolated }
            let update = UserEventFrames.accountUpdate(
                reason: "FUNDING_FEE",
                balances: [UserEventFrames.BalanceChange(asset: asset, wallet: row.wallet, crossWallet: row.crossWallet, change: amount)],
                positions: isolated, fundingSymbol: namesSymbol ? symbol : nil, now: now)
            return (update, amount)
        }
        guard let outcome else { return nil }
        deliver(apiKey: apiKey, events: [(type: "ACCOUNT_UPDATE", json: outcome.0)])
        return outcome.1
    }

    /// A `MARGIN_CALL` for the account's open legs. False for an unknown account.
    @discardableResult
    public func marginCall(apiKey: String) -> Bool {
        let now = clock()
        let event = state.withLockedValue { state -> String? in
            guard let account = state.accounts[apiKey] else { return nil }
            let book = AccountBook(account: account, market: state.market)
            return UserEventFrames.marginCall(
                crossWallet: book.totals().crossWallet, legs: book.openRows(), now: now + state.faults.clockSkewMilliseconds)
        }
        guard let event else { return false }
        deliver(apiKey: apiKey, events: [(type: "MARGIN_CALL", json: event)])
        return true
    }

    /// Changes a symbol's leverage (`ACCOUNT_CONFIG_UPDATE` with `ac`).
    public func setLeverage(apiKey: String, symbol: String, leverage: Double) {
        let now = clock()
        let event = state.withLockedValue { state -> String? in
            guard var account = state.accounts[apiKey] else { return nil }
            for index in account.positions.indices where account.positions[index].symbol == symbol {
                account.positions[index].leverage = leverage
            }
            state.accounts[apiKey] = account
            return UserEventFrames.accountConfigUpdate(
                symbol: symbol, leverage: leverage, multiAssets: nil, now: now + state.faults.clockSkewMilliseconds)
        }
        if let event { deliver(apiKey: apiKey, events: [(type: "ACCOUNT_CONFIG_UPDATE", json: event)]) }
    }

    /// Switches multi-assets margin mode (`ACCOUNT_CONFIG_UPDATE` with `ai`).
    public func setMultiAssetsMode(apiKey: String, enabled: Bool) {
        let now = clock()
        let event = state.withLockedValue { state -> String? in
            guard state.accounts[apiKey] != nil else { return nil }
            state.accounts[apiKey]?.multiAssetsMargin = enabled
            return UserEventFrames.accountConfigUpdate(
                symbol: nil, leverage: nil, multiAssets: enabled, now: now + state.faults.clockSkewMilliseconds)
        }
        if let event { deliver(apiKey: apiKey, events: [(type: "ACCOUNT_CONFIG_UPDATE", json: event)]) }
    }

    /// The exchange's income ledger for `apiKey`, oldest first.
    public func incomeHistory(apiKey: String) -> [IncomeRecord] {
        state.withLockedValue { $0.income.filter { $0.apiKey == apiKey } }
    }
}

extension ExchangeState {
    mutating func recordIncome(
        _ apiKey: String, _ symbol: String, _ type: String, _ amount: Double, _ asset: String, _ time: Int64, tradeID: String
    ) {
        serial += 1
        income.append(
            IncomeRecord(
                apiKey: apiKey, symbol: symbol, type: type, amount: amount, asset: asset, time: time, tranID: 9_000_000_000 + serial,
                tradeID: tradeID))
        // A long demo keeps the last 100k entries (Binance keeps 3 months).
        if income.count > 100_000 { income.removeFirst(income.count - 100_000) }
    }
}
