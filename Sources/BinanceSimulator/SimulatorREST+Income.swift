/// The income ledger as fapi, dapi and papi list it: the venues differ only in which records
/// they keep and in how `tranId` is typed, so one selection and one row writer serve them all.
extension ExchangeSimulator {
    /// The request's income filters: a time range (default: the last `days` days up to now),
    /// `limit` (default 100, 1 to 1000), and the optional `symbol` and `incomeType`.
    struct IncomeQuery {
        var start: Int64
        var end: Int64
        var limit: Int
        var symbol: String?
        var type: String?

        init(_ params: [String: String], now: Int64, days: Int64 = 7) {
            start = params["startTime"].flatMap { Int64($0) } ?? (now - days * 86_400_000)
            end = params["endTime"].flatMap { Int64($0) } ?? now
            limit = min(1000, max(1, params["limit"].flatMap { Int($0) } ?? 100))
            symbol = params["symbol"].flatMap { $0.isEmpty ? nil : $0.uppercased() }
            type = params["incomeType"].flatMap { $0.isEmpty ? nil : $0 }
        }

        /// The account's records in the range, of `symbol` and `incomeType` when given, that
        /// `include` keeps; oldest first, at most `limit`.
        func select(
            _ records: [IncomeRecord], accountID: String, include: (IncomeRecord) -> Bool = { _ in true }
        ) -> ArraySlice<IncomeRecord> {
            records.filter { record in
                record.accountID == accountID && record.time >= start && record.time <= end
                    && (symbol == nil || record.symbol == symbol) && (type == nil || record.type == type) && include(record)
            }
            .sorted { ($0.time, $0.tranID) < ($1.time, $1.tranID) }.prefix(limit)
        }
    }

    /// One income row; `tranId` is a number in the USDⓈ-M SDK's model and a string in the
    /// COIN-M and Portfolio Margin SDKs'.
    static func incomeJSON(_ record: IncomeRecord, tranIDAsString: Bool = false) -> String {
        var out = JSONOut()
        out.string("symbol", record.symbol)
        out.string("incomeType", record.type)
        out.dec("income", record.amount)
        out.string("asset", record.asset)
        out.string("info", record.type)
        out.int("time", record.time)
        if tranIDAsString { out.string("tranId", String(record.tranID)) } else { out.int("tranId", record.tranID) }
        out.string("tradeId", record.tradeID)
        return out.finished()
    }
}
