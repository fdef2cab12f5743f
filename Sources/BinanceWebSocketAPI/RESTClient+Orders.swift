/// The two open-order lists of a futures venue: plain orders (`GET /fapi/v1/openOrders`) and
/// conditional orders of the Algo service (`GET /fapi/v1/openAlgoOrders`). Each costs weight 1
/// for one symbol and 40 for all; the caller chooses (and budgets) which.
extension BinanceRESTClient {
    /// Open plain orders, of `symbol` or (nil) of every symbol.
    public func openOrders(symbol: String?, offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<[OpenOrder]> {
        try await orderList(.plain, symbol: symbol, offsetMilliseconds: offsetMilliseconds) { (row) throws(DecodeError) in
            let stop = try row.optionalDecimal("stopPrice") ?? 0
            return OpenOrder(
                service: .plain, id: try row.int64("orderId"), symbol: try row.string("symbol"), side: try row.string("side"),
                positionSide: try row.optionalString("positionSide") ?? "BOTH", type: try row.string("type"),
                quantity: max(0, try row.decimal("origQty") - (try row.optionalDecimal("executedQty") ?? 0)),
                triggerPrice: stop > 0 ? stop : nil, reduceOnly: try row.optionalBool("reduceOnly") ?? false,
                closePosition: try row.optionalBool("closePosition") ?? false,
                updateTime: try row.firstInt64("updateTime", "time"))
        }
    }

    /// Open (untriggered) algo orders, of `symbol` or (nil) of every symbol.
    public func openAlgoOrders(symbol: String?, offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<[OpenOrder]> {
        try await orderList(.algo, symbol: symbol, offsetMilliseconds: offsetMilliseconds) { (row) throws(DecodeError) in
            let trigger = try row.optionalDecimal("triggerPrice") ?? 0
            return OpenOrder(
                service: .algo, id: try row.int64("algoId"), symbol: try row.string("symbol"), side: try row.string("side"),
                positionSide: try row.optionalString("positionSide") ?? "BOTH", type: try row.string("orderType"),
                quantity: try row.optionalDecimal("quantity") ?? 0, triggerPrice: trigger > 0 ? trigger : nil,
                reduceOnly: try row.optionalBool("reduceOnly") ?? false, closePosition: try row.optionalBool("closePosition") ?? false,
                updateTime: try row.firstInt64("updateTime", "createTime"))
        }
    }

    private func orderList(
        _ service: OrderService, symbol: String?, offsetMilliseconds: Int64, row decode: (FieldReader) throws(DecodeError) -> OpenOrder
    ) async throws(BinanceClientError) -> RESTResponse<[OpenOrder]> {
        guard let list = configuration.venue.rest.orderLists?.list(service) else {
            throw .api(
                APIError(
                    method: "open \(service.rawValue) orders", status: 404, code: 0, message: "the venue has no such list", retryAfter: nil,
                    rateLimit: nil))
        }
        let route = list.route(symbol: symbol)
        let answer = try await signedGet(
            configuration.futuresBase, route, symbol.map { [("symbol", $0)] } ?? [], offsetMilliseconds: offsetMilliseconds)
        let orders = try Self.decodeBody(route, answer) { (body) throws(DecodeError) in try FieldReader.elements(of: body, decode) }
        return RESTResponse(value: orders, usedWeight: Self.usedWeight(answer.headers))
    }
}

extension FieldReader {
    /// The first of `keys` present as a decimal, else 0.
    func firstDecimal(_ keys: String...) throws(DecodeError) -> Double {
        for key in keys {
            if let value = try optionalDecimal(key) { return value }
        }
        return 0
    }

    /// The first of `keys` present as an integer, else 0.
    func firstInt64(_ keys: String...) throws(DecodeError) -> Int64 {
        for key in keys {
            if let value = try optionalInt64(key) { return value }
        }
        return 0
    }
}
