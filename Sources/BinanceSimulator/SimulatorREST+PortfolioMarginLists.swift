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
            case (false, false): { OrderFrames.openOrderRow($0, shape: .portfolioMarginUM) }
            case (false, true): { OrderFrames.openAlgoOrderRow($0, shape: .portfolioMarginUM) }
            case (true, false): { OrderFrames.openOrderRow($0, shape: .portfolioMarginCM) }
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
        let query = IncomeQuery(params, now: now, days: coinM ? 200 : 7)
        let rows = query.select(state.income, accountID: accountID) { (state.market.venue(of: $0.symbol) == .coinM) == coinM }
        return JSONOut.array(rows.map { Self.incomeJSON($0, tranIDAsString: true) })
    }
}
