import NIOHTTP1

/// Where the signed REST calls go and how.
public struct RESTConfiguration: Sendable {
    /// Futures REST (`--binance.rest-url`), the host of `venue.rest`'s paths.
    public var futuresBase: HTTPBaseURL
    /// Spot REST (`--binance.spot-rest-url`), the host of `spot`'s paths (API key permissions).
    public var spotBase: HTTPBaseURL
    /// The futures venue whose paths, weights and page size the client uses.
    public var venue: FuturesVenue = .usdM
    /// The spot API's paths.
    public var spot: SpotAPI = .binance
    public var tlsCAFile: String?
    /// Local address the requests leave from (`--binance.source-address`).
    public var sourceAddress: String?
    public var timeout: Duration = .seconds(10)
    public var recvWindow: Int64 = 5000
    /// As on the WebSocket API: a timestamp in the future has 1 s of slack, one in the past has
    /// `recvWindow`.
    public var timestampBiasMilliseconds: Int64 = 100

    public init(futuresBase: HTTPBaseURL, spotBase: HTTPBaseURL) {
        self.futuresBase = futuresBase
        self.spotBase = spotBase
    }
}

/// A REST answer with the IP-wide weight Binance reported in its headers.
public struct RESTResponse<Value: Sendable>: Sendable {
    public var value: Value
    /// `X-MBX-USED-WEIGHT-1M`: the IP's USDⓈ-M weight this minute (futures endpoints only).
    public var usedWeight: Int64?
}

/// One row of the income ledger (`GET /fapi/v1/income` on USDⓈ-M).
public struct IncomeEntry: Sendable, Equatable {
    public var symbol: String
    /// `REALIZED_PNL`, `COMMISSION`, `FUNDING_FEE`, `TRANSFER`, …; `kind` for the ones the
    /// exporter counts.
    public var incomeType: String
    public var income: Double
    public var asset: String
    public var time: Int64
    public var tranID: Int64
    /// The trade a REALIZED_PNL or COMMISSION entry belongs to; empty otherwise.
    public var tradeID: String
}

/// One maintenance-margin tier of a symbol (`GET /fapi/v1/leverageBracket` on USDⓈ-M).
public struct LeverageBracket: Sendable, Equatable {
    public var notionalFloor: Double
    public var notionalCap: Double
    public var maintMarginRatio: Double
    /// Binance's cumulative amount: maintenance margin = |notional| × ratio − cum.
    public var cum: Double
    public var initialLeverage: Double

    public init(notionalFloor: Double, notionalCap: Double, maintMarginRatio: Double, cum: Double, initialLeverage: Double) {
        self.notionalFloor = notionalFloor
        self.notionalCap = notionalCap
        self.maintMarginRatio = maintMarginRatio
        self.cum = cum
        self.initialLeverage = initialLeverage
    }

    /// The maintenance margin of a position of `notional` in `tiers` (ascending), nil when none
    /// covers it.
    public static func maintenanceMargin(notional: Double, tiers: [LeverageBracket]) -> Double? {
        let size = abs(notional)
        guard
            let tier = tiers.first(where: { size >= $0.notionalFloor && size < $0.notionalCap })
                ?? tiers.last(where: { size >= $0.notionalFloor })
        else { return nil }
        return max(0, size * tier.maintMarginRatio - tier.cum)
    }
}

/// `GET /sapi/v1/account/apiRestrictions`: what the API key may do.
public struct APIRestrictions: Sendable, Equatable {
    public var ipRestricted: Bool
    /// Every `enable*` / `permits*` flag Binance returned, by its JSON name.
    public var flags: [String: Bool]
}

/// Binance's signed REST API for the few things the WebSocket API lacks: the income ledger and
/// the key's permissions. Query-string signing (HMAC hex; RSA and Ed25519 base64, URL-encoded),
/// `X-MBX-APIKEY`, the same timestamp rule as the WebSocket client. It never retries by itself:
/// the caller owns the weight budget.
public struct BinanceRESTClient: Sendable {
    public let configuration: RESTConfiguration
    let credentials: APICredentials
    private let clock: WallClock

    public init(configuration: RESTConfiguration, credentials: APICredentials, clock: WallClock = .system) {
        self.configuration = configuration
        self.credentials = credentials
        self.clock = clock
    }

    /// The query string as sent, signature last: `params` in order, then `timestamp` and
    /// `recvWindow`, then `signature` over everything before it.
    public static func signedQuery(
        _ params: [(String, String)], timestamp: Int64, recvWindow: Int64, signer: RequestSigner
    ) throws(BinanceClientError) -> String {
        let query = (params + [("timestamp", String(timestamp)), ("recvWindow", String(recvWindow))])
            .map { "\($0.0)=\(percentEncode($0.1))" }.joined(separator: "&")
        let signature: String
        do {
            signature = try signer.sign(query)
        } catch {
            throw .configuration("signing failed (\(signer.keyType.rawValue) key)")
        }
        return query + "&signature=" + percentEncode(signature)
    }

    /// RFC 3986 unreserved characters stay; everything else (a base64 signature's `+ / =`) is
    /// percent-encoded.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// The venue's income ledger (`GET /fapi/v1/income`, weight 30 per page on USDⓈ-M): rows
    /// between `startTime` and `endTime` (inclusive, ms), oldest first, at most one page (the
    /// venue's `incomePageSize` rows).
    public func income(startTime: Int64, endTime: Int64, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[IncomeEntry]>
    {
        try await income(
            startTime: startTime, endTime: endTime, limit: configuration.venue.rest.incomePageSize, offsetMilliseconds: offsetMilliseconds)
    }

    /// The income ledger as above, at most `limit` rows (clamped to 1 ... the venue's page size).
    public func income(startTime: Int64, endTime: Int64, limit: Int, offsetMilliseconds: Int64) async throws(BinanceClientError)
        -> RESTResponse<[IncomeEntry]>
    {
        let route = configuration.venue.rest.income
        let pageSize = configuration.venue.rest.incomePageSize
        let answer = try await signedGet(
            configuration.futuresBase, route,
            [("startTime", String(startTime)), ("endTime", String(endTime)), ("limit", String(min(pageSize, max(1, limit))))],
            offsetMilliseconds: offsetMilliseconds)
        let rows = try Self.decodeBody(route, answer) { (body) throws(DecodeError) in
            try FieldReader.elements(of: body) { (row) throws(DecodeError) in
                IncomeEntry(
                    symbol: try row.optionalString("symbol") ?? "", incomeType: try row.string("incomeType"),
                    income: try row.decimal("income"),
                    asset: try row.string("asset"), time: try row.int64("time"), tranID: try row.int64("tranId"),
                    tradeID: try row.optionalString("tradeId") ?? "")
            }
        }
        return RESTResponse(value: rows, usedWeight: Self.usedWeight(answer.headers))
    }

    /// The venue's leverage brackets (`GET /fapi/v1/leverageBracket`, weight 1 on USDⓈ-M): every
    /// symbol's maintenance-margin tiers as they apply to this account.
    public func leverageBrackets(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<[String: [LeverageBracket]]> {
        let route = configuration.venue.rest.leverageBrackets
        let answer = try await signedGet(configuration.futuresBase, route, [], offsetMilliseconds: offsetMilliseconds)
        do {
            guard case .array(let symbols) = try JSONParser.parse(answer.body) else {
                throw DecodeError(path: "body", problem: "expected an array")
            }
            var out: [String: [LeverageBracket]] = [:]
            for (index, element) in symbols.enumerated() {
                let row = try FieldReader(element, path: "body[\(index)]")
                out[try row.string("symbol")] = try row.rows("brackets") { (tier) throws(DecodeError) in
                    // COIN-M tiers are in coin quantity (`qtylFloor`, sic, and `qtyCap`): compared
                    // with a notional in coin, they work the same way.
                    let coin = !tier.has("notionalCap")
                    return LeverageBracket(
                        notionalFloor: coin ? try tier.firstDecimal("qtylFloor", "qtyFloor") : try tier.decimal("notionalFloor"),
                        notionalCap: coin ? try tier.decimal("qtyCap") : try tier.decimal("notionalCap"),
                        maintMarginRatio: try tier.decimal("maintMarginRatio"), cum: try tier.optionalDecimal("cum") ?? 0,
                        initialLeverage: try tier.optionalDecimal("initialLeverage") ?? 0)
                }.sorted { $0.notionalFloor < $1.notionalFloor }
            }
            return RESTResponse(value: out, usedWeight: Self.usedWeight(answer.headers))
        } catch let error as DecodeError {
            throw .decode(method: route.name, error)
        } catch {
            throw .decode(method: route.name, DecodeError(path: "body", problem: "not JSON"))
        }
    }

    /// `GET /sapi/v1/account/apiRestrictions` (weight 1) on the spot API.
    public func apiRestrictions(offsetMilliseconds: Int64) async throws(BinanceClientError) -> RESTResponse<APIRestrictions> {
        let route = configuration.spot.apiRestrictions
        let answer = try await signedGet(configuration.spotBase, route, [], offsetMilliseconds: offsetMilliseconds)
        do {
            let value = try JSONParser.parse(answer.body)
            let reader = try FieldReader(value, path: "body")
            var flags: [String: Bool] = [:]
            for (key, member) in reader.object.members where key.hasPrefix("enable") || key.hasPrefix("permits") {
                if case .bool(let flag) = member { flags[key] = flag }
            }
            return RESTResponse(
                value: APIRestrictions(ipRestricted: try reader.bool("ipRestrict"), flags: flags), usedWeight: nil)
        } catch let error as DecodeError {
            throw .decode(method: route.name, error)
        } catch {
            throw .decode(method: route.name, DecodeError(path: "body", problem: "not JSON"))
        }
    }

    /// The venue's server time (`GET /fapi/v1/time`, weight 1, unsigned): exchange time minus
    /// local time in ms, from the midpoint of the request, for callers without a WebSocket clock
    /// sync (`check-config`).
    public func clockOffset() async throws(BinanceClientError) -> Int64 {
        let route = configuration.venue.rest.serverTime
        let sent = clock.nowMilliseconds()
        let answer = try await HTTPSClient.get(
            configuration.futuresBase, pathAndQuery: route.path, headers: [], tlsCAFile: configuration.tlsCAFile,
            timeout: configuration.timeout, sourceAddress: configuration.sourceAddress)
        let received = clock.nowMilliseconds()
        // A 429 or 418 is Binance's refusal, for the scheduler to absorb (not an unreadable answer).
        guard answer.status == 200 else { throw .api(refusal(route, answer, offsetMilliseconds: 0)) }
        do {
            let serverTime = try FieldReader(try JSONParser.parse(answer.body), path: "body").int64("serverTime")
            return serverTime - (sent + received) / 2
        } catch let error as DecodeError {
            throw .decode(method: route.name, error)
        } catch {
            throw .decode(method: route.name, DecodeError(path: "body", problem: "not JSON"))
        }
    }

    /// An answer's body through `decode`: a field that does not fit is a decode error naming the
    /// route, a body that is not JSON says so. One rule for every REST answer.
    static func decodeBody<T>(_ route: RESTRoute, _ answer: HTTPAnswer, _ decode: (JSONValue) throws(DecodeError) -> T)
        throws(BinanceClientError) -> T
    {
        do {
            return try decode(try JSONParser.parse(answer.body))
        } catch let error as DecodeError {
            throw .decode(method: route.name, error)
        } catch {
            throw .decode(method: route.name, DecodeError(path: "body", problem: "not JSON"))
        }
    }

    static func usedWeight(_ headers: HTTPHeaders) -> Int64? {
        headers.first(name: "X-MBX-USED-WEIGHT-1M").flatMap { Int64($0) }
    }

    func signedGet(
        _ base: HTTPBaseURL, _ route: RESTRoute, _ params: [(String, String)], offsetMilliseconds: Int64
    ) async throws(BinanceClientError) -> HTTPAnswer {
        let timestamp = clock.nowMilliseconds() + offsetMilliseconds - configuration.timestampBiasMilliseconds
        let query = try Self.signedQuery(params, timestamp: timestamp, recvWindow: configuration.recvWindow, signer: credentials.signer)
        let answer = try await HTTPSClient.get(
            base, pathAndQuery: route.path + "?" + query, headers: [("X-MBX-APIKEY", credentials.apiKey)],
            tlsCAFile: configuration.tlsCAFile,
            timeout: configuration.timeout, sourceAddress: configuration.sourceAddress)
        guard answer.status == 200 else { throw .api(refusal(route, answer, offsetMilliseconds: offsetMilliseconds)) }
        return answer
    }

    /// A non-200 answer as an API error the caller can classify: Binance's code and message,
    /// `Retry-After` as an exchange time, the weight header.
    func refusal(_ route: RESTRoute, _ answer: HTTPAnswer, offsetMilliseconds: Int64) -> APIError {
        var code = 0
        var message = "HTTP \(answer.status)"
        if let value = try? JSONParser.parse(answer.body), let reader = try? FieldReader(value, path: "body") {
            code = Int((try? reader.optionalInt64("code")) ?? nil ?? 0)
            message = ((try? reader.optionalString("msg")) ?? nil) ?? message
        }
        if code == 0, answer.status == 429 || answer.status == 418 { code = APIError.tooManyRequestsCode }
        let retryAfter = answer.headers.first(name: "Retry-After").flatMap { Int64($0) }.map {
            clock.nowMilliseconds() + offsetMilliseconds + $0 * 1000
        }
        let weight = Self.usedWeight(answer.headers)
        return APIError(
            method: route.name, status: answer.status, code: code, message: message, retryAfter: retryAfter,
            rateLimit: weight.map { RateLimitStatus(limit: 0, count: $0) })
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
