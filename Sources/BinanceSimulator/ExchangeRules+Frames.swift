import Crypto
import Foundation
import _CryptoExtras

/// The simulator's signature check and answer frames, apart from the request rules they serve.
extension ExchangeRules {
    // MARK: signatures (independent of the client's signer)

    func payload(_ params: [String: Any]) -> String {
        params.keys.filter { $0 != "signature" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { key in
            let value = params[key]!
            let text: String
            if let string = value as? String {
                text = string
            } else if let number = integer(value) {
                text = String(number)
            } else if let flag = value as? Bool {
                text = flag ? "true" : "false"
            } else {
                text = "\(value)"
            }
            return "\(key)=\(text)"
        }.joined(separator: "&")
    }

    func verify(signature: String, payload: String, key: SimulatedKey) -> Bool {
        let message = Data(payload.utf8)
        switch key {
        case .hmac(let secret):
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
            let expected = mac.map { String(format: "%02x", $0) }.joined()
            return expected == signature.lowercased()
        case .ed25519(let publicKey):
            guard let raw = Data(base64Encoded: signature) else { return false }
            return publicKey.isValidSignature(raw, for: message)
        case .rsa(let publicKey):
            guard let raw = Data(base64Encoded: signature) else { return false }
            return publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: raw), for: message, padding: .insecurePKCS1v1_5)
        }
    }

    func integer(_ value: Any?) -> Int64? {
        guard let value, !(value is String), !(value is Bool) else { return nil }
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9e15 else { return nil }
            return number.int64Value
        }
        return nil
    }

    // MARK: frames

    func idJSON(_ id: Any?) -> String {
        if let string = id as? String { return JSONOut.quote(string) }
        if let number = integer(id) { return String(number) }
        return "null"
    }

    func rateLimits(_ state: ExchangeState) -> String {
        "[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":\(configuration.weightLimit),\"count\":\(state.count)}]"
    }

    func okFrame(id: Any?, result: String, state: ExchangeState) -> String {
        "{\"id\":\(idJSON(id)),\"status\":200,\"result\":\(result),\"rateLimits\":\(rateLimits(state))}"
    }

    func errorFrame(id: Any?, status: Int, code: Int, msg: String, data: [String: Int64]? = nil, state: ExchangeState) -> String {
        var error = JSONOut()
        error.int("code", Int64(code))
        error.string("msg", msg)
        if let data {
            var dataOut = JSONOut()
            for key in data.keys.sorted() { dataOut.int(key, data[key]!) }
            error.raw("data", dataOut.finished())
        }
        return "{\"id\":\(idJSON(id)),\"status\":\(status),\"error\":\(error.finished()),\"rateLimits\":\(rateLimits(state))}"
    }

    func banFrame(id: Any?, state: ExchangeState, now: Int64) -> String {
        errorFrame(
            id: id, status: 418, code: -1003,
            msg: "Way too many requests; IP banned until \(state.bannedUntil). Please use the websocket for live updates to avoid bans.",
            data: ["serverTime": now, "retryAfter": state.bannedUntil], state: state)
    }

    func sessionResult(_ session: SessionState, now: Int64) -> String {
        var out = JSONOut()
        if let key = session.loggedOnKey { out.string("apiKey", key) } else { out.null("apiKey") }
        if session.loggedOnKey != nil { out.int("authorizedSince", session.connectedSince) } else { out.null("authorizedSince") }
        out.int("connectedSince", session.connectedSince)
        out.bool("returnRateLimits", true)
        out.int("serverTime", now)
        return out.finished()
    }
}
