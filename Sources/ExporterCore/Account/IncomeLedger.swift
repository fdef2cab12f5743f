import BinanceWebSocketAPI
import Logging

/// Binance's income ledger (the venue's income route: `GET /fapi/v1/income`, weight 30 per page
/// on USDⓈ-M) for the windows the user data stream missed. Every page is admitted by the weight scheduler first, its
/// `X-MBX-USED-WEIGHT-1M` feeds the scheduler like `rateLimits` do, and 429/418 pause every
/// request of the IP, WebSocket ones included.
public struct IncomeLedger: Sendable {
    public let client: any AccountREST
    public let scheduler: WeightScheduler

    public init(client: any AccountREST, scheduler: WeightScheduler) {
        self.client = client
        self.scheduler = scheduler
    }

    public enum Outcome: Sendable {
        case rows([IncomeEntry], weightSpent: Int64)
        /// Not now (scheduler deferral, transport error, 5xx): retry later.
        case retryLater(String, weightSpent: Int64)
        /// Binance refused for a reason retrying cannot fix (no permission, bad key).
        case refused(String, weightSpent: Int64)
    }

    /// Weight of one page, as the venue documents it.
    public var pageWeight: Int64 { client.venue.rest.income.weight }

    /// Every row with `start ≤ time ≤ end` (exchange ms), paging by time.
    public func fetch(from start: Int64, to end: Int64) async -> Outcome {
        let pageSize = client.venue.rest.incomePageSize
        var rows: [IncomeEntry] = []
        var spent: Int64 = 0
        var pageStart = start
        for _ in 0..<100 {
            if case .deferred(let why, _) = await scheduler.admit(weight: pageWeight) {
                return .retryLater("deferred by the weight scheduler (\(why.rawValue))", weightSpent: spent)
            }
            do {
                let page = try await client.income(
                    startTime: pageStart, endTime: end, limit: pageSize, offsetMilliseconds: await scheduler.clockOffsetMilliseconds)
                spent += pageWeight
                if let used = page.usedWeight { await scheduler.observe(usedWeight: used) }
                rows += page.value
                // A full page may stop in the middle of a millisecond: the next one starts at
                // that millisecond, and the rows seen twice are dropped by transaction id.
                guard page.value.count >= pageSize, let last = page.value.last?.time, last > pageStart else { break }
                pageStart = last
            } catch {
                if await scheduler.absorb(error) { return .retryLater("\(error)", weightSpent: spent) }
                if case .api(let apiError) = error {
                    spent += pageWeight
                    if let used = apiError.rateLimit?.count { await scheduler.observe(usedWeight: used) }
                    if apiError.isCredentialProblem || apiError.status == 404 {
                        return .refused("\(apiError)", weightSpent: spent)
                    }
                }
                return .retryLater("\(error)", weightSpent: spent)
            }
        }
        var seen = Set<Int64>()
        return .rows(rows.filter { seen.insert($0.tranID).inserted }, weightSpent: spent)
    }
}
