import Foundation
import NIOHTTP1

/// What an API key may do, as `GET /sapi/v1/account/apiRestrictions` reports it.
public struct SimulatedRestrictions: Sendable, Equatable {
    public var ipRestrict = true
    /// Flags by Binance's JSON names (`enableReading`, `enableWithdrawals`, …).
    public var flags: [String: Bool] = [
        "enableReading": true, "enableFutures": false, "enableWithdrawals": false, "enableInternalTransfer": false,
        "permitsUniversalTransfer": false, "enableSpotAndMarginTrading": false, "enableMargin": false, "enableVanillaOptions": false,
        "enablePortfolioMarginTrading": false, "enableFixApiTrade": false, "enableFixReadOnly": false,
    ]

    public init() {}
}

/// A REST answer of the simulator.
struct RESTAnswer {
    var status: Int
    var headers: [(String, String)] = []
    var body: String
}

/// The signed REST endpoints the exporter uses, with Binance's rules: `X-MBX-APIKEY`, the
/// signature over the query string as sent, the timestamp window, weight in the same per-IP
/// window as the WebSocket API, `X-MBX-USED-WEIGHT-1M` on every answer, 429 then 418 with
/// `Retry-After`.
extension ExchangeSimulator {
    static let restWeights: [String: Int64] = [
        "/fapi/v1/income": 30, "/sapi/v1/account/apiRestrictions": 1, "/fapi/v1/time": 1, "/fapi/v1/leverageBracket": 1,
        // dapi (the COIN-M SDK's docstrings), in the same per-IP window since the integration.
        "/dapi/v1/income": 20, "/dapi/v2/leverageBracket": 1, "/dapi/v1/exchangeInfo": 1, "/dapi/v1/time": 1,
    ]

    /// The open-order lists: weight 1 with `symbol`, 40 without (the SDKs' docstrings).
    static let orderPaths: Set<String> = ["/fapi/v1/openOrders", "/fapi/v1/openAlgoOrders", "/dapi/v1/openOrders"]

    /// Answered without a key or signature.
    static let publicPaths: Set<String> = ["/fapi/v1/time", "/dapi/v1/time", "/dapi/v1/exchangeInfo"]

    /// The weight of a request to `path` with these query parameters; nil for an unknown path.
    static func restWeight(path: String, parameters: [String: String]) -> Int64? {
        if orderPaths.contains(path) { return (parameters["symbol"] ?? "").isEmpty ? 40 : 1 }
        return restWeights[path]
    }

    static func queryParameters(_ query: some StringProtocol) -> [String: String] {
        var params: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            params[String(parts[0])] = parts.count > 1 ? String(parts[1]).removingPercentEncoding : ""
        }
        return params
    }

    /// Nil when `uri` is not a REST path (the caller answers it as a failed handshake).
    func handleREST(method: HTTPMethod, uri: String, headers: HTTPHeaders) -> RESTAnswer? {
        let path = String(uri.prefix { $0 != "?" })
        guard
            path.hasPrefix("/fapi/") || path.hasPrefix("/dapi/") || path.hasPrefix("/sapi/") || path.hasPrefix("/api/")
                || path.hasPrefix("/papi/")
        else {
            return nil
        }
        // dapi serves COIN-M accounts, fapi and sapi USDⓈ-M ones (sapi: the key's).
        let venue: SimulatedVenue = path.hasPrefix("/dapi/") ? .coinM : .usdM
        let query = uri.contains("?") ? String(uri[uri.index(after: uri.firstIndex(of: "?")!)...]) : ""
        let localNow = clock()
        if path.hasPrefix("/papi/") {
            return state.withLockedValue { state in
                handlePortfolioMarginREST(
                    method: method, path: path, query: query, headers: headers, state: &state,
                    now: localNow + state.faults.clockSkewMilliseconds)
            }
        }
        return state.withLockedValue { state -> RESTAnswer in
            let now = localNow + state.faults.clockSkewMilliseconds
            func error(_ status: Int, _ code: Int, _ message: String, retryAfter: Int64? = nil) -> RESTAnswer {
                var answer = RESTAnswer(status: status, body: "{\"code\":\(code),\"msg\":\(JSONOut.quote(message))}")
                answer.headers.append(("X-MBX-USED-WEIGHT-1M", String(state.count)))
                if let retryAfter { answer.headers.append(("Retry-After", String(max(1, (retryAfter - now + 999) / 1000)))) }
                return answer
            }
            state.stats.restRequestsByPath[path, default: 0] += 1
            if state.bannedUntil > now {
                state.stats.answered418 += 1
                return error(418, -1003, "Way too many requests; IP banned until \(state.bannedUntil).", retryAfter: state.bannedUntil)
            }
            if state.rateLimitedUntil > now {
                state.bans += 1
                state.bannedUntil = now + configuration.banMilliseconds << Int64(min(state.bans - 1, 10))
                state.stats.answered418 += 1
                return error(418, -1003, "Way too many requests; IP banned until \(state.bannedUntil).", retryAfter: state.bannedUntil)
            }
            guard method == .GET, let weight = Self.restWeight(path: path, parameters: Self.queryParameters(query)),
                path.hasPrefix("/fapi/") || path.hasPrefix("/dapi/") || configuration.serveSpotAPI,
                !(state.faults.openOrdersNotFound && Self.orderPaths.contains(path))
            else {
                return error(404, -1, "Not found.")
            }
            state.roll(to: now)
            if state.count + weight > configuration.weightLimit {
                state.rateLimitedUntil = (state.minute + 1) * 60_000
                state.stats.answered429 += 1
                return error(
                    429, -1003, "Too many requests; current limit is \(configuration.weightLimit) requests per minute.",
                    retryAfter: state.rateLimitedUntil)
            }
            state.charge(weight, now: now, ownClient: true)
            state.stats.restWeightByPath[path, default: 0] += weight
            if Self.publicPaths.contains(path) {
                let body = path == "/dapi/v1/exchangeInfo" ? coinMExchangeInfo(state: state, now: now) : "{\"serverTime\":\(now)}"
                return RESTAnswer(status: 200, headers: [("X-MBX-USED-WEIGHT-1M", String(state.count))], body: body)
            }
            // sapi is about the key, whichever venue its account is on.
            let key = headers.first(name: "X-MBX-APIKEY") ?? ""
            let apiKey = path.hasPrefix("/sapi/") ? state.accountID(key, nil) : venue.accountID(key)
            // fapi and dapi refuse a Portfolio Margin key (`account(_:on:)`); sapi serves any key.
            let found = path.hasPrefix("/sapi/") ? state.accounts[apiKey] : state.account(key, on: venue)
            guard let account = found, !account.revoked else {
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            }
            let params: [String: String]
            do throws(RESTRefusal) {
                params = try signedParameters(query, key: account.key, stats: &state.stats, now: now)
            } catch let refusal {
                return error(refusal.status, refusal.code, refusal.message)
            }
            var answer: RESTAnswer
            if Self.orderPaths.contains(path) {
                // A key that may not read (a trading-only or a stripped key) is refused like an unknown one.
                guard account.restrictions.flags["enableReading"] == true else {
                    return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
                }
                let symbol = params["symbol"].flatMap { $0.isEmpty ? nil : $0.uppercased() }
                if let symbol, state.market.markPrices[symbol] == nil || state.market.venue(of: symbol) != venue {
                    return error(400, -1121, "Invalid symbol.")
                }
                answer = RESTAnswer(status: 200, body: Self.openOrdersJSON(state.orders[apiKey] ?? [], path: path, symbol: symbol, params))
                answer.headers.append(("X-MBX-USED-WEIGHT-1M", String(state.count)))
                return answer
            }
            switch path {
            case "/dapi/v1/income":
                answer = RESTAnswer(status: 200, body: coinMIncome(state: state, accountID: apiKey, params: params, now: now))
            case "/dapi/v2/leverageBracket":
                let symbol = params["symbol"].flatMap { $0.isEmpty ? nil : $0.uppercased() }
                if let symbol, state.market.coinMContract(symbol) == nil { return error(400, -1121, "Invalid symbol.") }
                answer = RESTAnswer(status: 200, body: Self.coinMBrackets(state.market, symbol: symbol))
            case "/fapi/v1/income":
                // fapi lists by time alone: the exporter sends it no `symbol` or `incomeType`.
                var query = IncomeQuery(params, now: now)
                query.symbol = nil
                query.type = nil
                let rows = query.select(state.income, accountID: apiKey)
                answer = RESTAnswer(status: 200, body: JSONOut.array(rows.map { Self.incomeJSON($0) }))
            case "/fapi/v1/leverageBracket":
                // One tier per symbol: the flat rate `AccountBook` values positions with, so a
                // client that recomputes from brackets agrees with account.status exactly.
                let rows = state.market.symbols.map { symbol -> String in
                    var tier = JSONOut()
                    tier.int("bracket", 1)
                    tier.int("initialLeverage", 125)
                    tier.int("notionalCap", 1_000_000_000)
                    tier.int("notionalFloor", 0)
                    tier.raw("maintMarginRatio", "0.005")
                    tier.int("cum", 0)
                    var out = JSONOut()
                    out.string("symbol", symbol)
                    out.raw("notionalCoef", "1.0")
                    out.raw("brackets", JSONOut.array([tier.finished()]))
                    return out.finished()
                }
                answer = RESTAnswer(status: 200, body: JSONOut.array(rows))
            default:
                var out = JSONOut()
                out.bool("ipRestrict", account.restrictions.ipRestrict)
                out.int("createTime", 1_700_000_000_000)
                for key in account.restrictions.flags.keys.sorted() { out.bool(key, account.restrictions.flags[key]!) }
                out.int("tradingAuthorityExpirationTime", 0)
                answer = RESTAnswer(status: 200, body: out.finished())
                answer.headers.append(("X-SAPI-USED-IP-WEIGHT-1M", String(state.count)))
            }
            answer.headers.append(("X-MBX-USED-WEIGHT-1M", String(state.count)))
            return answer
        }
    }

    /// The rows of `openOrders` (plain) or `openAlgoOrders` (algo, optionally by `algoType` and
    /// `algoId`), of one symbol or all, oldest first.
    static func openOrdersJSON(_ book: [BookedOrder], path: String, symbol: String?, _ params: [String: String]) -> String {
        let algo = path == "/fapi/v1/openAlgoOrders"
        let coinM = path.hasPrefix("/dapi/")
        let algoID = params["algoId"].flatMap { Int64($0) }
        let algoType = params["algoType"].flatMap { $0.isEmpty ? nil : $0 }
        // dapi also takes `pair` (every contract of the pair).
        let pair = coinM ? params["pair"].flatMap { $0.isEmpty ? nil : $0.uppercased() } : nil
        let rows = book.filter { booked in
            booked.order.service == (algo ? .algo : .plain) && (symbol == nil || booked.order.symbol == symbol)
                && (pair == nil || booked.order.symbol.hasPrefix(pair! + "_"))
                && (!algo || ((algoID == nil || booked.order.id == algoID) && (algoType == nil || algoType == "CONDITIONAL")))
        }
        let shape: OrderFrames.RowShape = coinM ? .coinM : .usdM
        return JSONOut.array(
            rows.map { algo ? OrderFrames.openAlgoOrderRow($0, shape: shape) : OrderFrames.openOrderRow($0, shape: shape) })
    }
}
