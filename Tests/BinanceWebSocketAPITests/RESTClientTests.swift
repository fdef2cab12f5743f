import BinanceSimulator
import Crypto
import Foundation
import TestSupport
import Testing
import _CryptoExtras

@testable import BinanceWebSocketAPI

/// The signed REST client: Binance's documented query-string vector, the three key types
/// against the simulator's independent verifier, weight headers and error answers.
@Suite("REST client")
struct RESTClientTests {
    @Test("HMAC: Binance's documented query-string example signs to its documented signature")
    func hmacVector() throws {
        // The example of Binance's "SIGNED endpoint security" page (secret and payload as published).
        let signer = try RequestSigner.hmac(secret: SigningVectorTests.secret)
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        #expect(try signer.sign(payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        let query = try BinanceRESTClient.signedQuery(
            [("startTime", "1"), ("endTime", "2")], timestamp: 1_499_827_319_559, recvWindow: 5000, signer: signer)
        #expect(query.hasPrefix("startTime=1&endTime=2&timestamp=1499827319559&recvWindow=5000&signature="))
        let signature = String(query.split(separator: "=").last!)
        #expect(try signature == signer.sign("startTime=1&endTime=2&timestamp=1499827319559&recvWindow=5000"))
    }

    @Test("Ed25519 and RSA signatures are base64, URL-encoded, and verify over the query as sent", arguments: [KeyType.ed25519, .rsa])
    func asymmetricSignatures(_ type: KeyType) async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            let credentials = try SimulatorHarness.credentials(type)
            let query = try BinanceRESTClient.signedQuery(
                [("limit", "1000")], timestamp: 1_700_000_000_000, recvWindow: 5000, signer: credentials.signer)
            let encoded = String(query[query.range(of: "&signature=")!.upperBound...])
            #expect(!encoded.contains("+") && !encoded.contains("/") && !encoded.contains("="), "base64 must be percent-encoded")
            let decoded = try #require(encoded.removingPercentEncoding)
            #expect(Data(base64Encoded: decoded) != nil)
            // The simulator checks it with the public key only, exactly as Binance does.
            let rest = client(harness, credentials)
            let answer = try await rest.income(startTime: 0, endTime: Int64.max / 2, offsetMilliseconds: 0)
            #expect(answer.value.isEmpty)
            #expect(answer.usedWeight == 30)
        }
    }

    func client(_ harness: SimulatorHarness, _ credentials: APICredentials) -> BinanceRESTClient {
        let base = try! HTTPBaseURL(parsing: harness.simulator.restURL)
        var configuration = RESTConfiguration(futuresBase: base, spotBase: base)
        // Binance's largest window: these tests are about answers, not clocks, and on a loaded CI
        // machine (two cores, every suite at once) a request can take longer than 5 s to arrive.
        configuration.recvWindow = 60_000
        return BinanceRESTClient(configuration: configuration, credentials: credentials)
    }

    @Test("the income ledger lists every fill's realized PnL and commission and every funding payment, in order, with weights")
    func incomeLedger() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.fill(apiKey: SimulatorHarness.hmacKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.05, price: 62_000)
            harness.simulator.payFunding(apiKey: SimulatorHarness.hmacKey, symbol: "BTCUSDT", rate: 0.0001)
            let rest = client(harness, try SimulatorHarness.credentials(.hmac))
            let first = try await rest.income(startTime: 0, endTime: Int64.max / 2, offsetMilliseconds: 0)
            #expect(first.value.map(\.incomeType) == ["REALIZED_PNL", "COMMISSION", "FUNDING_FEE"])
            #expect(abs(first.value[0].income - 100) < 1e-9)
            #expect(first.value[0].tradeID == first.value[1].tradeID && !first.value[0].tradeID.isEmpty)
            #expect(first.value[2].symbol == "BTCUSDT" && first.value[2].tradeID.isEmpty)
            let second = try await rest.income(startTime: 0, endTime: Int64.max / 2, offsetMilliseconds: 0)
            #expect(second.usedWeight == (first.usedWeight ?? 0) + 30, "X-MBX-USED-WEIGHT-1M counts this request")
            // An API key Binance does not know: 401 −2015, as an API error the caller can classify.
            let stranger = client(harness, APICredentials(apiKey: "unknown", signer: try RequestSigner.hmac(secret: "x")))
            do {
                _ = try await stranger.income(startTime: 0, endTime: 1, offsetMilliseconds: 0)
                Issue.record("an unknown key must be refused")
            } catch {
                guard case .api(let apiError)? = error as? BinanceClientError else {
                    Issue.record("expected an API error, got \(error)")
                    return
                }
                #expect(apiError.status == 401 && apiError.code == -2015 && apiError.isCredentialProblem)
            }
        }
    }

    @Test("a 429 answer carries Retry-After; a request during it earns a 418 ban, as on the WebSocket API")
    func rateLimitAndBan() async throws {
        var configuration = SimulatorConfiguration()
        configuration.weightLimit = 100
        let harness = try await SimulatorHarness.start(configuration: configuration)
        try await withCleanup({ await harness.simulator.stop() }) {
            try await avoidMinuteBoundary()
            let rest = client(harness, try SimulatorHarness.credentials(.hmac))
            harness.simulator.addBackgroundWeight(80)
            var statuses: [Int] = []
            for _ in 0..<2 {
                do {
                    _ = try await rest.income(startTime: 0, endTime: 1, offsetMilliseconds: 0)
                    statuses.append(200)
                } catch {
                    if case .api(let apiError)? = error as? BinanceClientError {
                        statuses.append(apiError.status)
                        #expect(apiError.retryAfter != nil, "Retry-After becomes the time requests are accepted again")
                    }
                }
            }
            #expect(statuses == [429, 418])
        }
    }

    @Test("apiRestrictions: flags and ipRestrict; a spot API that is not there is a 404, not a crash")
    func apiRestrictions() async throws {
        let harness = try await SimulatorHarness.start()
        try await withCleanup({ await harness.simulator.stop() }) {
            harness.simulator.updateAccount(apiKey: SimulatorHarness.rsaKey) {
                $0.restrictions.flags["enableWithdrawals"] = true
                $0.restrictions.ipRestrict = false
            }
            let restrictions = try await client(harness, try SimulatorHarness.credentials(.rsa)).apiRestrictions(offsetMilliseconds: 0)
                .value
            #expect(restrictions.flags["enableWithdrawals"] == true)
            #expect(restrictions.flags["enableReading"] == true)
            #expect(!restrictions.ipRestricted)

            var testnet = SimulatorConfiguration()
            testnet.serveSpotAPI = false
            let other = try await SimulatorHarness.start(configuration: testnet)
            try await withCleanup({ await other.simulator.stop() }) {
                let testnetClient = client(other, try SimulatorHarness.credentials(.hmac))
                do {
                    _ = try await testnetClient.apiRestrictions(offsetMilliseconds: 0)
                    Issue.record("a missing /sapi must fail")
                } catch {
                    guard case .api(let apiError)? = error as? BinanceClientError else {
                        Issue.record("expected an API error, got \(error)")
                        return
                    }
                    #expect(apiError.status == 404)
                }
            }
        }
    }
}
