/// papi's lists: open orders and income, each split by side of the account (UM: USDⓈ-M
/// symbols, CM: COIN-M symbols), since one Portfolio Margin account holds both.
extension ExchangeSimulator {
    /// The rows of one of papi's four open-order lists, oldest first: plain orders (`um/openOrders`,
    /// `cm/openOrders`, which also takes `pair`) or conditional ones (`um/algo/openAlgoOrders`,
    /// optionally by `algoType` and `algoId`; `cm/conditional/openOrders`).
    static func portfolioMarginOpenOrders(_ book: [BookedOrder], path: String, market: Market, _ params: [String: String]) -> String {
        let coinM = path.hasPrefix("/papi/v1/cm/")
        let conditional = path.contains("/algo/") || path.contains("/conditional/")
        func text(_ name: String) -> String? { params[name].flatMap { $0.isEmpty ? nil : $0.uppercased() } }
        let symbol = text("symbol")
        let pair = coinM ? text("pair") : nil
        let algoID = params["algoId"].flatMap { Int64($0) }
        let algoType = text("algoType")
        let rows = book.filter { booked in
            let order = booked.order
            return (market.venue(of: order.symbol) == .coinM) == coinM && (order.service == .algo) == conditional
                && (symbol == nil || order.symbol == symbol) && (pair == nil || order.symbol.hasPrefix(pair! + "_"))
                && (algoID == nil || order.id == algoID) && (algoType == nil || algoType == "CONDITIONAL")
        }
        let row: (BookedOrder) -> String =
            switch (coinM, conditional) {
            case (false, false): OrderFrames.portfolioMarginUMOrderRow
            case (false, true): OrderFrames.portfolioMarginUMAlgoRow
            case (true, false): OrderFrames.portfolioMarginCMOrderRow
            case (true, true): OrderFrames.portfolioMarginCMConditionalRow
            }
        return JSONOut.array(rows.map(row))
    }

    /// `GET /papi/v1/um/income` and `/papi/v1/cm/income` (`GetUmIncomeHistoryResponseInner`,
    /// `GetCmIncomeHistoryResponseInner`): the account's ledger on the USDⓈ-M or the COIN-M side
    /// (by the record's symbol), optionally by `symbol` and `incomeType`. Without a time range:
    /// the last 7 days (UM) or 200 days (CM), as the SDK's docstrings say. `tranId` is a string.
    static func portfolioMarginIncome(state: ExchangeState, accountID: String, coinM: Bool, params: [String: String], now: Int64)
        -> String
    {
        let days: Int64 = coinM ? 200 : 7
        let start = params["startTime"].flatMap { Int64($0) } ?? (now - days * 86_400_000)
        let end = params["endTime"].flatMap { Int64($0) } ?? now
        let limit = min(1000, max(1, params["limit"].flatMap { Int($0) } ?? 100))
        let symbol = params["symbol"].flatMap { $0.isEmpty ? nil : $0.uppercased() }
        let type = params["incomeType"].flatMap { $0.isEmpty ? nil : $0 }
        let rows = state.income.filter { record in
            record.accountID == accountID && record.time >= start && record.time <= end
                && (state.market.venue(of: record.symbol) == .coinM) == coinM && (symbol == nil || record.symbol == symbol)
                && (type == nil || record.type == type)
        }
        .sorted { ($0.time, $0.tranID) < ($1.time, $1.tranID) }.prefix(limit)
        return JSONOut.array(
            rows.map { record in
                var out = JSONOut()
                out.string("symbol", record.symbol)
                out.string("incomeType", record.type)
                out.dec("income", record.amount)
                out.string("asset", record.asset)
                out.string("info", record.type)
                out.int("time", record.time)
                out.string("tranId", String(record.tranID))
                out.string("tradeId", record.tradeID)
                return out.finished()
            })
    }
}
