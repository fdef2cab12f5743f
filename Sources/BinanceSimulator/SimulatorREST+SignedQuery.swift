import Foundation

/// Why the simulator refuses a REST request: the HTTP status, Binance's code and its message.
struct RESTRefusal: Error {
    var status: Int
    var code: Int
    var message: String
}

/// The checks of a signed REST request, the same on fapi, dapi, sapi and papi, kept in one
/// place so that the venues cannot come to disagree on Binance's signing rules.
extension ExchangeSimulator {
    /// The parameters of a signed query once its signature (over the query as sent, up to
    /// `signature=`) checks out against `key` and its `timestamp` is inside `recvWindow`
    /// (default 5000 ms, at most 1000 ms ahead); the failures are counted in `stats`.
    func signedParameters(_ query: String, key: SimulatedKey, stats: inout SimulatorStats, now: Int64) throws(RESTRefusal) -> [String:
        String]
    {
        guard let range = query.range(of: "&signature=") ?? query.range(of: "signature=") else {
            throw RESTRefusal(
                status: 400, code: -1102, message: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        }
        let payload = range.lowerBound == query.startIndex ? "" : String(query[..<range.lowerBound])
        let signature = String(query[range.upperBound...]).removingPercentEncoding ?? ""
        guard rules.verify(signature: signature, payload: payload, key: key) else {
            stats.signatureFailures += 1
            throw RESTRefusal(status: 400, code: -1022, message: "Signature for this request is not valid.")
        }
        let params = Self.queryParameters(payload)
        guard let timestamp = params["timestamp"].flatMap({ Int64($0) }) else {
            throw RESTRefusal(
                status: 400, code: -1102, message: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        }
        let recvWindow = params["recvWindow"].flatMap { Int64($0) } ?? 5000
        if timestamp >= now + 1000 || now - timestamp > recvWindow {
            stats.timestampFailures += 1
            throw RESTRefusal(status: 400, code: -1021, message: "Timestamp for this request is outside of the recvWindow.")
        }
        return params
    }
}
