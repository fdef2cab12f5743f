extension BinanceRESTClient {
    /// USD value of one contract per symbol, from the venue's unsigned `exchangeInfo` (COIN-M:
    /// `GET /dapi/v1/exchangeInfo`, weight 1); empty for a venue without contract sizes.
    public func contractSizes() async throws(BinanceClientError) -> RESTResponse<[String: Double]> {
        guard let route = configuration.venue.rest.exchangeInfo else { return RESTResponse(value: [:], usedWeight: nil) }
        let answer = try await HTTPSClient.get(
            configuration.futuresBase, pathAndQuery: route.path, headers: [], tlsCAFile: configuration.tlsCAFile,
            timeout: configuration.timeout, sourceAddress: configuration.sourceAddress)
        do {
            guard answer.status == 200 else { throw DecodeError(path: "status", problem: "HTTP \(answer.status)") }
            let info = try FieldReader(try JSONParser.parse(answer.body), path: "body")
            var sizes: [String: Double] = [:]
            for (index, element) in try info.array("symbols").enumerated() {
                let symbol = try FieldReader(element, path: "body.symbols[\(index)]")
                if let size = try symbol.optionalDecimal("contractSize"), size > 0 { sizes[try symbol.string("symbol")] = size }
            }
            return RESTResponse(value: sizes, usedWeight: Self.usedWeight(answer.headers))
        } catch let error as DecodeError {
            throw .decode(method: route.name, error)
        } catch {
            throw .decode(method: route.name, DecodeError(path: "body", problem: "not JSON"))
        }
    }
}
