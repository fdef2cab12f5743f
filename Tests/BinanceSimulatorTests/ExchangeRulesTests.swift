import Crypto
import Foundation
import TestSupport
import Testing
import _CryptoExtras

@testable import BinanceSimulator

/// The simulator's protocol rules on their own, without sockets: it must accept exactly what
/// the real exchange accepts (the signing vectors of binance-ws-api.md §4, verified here with
/// the simulator's own code, not the client's) and refuse what it refuses (timestamps, weight,
/// bans) — or it would hide client bugs.
@Suite struct ExchangeRulesTests {
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    static let edPublic = try! Curve25519.Signing.PublicKey(
        rawRepresentation: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))

    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { UInt8(text.dropFirst($0).prefix(2), radix: 16)! }
    }

    static let rules = ExchangeRules(configuration: SimulatorConfiguration())

    struct Vector: Sendable, CustomStringConvertible {
        let id: String
        let payload: String
        let signature: String
        var description: String { id }
    }

    static let hmacVectors = [
        Vector(
            id: "H1",
            payload:
                "apiKey=\(apiKey)&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            signature: "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"),
        Vector(
            id: "H2",
            payload:
                "apiKey=\(apiKey)&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            signature: "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"),
        Vector(
            id: "H3", payload: "apiKey=\(apiKey)&recvWindow=5000&timestamp=1702620814781",
            signature: "65d89dd9dbaab3e4290d3f05a68649fd607a1c8af90d8e932f6b01eeaa6af0dd"),
        Vector(
            id: "H4", payload: "apiKey=\(apiKey)&timestamp=1649729878532",
            signature: "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"),
        Vector(
            id: "H5", payload: "apiKey=\(apiKey)&recvWindow=5000&symbol=BTCUSDT&timestamp=1702920680303",
            signature: "a60b696234199b20f0e8f21b9510c0b78a04ada84bc43fb59d6db0c13f2c6b85"),
    ]

    static let ed25519Vectors = [
        Vector(
            id: "E1", payload: "apiKey=\(apiKey)&recvWindow=5000&timestamp=1702620814781",
            signature: "Mj8rtr75PqQG1rRlV24Z44Hn+ZnW4ZSLhPM/VvbC1Jo8CFzb865OBtvUaBKxLQm5d4XeasKZMf0zFhFmyIvdAQ=="),
        Vector(
            id: "E2", payload: "apiKey=\(apiKey)&timestamp=1649729878532",
            signature: "763GJeFgG09B/06V/dq24cLu6f0R57whgDMyOCubDex4CTTElmDgPSIQqLdOsvW5TBxyaaFotVCI8tUmQMChAA=="),
        Vector(
            id: "E3",
            payload: "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&recvWindow=5000&timestamp=1702620814781",
            signature: "lw8H5VywKNODFEpaBecv1pYdidmykfQGh5ua1aScmKGlyoPaoQJfZNO70Qix8VHot+BIVzZOzxzErM51q671DA=="),
        Vector(
            id: "E4", payload: "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&timestamp=1649729878532",
            signature: "NBJq5sX1RkU7ta3XDctruMgnrhyBcouMvvPIxxQSCUbVWxhp3ai6W7a0Iip/3nOwmJxkVIv6n20cekYCOa5qAg=="),
    ]

    static let rsaVectors = [
        Vector(
            id: "R1", payload: "apiKey=\(apiKey)&recvWindow=5000&timestamp=1702620814781",
            signature:
                "ABZ+pEctCpg4cFivYj2bddFONz1F5eCWUcgfdiRf55g56UHoPElejFjlNCjn5BhwkM0I4ld8M+p1o30WesemQ2nq3b1DYmTSxBpGmjPyKk+I881xyPCuH9AZGlLkSlz0+V8SdaRC20QitNcF8S0tYVmnV5w/xTI1+fkZUkAHmz6y2z0xSO0/TSfvYJgBFT/NfYbMcKa4NYvRDWIssQZOaxRX944ueCOANbuqkTsgMb3lS7GWd3Sus7HJiaNao/cZeQfJ3XdvLGZy60gqU37+vMPJ6xgv8bEdxG7lC3TeI4OGxIGIIZ7SZQa+xkFR4FNo/BR9smK/PVwCAYcY8YymMw=="
        ),
        Vector(
            id: "R2",
            payload: "apiKey=CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ&recvWindow=5000&timestamp=1702620814781",
            signature:
                "BnYZHuxIRp7Z6gIQ4wln5vAhl7BDQ87fUYR+sGlXpNKGzegenTLd/sIfD0sKSLFLPlZ5I2d4lCND99gh7afngJpe1mDwgRqdcpJLalXAMPjIoskRJms7yMinajE+7/DjAK6Hd1Zn4HDO4cYlHnJqtYxHpsvk63Qj2abrnRGyyNH/M9Pg8s01pFDcrSdKWn26CpNfTRPjFMS1pXJjsOWzNcY3A+9kzGe30bAuVkAr9FRvF7Gy5ywG7gq3XjJ65FcbVEYkW04gP5dhxjSHYqbnalYs9BSq7dqPn/LnK0ZIKuMSZ6ra1VYAOK98mpnzyPP0i6hX5hGYJ2RnraWyNn8Gmg=="
        ),
    ]

    /// One byte of the payload changed: the signature must no longer verify.
    static func tampered(_ payload: String) -> String { payload.replacingOccurrences(of: "timestamp=1", with: "timestamp=2") }

    @Test(arguments: hmacVectors) func hmacVectorsVerifyWithTheSimulatorsOwnCode(vector: Vector) {
        #expect(Self.rules.verify(signature: vector.signature, payload: vector.payload, key: .hmac(secret: Self.secret)))
        #expect(!Self.rules.verify(signature: vector.signature, payload: Self.tampered(vector.payload), key: .hmac(secret: Self.secret)))
    }

    @Test(arguments: ed25519Vectors) func ed25519VectorsVerifyWithThePublicKeyOnly(vector: Vector) {
        #expect(Self.rules.verify(signature: vector.signature, payload: vector.payload, key: .ed25519(publicKey: Self.edPublic)))
        #expect(
            !Self.rules.verify(signature: vector.signature, payload: Self.tampered(vector.payload), key: .ed25519(publicKey: Self.edPublic))
        )
    }

    @Test(arguments: rsaVectors) func rsaVectorsVerifyWithThePublicKeyOnly(vector: Vector) throws {
        let publicKey = try _RSA.Signing.PrivateKey(pemRepresentation: TestKeys.rsaPEM).publicKey
        #expect(Self.rules.verify(signature: vector.signature, payload: vector.payload, key: .rsa(publicKey: publicKey)))
        #expect(!Self.rules.verify(signature: vector.signature, payload: Self.tampered(vector.payload), key: .rsa(publicKey: publicKey)))
    }

    // MARK: whole requests through the rules

    static func state(_ accounts: [SimulatedAccount]) -> ExchangeState {
        var state = ExchangeState(market: Market.standard())
        for account in accounts { state.accounts[account.apiKey] = account }
        return state
    }

    static func answer(_ outcome: RequestOutcome) throws -> [String: Any] {
        let frame = try #require(outcome.frames.first)
        return try #require(JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])
    }

    static func code(_ answer: [String: Any]) -> Int? { (answer["error"] as? [String: Any])?["code"] as? Int }

    @Test func theDocumentedSignedRequestIsAnsweredAndChargedItsWeight() throws {
        let rules = Self.rules
        var state = Self.state([SimulatedAccount(apiKey: Self.apiKey, key: .hmac(secret: Self.secret), wallets: ["USDT": 10])])
        var session = SessionState(loggedOnKey: nil, connectedSince: 0)
        let request = """
            {"id":"e2a85d9f-07a5-4f94-8d5f-789dc3deb097","method":"v2/account.status","params":{"apiKey":"\(Self.apiKey)","recvWindow":5000,"timestamp":1702620814781,"signature":"65d89dd9dbaab3e4290d3f05a68649fd607a1c8af90d8e932f6b01eeaa6af0dd"}}
            """
        let ok = try Self.answer(rules.handle(text: request, session: &session, state: &state, now: 1_702_620_815_000))
        #expect(ok["status"] as? Int == 200, "\(ok)")
        let limits = try #require((ok["rateLimits"] as? [[String: Any]])?.first)
        #expect(limits["count"] as? Int == 5, "v2/account.status costs 5")
        // The same request 6 s later is outside the 5 s receive window: −1021.
        let late = try Self.answer(rules.handle(text: request, session: &session, state: &state, now: 1_702_620_820_782))
        #expect(Self.code(late) == -1021)
        // A signature that does not match: −1022.
        let forged = request.replacingOccurrences(of: "65d89dd9", with: "75d89dd9")
        let refused = try Self.answer(rules.handle(text: forged, session: &session, state: &state, now: 1_702_620_815_000))
        #expect(Self.code(refused) == -1022)
    }

    @Test func theDocumentedEd25519LogonAuthenticatesTheSession() throws {
        let rules = Self.rules
        var state = Self.state([SimulatedAccount(apiKey: Self.apiKey, key: .ed25519(publicKey: Self.edPublic), wallets: ["USDT": 10])])
        var session = SessionState(loggedOnKey: nil, connectedSince: 0)
        let logon = """
            {"id":"logon-1","method":"session.logon","params":{"apiKey":"\(Self.apiKey)","timestamp":1649729878532,"signature":"763GJeFgG09B/06V/dq24cLu6f0R57whgDMyOCubDex4CTTElmDgPSIQqLdOsvW5TBxyaaFotVCI8tUmQMChAA=="}}
            """
        let answer = try Self.answer(rules.handle(text: logon, session: &session, state: &state, now: 1_649_729_879_000))
        #expect(answer["status"] as? Int == 200, "\(answer)")
        #expect(session.loggedOnKey == Self.apiKey)
        let unsigned = #"{"id":"2","method":"v2/account.status","params":{"timestamp":1649729879000}}"#
        let status = try Self.answer(rules.handle(text: unsigned, session: &session, state: &state, now: 1_649_729_879_100))
        #expect(status["status"] as? Int == 200, "after logon, account requests carry no signature: \(status)")
    }

    @Test func exceedingTheWeightLimitGets429AndARequestDuringRetryAfterGetsABan() throws {
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 12
        let rules = ExchangeRules(configuration: configuration)
        var state = Self.state([])
        var session = SessionState(loggedOnKey: nil, connectedSince: 0)
        let minute: Int64 = 1_702_620_780_000  // the start of a calendar minute
        let status = #"{"id":"s","method":"session.status"}"#
        for second in 0..<6 {
            let answer = try Self.answer(rules.handle(text: status, session: &session, state: &state, now: minute + Int64(second) * 1000))
            #expect(answer["status"] as? Int == 200, "weight \(2 * (second + 1)) of 12")
        }
        let limited = try Self.answer(rules.handle(text: status, session: &session, state: &state, now: minute + 7_000))
        #expect(limited["status"] as? Int == 429)
        #expect(Self.code(limited) == -1003)
        let retryAfter = ((limited["error"] as? [String: Any])?["data"] as? [String: Any])?["retryAfter"] as? Int
        #expect(retryAfter == Int(minute + 60_000), "until the next calendar minute")
        // Ignoring retryAfter: 418, and the connection is closed.
        let outcome = rules.handle(text: status, session: &session, state: &state, now: minute + 8_000)
        #expect(try Self.answer(outcome)["status"] as? Int == 418)
        #expect(outcome.closeAfter)
        #expect(state.bannedUntil >= minute + 8_000 + configuration.banMilliseconds)
        // During the ban everything is refused, even after the minute rolls over.
        let banned = try Self.answer(rules.handle(text: status, session: &session, state: &state, now: minute + 70_000))
        #expect(banned["status"] as? Int == 418)
        // A new minute without a ban starts from zero.
        var fresh = Self.state([])
        _ = rules.handle(text: status, session: &session, state: &fresh, now: minute + 59_000)
        let nextMinute = try Self.answer(rules.handle(text: status, session: &session, state: &fresh, now: minute + 61_000))
        #expect(((nextMinute["rateLimits"] as? [[String: Any]])?.first?["count"] as? Int) == 2)
    }
}
