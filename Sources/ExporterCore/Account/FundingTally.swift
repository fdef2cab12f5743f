/// The dedupe rule for funding payments between the user data stream and the REST income ledger.
///
/// A payment is identified by what both sources always carry: its asset, its time (`T` of the
/// FUNDING_FEE `ACCOUNT_UPDATE`, `time` of the ledger row) and its amount (`bc`, `income`). The
/// symbol cannot be part of it: Binance pushes a crossed position's funding with the balance
/// only. Two payments may share all three (two symbols paying the same amount at the same
/// funding time), so each source's occurrences are counted, and a payment counts when one
/// source has seen it more often than the other: the total is the larger of the two tallies,
/// whichever source reports first. Ledger rows are told apart by their transaction id, so an
/// overlapping backfill window does not count a row twice.
struct FundingTally: Sendable {
    struct Payment: Hashable, Sendable {
        var asset: String
        var time: Int64
        var amount: Double
    }

    private var fromStream: [Payment: Int] = [:]
    private var fromLedger: [Payment: Int] = [:]
    private var order: [Payment] = []
    private var ledgerRows: RecentSet<Int64>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.ledgerRows = RecentSet(capacity: capacity)
    }

    /// The stream reported `payment`; true when it was not counted yet.
    mutating func streamEvent(_ payment: Payment) -> Bool {
        remember(payment)
        fromStream[payment, default: 0] += 1
        return fromStream[payment, default: 0] > fromLedger[payment, default: 0]
    }

    /// A ledger row reported `payment`; true when it was not counted yet. A row seen before (same
    /// transaction id) is never counted again.
    mutating func ledgerRow(_ payment: Payment, transactionID: Int64) -> Bool {
        guard ledgerRows.insert(transactionID) else { return false }
        remember(payment)
        fromLedger[payment, default: 0] += 1
        return fromLedger[payment, default: 0] > fromStream[payment, default: 0]
    }

    private mutating func remember(_ payment: Payment) {
        guard fromStream[payment] == nil, fromLedger[payment] == nil else { return }
        order.append(payment)
        if order.count > capacity {
            let oldest = order.removeFirst()
            fromStream.removeValue(forKey: oldest)
            fromLedger.removeValue(forKey: oldest)
        }
    }
}
