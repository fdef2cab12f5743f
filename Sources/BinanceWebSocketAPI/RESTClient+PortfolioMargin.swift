import NIOHTTP1

/// papi's account reads (Portfolio Margin has no WebSocket API): the account, its balances, and
/// the UM and CM position lists. Every answer carries the papi window's `X-MBX-USED-WEIGHT-1M`.
extension BinanceRESTClient {
    private var papi: FuturesVenue.PortfolioMarginAPI {
        get throws(BinanceClientError) {
            guard let api = configuration.venue.portfolioMarginAPI else {
                throw .configuration("\(configuration.venue.id.rawValue) accounts are not read through papi")
            }
            return api
        }
    }

    /// `GET /papi/v1/account` (weight 20).
    public func portfolioMarginAccount(offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<PortfolioMarginAccount>
    {
        try await papiGet(try papi.account, offsetMilliseconds: offsetMilliseconds) { (body) throws(DecodeError) in
            try PortfolioMarginDecoding.account(try FieldReader(body, path: "body"))
        }
    }

    /// `GET /papi/v1/balance` (weight 20): every asset.
    public func portfolioMarginBalances(offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[PortfolioMarginBalance]>
    {
        try await papiGet(try papi.balance, offsetMilliseconds: offsetMilliseconds) { (body) throws(DecodeError) in
            try FieldReader.elements(of: body) { (row) throws(DecodeError) in try PortfolioMarginDecoding.balance(row) }
        }
    }

    /// `GET /papi/v1/um/positionRisk` (5) or `GET /papi/v1/cm/positionRisk` (1); CM rows are in
    /// contracts.
    public func portfolioMarginPositions(coinMargined: Bool, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[PositionDetail]>
    {
        let route = coinMargined ? try papi.cmPositions : try papi.umPositions
        return try await papiGet(route, offsetMilliseconds: offsetMilliseconds) { (body) throws(DecodeError) in
            var rows = try ResultDecoder.positions(body)
            for index in rows.indices { rows[index].inContracts = coinMargined }
            return rows
        }
    }

    /// The PM listen key: `POST` starts it (or returns the account's live one, extended),
    /// `PUT` keeps it alive for another 60 minutes, `DELETE` ends it. API key header only, no
    /// signature (the official SDK sends no parameters). Returns the key for `POST`.
    public func portfolioMarginListenKey(_ method: HTTPMethod) async throws(BinanceClientError) -> RESTResponse<String?> {
        let route = try papi.listenKey
        let answer = try await HTTPSClient.request(
            method, configuration.futuresBase, pathAndQuery: route.path, headers: [("X-MBX-APIKEY", credentials.apiKey)],
            tlsCAFile: configuration.tlsCAFile, timeout: configuration.timeout, sourceAddress: configuration.sourceAddress)
        guard answer.status == 200 else { throw .api(refusal(route, answer, offsetMilliseconds: 0)) }
        guard method == .POST else { return RESTResponse(value: nil, usedWeight: Self.usedWeight(answer.headers)) }
        let key = try Self.decodeBody(route, answer) { (body) throws(DecodeError) in
            try FieldReader(body, path: "body").string("listenKey")
        }
        return RESTResponse(value: key, usedWeight: Self.usedWeight(answer.headers))
    }

    private func papiGet<T: Sendable>(
        _ route: RESTRoute, offsetMilliseconds: Int64, decode: (JSONValue) throws(DecodeError) -> T
    ) async throws(BinanceClientError) -> RESTResponse<T> {
        let answer = try await signedGet(configuration.futuresBase, route, [], offsetMilliseconds: offsetMilliseconds)
        return RESTResponse(value: try Self.decodeBody(route, answer, decode), usedWeight: Self.usedWeight(answer.headers))
    }
}

/// Decoders of papi's answers (field names of the official PM SDK's models).
enum PortfolioMarginDecoding {
    static func account(_ r: FieldReader) throws(DecodeError) -> PortfolioMarginAccount {
        PortfolioMarginAccount(
            uniMMR: try r.decimal("uniMMR"), accountEquity: try r.decimal("accountEquity"),
            actualEquity: try r.firstDecimal("actualEquity", "accountEquity"),
            initialMargin: try r.decimal("accountInitialMargin"), maintMargin: try r.decimal("accountMaintMargin"),
            statusText: try r.string("accountStatus"), virtualMaxWithdrawAmount: try r.optionalDecimal("virtualMaxWithdrawAmount") ?? 0,
            totalAvailableBalance: try r.optionalDecimal("totalAvailableBalance") ?? 0,
            totalMarginOpenLoss: try r.optionalDecimal("totalMarginOpenLoss") ?? 0, updateTime: try r.optionalInt64("updateTime") ?? 0)
    }

    static func balance(_ r: FieldReader) throws(DecodeError) -> PortfolioMarginBalance {
        PortfolioMarginBalance(
            asset: try r.string("asset"), totalWalletBalance: try r.decimal("totalWalletBalance"),
            crossMarginFree: try r.optionalDecimal("crossMarginFree") ?? 0,
            crossMarginLocked: try r.optionalDecimal("crossMarginLocked") ?? 0,
            crossMarginBorrowed: try r.optionalDecimal("crossMarginBorrowed") ?? 0,
            crossMarginInterest: try r.optionalDecimal("crossMarginInterest") ?? 0,
            umWalletBalance: try r.optionalDecimal("umWalletBalance") ?? 0,
            umUnrealizedProfit: try r.optionalDecimal("umUnrealizedPNL") ?? 0,
            cmWalletBalance: try r.optionalDecimal("cmWalletBalance") ?? 0,
            cmUnrealizedProfit: try r.optionalDecimal("cmUnrealizedPNL") ?? 0,
            negativeBalance: try r.optionalDecimal("negativeBalance") ?? 0, updateTime: try r.optionalInt64("updateTime") ?? 0)
    }
}
