import Foundation
import TestSupport
import Testing

@testable import BinanceWebSocketAPI

/// Test vectors from binance-ws-api.md §4, reproduced byte for byte.
@Suite struct SigningVectorTests {
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

    @Test(arguments: [
        (
            "apiKey=K&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        ),
        (
            "apiKey=K&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=１２３４５６&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
            "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
        ),
        ("apiKey=K&recvWindow=5000&timestamp=1702620814781", "65d89dd9dbaab3e4290d3f05a68649fd607a1c8af90d8e932f6b01eeaa6af0dd"),
        ("apiKey=K&timestamp=1649729878532", "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"),
        (
            "apiKey=K&recvWindow=5000&symbol=BTCUSDT&timestamp=1702920680303",
            "a60b696234199b20f0e8f21b9510c0b78a04ada84bc43fb59d6db0c13f2c6b85"
        ),
    ])
    func hmacVectors(payload: String, expected: String) throws {
        let signer = try RequestSigner.hmac(secret: Self.secret)
        let resolved = payload.replacingOccurrences(of: "apiKey=K&", with: "apiKey=\(Self.apiKey)&")
        #expect(try signer.sign(resolved) == expected)
    }

    static let ed25519PEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----
        """

    @Test(arguments: [
        (
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&recvWindow=5000&timestamp=1702620814781",
            "Mj8rtr75PqQG1rRlV24Z44Hn+ZnW4ZSLhPM/VvbC1Jo8CFzb865OBtvUaBKxLQm5d4XeasKZMf0zFhFmyIvdAQ=="
        ),
        (
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&timestamp=1649729878532",
            "763GJeFgG09B/06V/dq24cLu6f0R57whgDMyOCubDex4CTTElmDgPSIQqLdOsvW5TBxyaaFotVCI8tUmQMChAA=="
        ),
        (
            "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&recvWindow=5000&timestamp=1702620814781",
            "lw8H5VywKNODFEpaBecv1pYdidmykfQGh5ua1aScmKGlyoPaoQJfZNO70Qix8VHot+BIVzZOzxzErM51q671DA=="
        ),
        (
            "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&timestamp=1649729878532",
            "NBJq5sX1RkU7ta3XDctruMgnrhyBcouMvvPIxxQSCUbVWxhp3ai6W7a0Iip/3nOwmJxkVIv6n20cekYCOa5qAg=="
        ),
    ])
    func ed25519Vectors(payload: String, expected: String) throws {
        let signer = try RequestSigner.privateKey(pem: Self.ed25519PEM)
        #expect(signer.keyType == .ed25519)
        #expect(try signer.sign(payload) == expected)
    }

    @Test func ed25519EmptyMessageRFC8032() throws {
        let signer = try RequestSigner.privateKey(pem: Self.ed25519PEM)
        let signature = try signer.sign("")
        let bytes = Array(Data(base64Encoded: signature)!)
        #expect(
            Hex.lowercase(bytes)
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
    }

    @Test(arguments: [
        (
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&recvWindow=5000&timestamp=1702620814781",
            "ABZ+pEctCpg4cFivYj2bddFONz1F5eCWUcgfdiRf55g56UHoPElejFjlNCjn5BhwkM0I4ld8M+p1o30WesemQ2nq3b1DYmTSxBpGmjPyKk+I881xyPCuH9AZGlLkSlz0+V8SdaRC20QitNcF8S0tYVmnV5w/xTI1+fkZUkAHmz6y2z0xSO0/TSfvYJgBFT/NfYbMcKa4NYvRDWIssQZOaxRX944ueCOANbuqkTsgMb3lS7GWd3Sus7HJiaNao/cZeQfJ3XdvLGZy60gqU37+vMPJ6xgv8bEdxG7lC3TeI4OGxIGIIZ7SZQa+xkFR4FNo/BR9smK/PVwCAYcY8YymMw=="
        ),
        (
            "apiKey=CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ&recvWindow=5000&timestamp=1702620814781",
            "BnYZHuxIRp7Z6gIQ4wln5vAhl7BDQ87fUYR+sGlXpNKGzegenTLd/sIfD0sKSLFLPlZ5I2d4lCND99gh7afngJpe1mDwgRqdcpJLalXAMPjIoskRJms7yMinajE+7/DjAK6Hd1Zn4HDO4cYlHnJqtYxHpsvk63Qj2abrnRGyyNH/M9Pg8s01pFDcrSdKWn26CpNfTRPjFMS1pXJjsOWzNcY3A+9kzGe30bAuVkAr9FRvF7Gy5ywG7gq3XjJ65FcbVEYkW04gP5dhxjSHYqbnalYs9BSq7dqPn/LnK0ZIKuMSZ6ra1VYAOK98mpnzyPP0i6hX5hGYJ2RnraWyNn8Gmg=="
        ),
    ])
    func rsaVectors(payload: String, expected: String) throws {
        let signer = try RequestSigner.privateKey(pem: TestKeys.rsaPEM)
        #expect(signer.keyType == .rsa)
        #expect(try signer.sign(payload) == expected)
    }

    @Test func payloadSortsAndSkipsSignature() {
        var params = RequestParameters()
        params.set("timestamp", .int(1_702_920_680_303))
        params.set("symbol", .string("BTCUSDT"))
        params.set("signature", .string("ignored"))
        params.set("apiKey", .string("K"))
        params.set("recvWindow", .int(5000))
        #expect(params.signaturePayload == "apiKey=K&recvWindow=5000&symbol=BTCUSDT&timestamp=1702920680303")
    }

    @Test func completeRequestMatchesReference() throws {
        var params = RequestParameters()
        params.set("apiKey", .string(Self.apiKey))
        params.set("recvWindow", .int(5000))
        params.set("timestamp", .int(1_702_620_814_781))
        params.set("signature", .string(try RequestSigner.hmac(secret: Self.secret).sign(params.signaturePayload)))
        let json = JSONWriter.request(id: "e2a85d9f-07a5-4f94-8d5f-789dc3deb097", method: "v2/account.status", params: params)
        #expect(
            json
                == #"{"id":"e2a85d9f-07a5-4f94-8d5f-789dc3deb097","method":"v2/account.status","params":{"apiKey":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A","recvWindow":5000,"timestamp":1702620814781,"signature":"65d89dd9dbaab3e4290d3f05a68649fd607a1c8af90d8e932f6b01eeaa6af0dd"}}"#
        )
    }

    @Test func signerNeverPrintsItsSecret() throws {
        let hmac = try RequestSigner.hmac(secret: Self.secret)
        let ed = try RequestSigner.privateKey(pem: Self.ed25519PEM)
        for text in ["\(hmac)", String(reflecting: hmac), "\(ed)", "\(APICredentials(apiKey: Self.apiKey, signer: hmac))"] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("MC4CAQAw"))
            #expect(!text.contains(Self.apiKey))
        }
    }

    @Test func malformedKeysGiveClearErrors() {
        #expect(throws: KeyLoadError.notPEM) { try RequestSigner.privateKey(pem: "hello") }
        #expect(throws: KeyLoadError.emptySecret) { try RequestSigner.hmac(secret: " \n") }
        #expect(throws: KeyLoadError.self) {
            try RequestSigner.privateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
        }
    }
}
