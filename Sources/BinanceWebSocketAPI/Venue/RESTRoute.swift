/// One REST read (`GET`): its path and the request weight Binance documents for one call. The
/// caller budgets with the weight before sending (the REST client never retries by itself), so
/// the weight lives next to the path it prices.
public struct RESTRoute: Sendable, Hashable {
    public var path: String
    /// Documented request weight of one call (one page, for paged endpoints).
    public var weight: Int64

    public init(path: String, weight: Int64) {
        self.path = path
        self.weight = weight
    }

    /// `GET /fapi/v1/income`: how errors and logs name the call.
    public var name: String { "GET \(path)" }
}
