import Crypto
import Foundation
import _CryptoExtras

/// State of the simulated exchange. Mutated only under the simulator's lock.
struct ExchangeState: Sendable {
    var accounts: [String: SimulatedAccount] = [:]
    var market: Market
    var minute: Int64 = 0
    var count: Int64 = 0
    /// Set by a 429: a request before this time earns a ban.
    var rateLimitedUntil: Int64 = 0
    var bannedUntil: Int64 = 0
    var bans = 0
    var faults = Faults()
    var stats = SimulatorStats()
    /// Live listen keys per API key.
    var listenKeys: [String: ListenKeyState] = [:]
    /// The income ledger (`GET /fapi/v1/income`).
    var income: [IncomeRecord] = []
    /// Source of order, trade and transaction ids.
    var serial: Int64 = 0
    /// Open orders per API key, plain and algo, in the order they were placed.
    var orders: [String: [BookedOrder]] = [:]
    /// papi's own weight window, used when `SimulatorConfiguration.papiSharesIPWeight` is false.
    var papiWindow = WeightWindow()
    /// Per Portfolio Margin account ID: the status its stream was last told (`riskLevelChange`),
    /// or the one it was added in.
    var riskLevels: [String: PortfolioMarginStatus] = [:]

    init(market: Market) { self.market = market }

    /// Where the account of `apiKey` on `venue` is filed; `venue` nil: the USDⓈ-M account, or
    /// the COIN-M one when the key has only that.
    func accountID(_ apiKey: String, _ venue: SimulatedVenue?) -> String {
        if let venue { return venue.accountID(apiKey) }
        if accounts[apiKey] == nil {
            for other in [SimulatedVenue.coinM, .portfolioMargin] where accounts[other.accountID(apiKey)] != nil {
                return other.accountID(apiKey)
            }
        }
        return apiKey
    }

    /// The account `apiKey` trades `symbol` with: the venue the symbol is listed on, or the
    /// key's Portfolio Margin account (which trades both) when it has none there.
    func accountID(_ apiKey: String, symbol: String) -> String {
        let id = market.venue(of: symbol).accountID(apiKey)
        let portfolioMargin = SimulatedVenue.portfolioMargin.accountID(apiKey)
        return accounts[id] == nil && accounts[portfolioMargin] != nil ? portfolioMargin : id
    }

    /// The account `apiKey` reaches on `venue`'s endpoints. Keys and products do not mix: a key
    /// with a Portfolio Margin account reaches nothing on USDⓈ-M or COIN-M endpoints (Binance
    /// answers −2015), and only a Portfolio Margin account is found on papi.
    func account(_ apiKey: String, on venue: SimulatedVenue) -> SimulatedAccount? {
        if venue != .portfolioMargin, accounts[SimulatedVenue.portfolioMargin.accountID(apiKey)] != nil { return nil }
        return accounts[venue.accountID(apiKey)]
    }

    mutating func roll(to now: Int64) {
        let current = now / 60_000
        if current != minute {
            minute = current
            count = 0
            stats.forget(minutesBefore: current - 60)
        }
    }

    mutating func charge(_ weight: Int64, now: Int64, ownClient: Bool) {
        roll(to: now)
        count += weight
        if ownClient { stats.clientWeightByMinute[minute, default: 0] += weight }
        stats.peakCountByMinute[minute] = max(stats.peakCountByMinute[minute] ?? 0, count)
    }
}

/// Per-connection protocol state.
struct SessionState: Sendable {
    var loggedOnKey: String?
    let connectedSince: Int64
    /// Which WebSocket API the connection is on: ws-fapi (USDⓈ-M) or ws-dapi (COIN-M). The
    /// account of a key is looked up on this venue only.
    var venue: SimulatedVenue = .usdM
}

/// What a request turned into.
struct RequestOutcome: Sendable {
    var frames: [String]
    var closeAfter = false
}

/// The protocol rules: envelope validation, weight, bans, timestamps, signatures, methods. Written
/// independently from the client: it parses with Foundation and verifies with public keys.
struct ExchangeRules {
    let configuration: SimulatorConfiguration

    /// The weight of `method` on `venue`'s WebSocket API; nil for a method it does not have
    /// (ws-dapi has no `v2/` methods).
    func weight(of method: String, venue: SimulatedVenue = .usdM) -> Int64? {
        if venue == .coinM {
            switch method {
            case "session.logon", "session.status", "session.logout": return configuration.sessionWeight
            case "account.status", "account.position", "account.balance": return configuration.coinMAccountWeight
            case "userDataStream.start", "userDataStream.ping", "userDataStream.stop": return configuration.listenKeyWeight
            default: return nil
            }
        }
        return switch method {
        case "session.logon", "session.status", "session.logout": configuration.sessionWeight
        case "v2/account.status", "v2/account.position", "v2/account.balance": configuration.v2Weight
        case "account.status", "account.position", "account.balance": configuration.v1Weight
        case "userDataStream.start", "userDataStream.ping", "userDataStream.stop": configuration.listenKeyWeight
        default: nil
        }
    }

    func handle(text: String, session: inout SessionState, state: inout ExchangeState, now localNow: Int64) -> RequestOutcome {
        let now = localNow + state.faults.clockSkewMilliseconds
        guard let data = text.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else {
            return RequestOutcome(frames: [errorFrame(id: nil, status: 400, code: -1000, msg: "Malformed request.", state: state)])
        }
        let id = object["id"]
        guard let method = object["method"] as? String else {
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 400, code: -1102, msg: "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
                    state: state)
            ])
        }
        let params = (object["params"] as? [String: Any]) ?? [:]
        state.stats.requestsByMethod[method, default: 0] += 1

        // Bans and rate limits come before everything else, as on the real exchange.
        if state.bannedUntil > now {
            state.stats.answered418 += 1
            return RequestOutcome(frames: [banFrame(id: id, state: state, now: now)])
        }
        if state.rateLimitedUntil > now {
            state.bans += 1
            state.bannedUntil = now + configuration.banMilliseconds << Int64(min(state.bans - 1, 10))
            state.stats.answered418 += 1
            return RequestOutcome(frames: [banFrame(id: id, state: state, now: now)], closeAfter: true)
        }
        let venue = session.venue
        guard let weight = weight(of: method, venue: venue), !state.faults.unknownMethods.contains(method) else {
            state.charge(1, now: now, ownClient: true)
            return RequestOutcome(frames: [errorFrame(id: id, status: 400, code: -1020, msg: "Unknown method.", state: state)])
        }
        state.roll(to: now)
        if state.count + weight > configuration.weightLimit {
            state.rateLimitedUntil = (state.minute + 1) * 60_000
            state.stats.answered429 += 1
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 429, code: -1003,
                    msg:
                        "Too many requests; current limit is \(configuration.weightLimit) requests per minute. Please use the websocket for live updates to avoid polling the API.",
                    data: ["serverTime": now, "retryAfter": state.rateLimitedUntil], state: state)
            ])
        }
        state.charge(weight, now: now, ownClient: true)

        if let index = state.faults.forcedErrors.firstIndex(where: { $0.method == nil ? method != "session.status" : $0.method == method })
        {
            let forced = state.faults.forcedErrors.remove(at: index)
            return RequestOutcome(frames: [errorFrame(id: id, status: forced.status, code: forced.code, msg: forced.message, state: state)])
        }

        switch method {
        case "session.status":
            return RequestOutcome(frames: [okFrame(id: id, result: sessionResult(session, now: now), state: state)])
        case "session.logout":
            session.loggedOnKey = nil
            return RequestOutcome(frames: [okFrame(id: id, result: sessionResult(session, now: now), state: state)])
        case "userDataStream.start", "userDataStream.ping", "userDataStream.stop":
            return listenKeyRequest(method, id: id, params: params, session: &session, state: &state, now: now)
        default:
            break
        }

        let positionParameters: Set<String> = venue == .coinM ? ["marginAsset", "pair"] : ["symbol"]
        let allowed = Set(["apiKey", "signature", "timestamp", "recvWindow"]).union(method.contains("position") ? positionParameters : [])
        if let unknown = params.keys.sorted().first(where: { !allowed.contains($0) }) {
            return RequestOutcome(frames: [
                errorFrame(id: id, status: 400, code: -1103, msg: "An unknown parameter was sent: \(unknown).", state: state)
            ])
        }
        guard let timestamp = integer(params["timestamp"]) else {
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 400, code: -1102, msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
                    state: state)
            ])
        }
        let recvWindow: Int64
        if params["recvWindow"] != nil {
            guard let value = integer(params["recvWindow"]), value > 0, value <= 60_000 else {
                return RequestOutcome(frames: [
                    errorFrame(
                        id: id, status: 400, code: -1102,
                        msg: "Mandatory parameter 'recvWindow' was not sent, was empty/null, or malformed.", state: state)
                ])
            }
            recvWindow = value
        } else {
            recvWindow = 5000
        }
        if timestamp >= now + 1000 {
            state.stats.timestampFailures += 1
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 400, code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time.", state: state
                )
            ])
        }
        if now - timestamp > recvWindow {
            state.stats.timestampFailures += 1
            return RequestOutcome(frames: [
                errorFrame(id: id, status: 400, code: -1021, msg: "Timestamp for this request is outside of the recvWindow.", state: state)
            ])
        }

        let apiKey: String
        if let key = params["apiKey"] as? String {
            guard let account = state.account(key, on: venue), !account.revoked else {
                return RequestOutcome(frames: [
                    errorFrame(id: id, status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action.", state: state)
                ])
            }
            guard let signature = params["signature"] as? String, !signature.isEmpty else {
                return RequestOutcome(frames: [
                    errorFrame(
                        id: id, status: 400, code: -1102,
                        msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.", state: state)
                ])
            }
            guard verify(signature: signature, payload: payload(params), key: account.key) else {
                state.stats.signatureFailures += 1
                return RequestOutcome(frames: [
                    errorFrame(id: id, status: 400, code: -1022, msg: "Signature for this request is not valid.", state: state)
                ])
            }
            apiKey = key
        } else if let key = session.loggedOnKey, method != "session.logon" {
            guard let account = state.account(key, on: venue), !account.revoked else {
                session.loggedOnKey = nil
                return RequestOutcome(frames: [
                    errorFrame(id: nil, status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action.", state: state)
                ])
            }
            apiKey = key
        } else {
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 400, code: -1102, msg: "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.",
                    state: state)
            ])
        }
        guard let account = state.account(apiKey, on: venue) else {
            return RequestOutcome(frames: [
                errorFrame(id: id, status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action.", state: state)
            ])
        }
        if method != "session.logon" { state.stats.recordAccountRequest(apiKey: venue.accountID(apiKey), at: localNow) }
        let book = AccountBook(account: account, market: state.market)
        let symbol = params["symbol"] as? String
        if let symbol, !state.market.symbols.contains(symbol) {
            return RequestOutcome(frames: [errorFrame(id: id, status: 400, code: -1121, msg: "Invalid symbol.", state: state)])
        }
        let result: String
        switch (venue, method) {
        case (_, "session.logon"):
            guard account.key.allowsSessionLogon else {
                return RequestOutcome(frames: [errorFrame(id: id, status: 401, code: -4056, msg: "Invalid api key type.", state: state)])
            }
            session.loggedOnKey = apiKey
            state.stats.logons += 1
            result = sessionResult(session, now: now)
        case (.coinM, "account.status"): result = book.coinMStatusResult()
        case (.coinM, "account.position"):
            result = book.coinMPositionsResult(marginAsset: params["marginAsset"] as? String, pair: params["pair"] as? String)
        case (.coinM, _): result = book.coinMBalanceResult()
        case (_, "account.status"): result = book.statusResult(v1: true)
        case (_, "v2/account.status"): result = book.statusResult(v1: false)
        case (_, "account.position"): result = book.positionsResult(v1: true, symbol: symbol)
        case (_, "v2/account.position"): result = book.positionsResult(v1: false, symbol: symbol)
        default: result = book.balanceResult()
        }
        return RequestOutcome(frames: [okFrame(id: id, result: result, state: state)])
    }

    /// `userDataStream.*`: API key only (a logged-on session's key when absent), no timestamp,
    /// no signature. One live key per account, valid `listenKeyValidity` from the last start or ping.
    func listenKeyRequest(
        _ method: String, id: Any?, params: [String: Any], session: inout SessionState, state: inout ExchangeState, now: Int64
    ) -> RequestOutcome {
        if let unknown = params.keys.sorted().first(where: { $0 != "apiKey" }) {
            return RequestOutcome(frames: [
                errorFrame(id: id, status: 400, code: -1103, msg: "An unknown parameter was sent: \(unknown).", state: state)
            ])
        }
        guard let apiKey = (params["apiKey"] as? String) ?? session.loggedOnKey else {
            return RequestOutcome(frames: [
                errorFrame(
                    id: id, status: 400, code: -1102, msg: "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.",
                    state: state)
            ])
        }
        let accountID = session.venue.accountID(apiKey)
        guard let account = state.account(apiKey, on: session.venue), !account.revoked else {
            return RequestOutcome(frames: [
                errorFrame(id: id, status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action.", state: state)
            ])
        }
        let validity = configuration.listenKeyValidityMilliseconds
        let live = state.listenKeys[accountID].flatMap { $0.expiresAt > now ? $0 : nil }
        switch method {
        case "userDataStream.start":
            let key = live?.key ?? Self.newListenKey()
            state.listenKeys[accountID] = ListenKeyState(key: key, expiresAt: now + validity)
            state.stats.listenKeysIssued += live == nil ? 1 : 0
            return RequestOutcome(frames: [okFrame(id: id, result: "{\"listenKey\":\(JSONOut.quote(key))}", state: state)])
        case "userDataStream.ping":
            guard let live else {
                return RequestOutcome(frames: [
                    errorFrame(id: id, status: 400, code: -1125, msg: "This listenKey does not exist.", state: state)
                ])
            }
            state.listenKeys[accountID]?.expiresAt = now + validity
            state.stats.listenKeyPings += 1
            return RequestOutcome(frames: [okFrame(id: id, result: "{\"listenKey\":\(JSONOut.quote(live.key))}", state: state)])
        default:
            state.listenKeys.removeValue(forKey: accountID)
            return RequestOutcome(frames: [okFrame(id: id, result: "{}", state: state)])
        }
    }

    static func newListenKey() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<64).map { _ in alphabet.randomElement()! })
    }
}
