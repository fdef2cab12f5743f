import NIOHTTP1

/// papi, the Portfolio Margin REST API, on the same port as fapi and dapi and with the same
/// signed-request rules (`X-MBX-APIKEY`, the signature over the query as sent, the timestamp
/// window, `X-MBX-USED-WEIGHT-1M` on every answer, 429 then 418 with `Retry-After`), counted in
/// the window `SimulatorConfiguration.papiSharesIPWeight` picks. Only a Portfolio Margin
/// account's key is served (−2015 for any other), as Binance keeps keys and products apart.
extension ExchangeSimulator {
    /// Weights from the PM SDK's docstrings.
    static let papiWeights: [String: Int64] = [
        "/papi/v1/account": 20, "/papi/v1/balance": 20, "/papi/v1/um/positionRisk": 5, "/papi/v1/cm/positionRisk": 1,
        "/papi/v1/um/income": 30, "/papi/v1/cm/income": 30, "/papi/v1/ping": 1,
    ]

    /// The open-order lists: weight 1 with `symbol`, 40 without.
    static let papiOrderPaths: Set<String> = [
        "/papi/v1/um/openOrders", "/papi/v1/um/algo/openAlgoOrders", "/papi/v1/cm/openOrders", "/papi/v1/cm/conditional/openOrders",
    ]

    static let papiListenKeyPath = "/papi/v1/listenKey"

    /// The weight of a papi request; nil for a path or method papi does not have.
    static func papiWeight(method: HTTPMethod, path: String, parameters: [String: String]) -> Int64? {
        if path == papiListenKeyPath { return [.POST, .PUT, .DELETE].contains(method) ? 1 : nil }
        guard method == .GET else { return nil }
        if papiOrderPaths.contains(path) { return (parameters["symbol"] ?? "").isEmpty ? 40 : 1 }
        return papiWeights[path]
    }

    /// Answers a request whose path starts with `/papi/`, under the state lock.
    func handlePortfolioMarginREST(
        method: HTTPMethod, path: String, query: String, headers: HTTPHeaders, state: inout ExchangeState, now: Int64
    ) -> RESTAnswer {
        let shared = configuration.papiSharesIPWeight
        func answer(_ status: Int, _ body: String, retryAfter: Int64? = nil) -> RESTAnswer {
            var answer = RESTAnswer(status: status, body: body)
            answer.headers.append(("X-MBX-USED-WEIGHT-1M", String(state.papiCount(shared: shared, now: now))))
            if let retryAfter { answer.headers.append(("Retry-After", String(max(1, (retryAfter - now + 999) / 1000)))) }
            return answer
        }
        func error(_ status: Int, _ code: Int, _ message: String, retryAfter: Int64? = nil) -> RESTAnswer {
            answer(status, "{\"code\":\(code),\"msg\":\(JSONOut.quote(message))}", retryAfter: retryAfter)
        }
        state.stats.restRequestsByPath[path, default: 0] += 1
        if let ban = state.papiBan(shared: shared, now: now, banMilliseconds: configuration.banMilliseconds) {
            return error(ban.status, -1003, ban.message, retryAfter: ban.until)
        }
        guard let weight = Self.papiWeight(method: method, path: path, parameters: Self.queryParameters(query)) else {
            return error(404, -1, "Not found.")
        }
        let limit = shared ? configuration.weightLimit : configuration.papiWeightLimit
        if let refusal = state.chargePapi(weight, shared: shared, limit: limit, now: now) {
            return error(refusal.status, -1003, refusal.message, retryAfter: refusal.until)
        }
        state.stats.restWeightByPath[path, default: 0] += weight
        if path == "/papi/v1/ping" { return answer(200, "{}") }

        let key = headers.first(name: "X-MBX-APIKEY") ?? ""
        let accountID = SimulatedVenue.portfolioMargin.accountID(key)
        guard let account = state.account(key, on: .portfolioMargin), !account.revoked else {
            return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        }
        // USER_STREAM: the API key alone, no timestamp or signature.
        if path == Self.papiListenKeyPath {
            let (status, body) = portfolioMarginListenKey(method: method, accountID: accountID, state: &state, now: now)
            return answer(status, body)
        }
        let params: [String: String]
        do throws(RESTRefusal) {
            params = try signedParameters(query, key: account.key, stats: &state.stats, now: now)
        } catch let refusal {
            return error(refusal.status, refusal.code, refusal.message)
        }
        state.stats.recordAccountRequest(apiKey: accountID, at: now - state.faults.clockSkewMilliseconds)
        func text(_ name: String) -> String? { params[name].flatMap { $0.isEmpty ? nil : $0.uppercased() } }
        // The UM paths take USDⓈ-M symbols, the CM paths COIN-M ones.
        let coinM = path.hasPrefix("/papi/v1/cm/")
        if let symbol = text("symbol"), state.market.markPrices[symbol] == nil || state.market.venue(of: symbol) != (coinM ? .coinM : .usdM)
        {
            return error(400, -1121, "Invalid symbol.")
        }
        if Self.papiOrderPaths.contains(path) {
            // A key that may not read is refused like an unknown one.
            guard account.restrictions.flags["enableReading"] == true else {
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            }
            return answer(200, Self.portfolioMarginOpenOrders(state.orders[accountID] ?? [], path: path, market: state.market, params))
        }
        let book = AccountBook(account: account, market: state.market)
        switch path {
        case "/papi/v1/account": return answer(200, book.portfolioMarginAccountJSON(now: now))
        case "/papi/v1/balance": return answer(200, book.portfolioMarginBalanceJSON(asset: text("asset"), now: now))
        case "/papi/v1/um/positionRisk": return answer(200, book.umPositionRiskJSON(symbol: text("symbol")))
        case "/papi/v1/cm/positionRisk": return answer(200, book.cmPositionRiskJSON(marginAsset: text("marginAsset"), pair: text("pair")))
        default: return answer(200, Self.portfolioMarginIncome(state: state, accountID: accountID, coinM: coinM, params: params, now: now))
        }
    }

    /// `POST` (start, or extend and return the live key), `PUT` (keepalive; the SDK sends no
    /// `listenKey`, so the account's key is extended) and `DELETE` of `/papi/v1/listenKey`.
    private func portfolioMarginListenKey(
        method: HTTPMethod, accountID: String, state: inout ExchangeState, now: Int64
    ) -> (status: Int, body: String) {
        let validity = configuration.listenKeyValidityMilliseconds
        let live = state.listenKeys[accountID].flatMap { $0.expiresAt > now ? $0 : nil }
        switch method {
        case .POST:
            let key = live?.key ?? ExchangeRules.newListenKey()
            state.listenKeys[accountID] = ListenKeyState(key: key, expiresAt: now + validity)
            state.stats.listenKeysIssued += live == nil ? 1 : 0
            return (200, "{\"listenKey\":\(JSONOut.quote(key))}")
        case .PUT:
            guard live != nil else { return (400, "{\"code\":-1125,\"msg\":\"This listenKey does not exist.\"}") }
            state.listenKeys[accountID]?.expiresAt = now + validity
            state.stats.listenKeyPings += 1
            return (200, "{}")
        default:
            state.listenKeys.removeValue(forKey: accountID)
            return (200, "{}")
        }
    }
}
