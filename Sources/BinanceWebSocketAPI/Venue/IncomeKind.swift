/// The income types the exporter counts, as Binance names them in the income ledger
/// (`incomeType` of `GET /fapi/v1/income`) and in the `m` reason of an `ACCOUNT_UPDATE`. Other
/// types (`TRANSFER`, `INSURANCE_CLEAR`, …) move money too but are not trading income, so they
/// have no case: callers match on a closed set instead of comparing strings.
public enum IncomeKind: String, Sendable, Hashable, CaseIterable {
    case realizedPnL = "REALIZED_PNL"
    case commission = "COMMISSION"
    case fundingFee = "FUNDING_FEE"

    /// The kind Binance means by `type`; nil for a type the exporter does not count.
    public init?(binanceType type: String) { self.init(rawValue: type) }

    /// Binance's spelling.
    public var binanceType: String { rawValue }
}

extension IncomeEntry {
    /// `incomeType` as a kind; nil for types the exporter does not count.
    public var kind: IncomeKind? { IncomeKind(binanceType: incomeType) }
}

extension AccountUpdate {
    /// The income kind this update reports, when its reason (`m`) is one: `FUNDING_FEE` for a
    /// funding payment.
    public var incomeKind: IncomeKind? { IncomeKind(binanceType: reason) }
}
