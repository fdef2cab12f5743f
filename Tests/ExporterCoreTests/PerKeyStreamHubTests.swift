import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import ExporterCore

/// The hub's per-key layout (the PM user stream, `<base>/ws/<listenKey>`), over real sockets: a
/// dead key is that account's problem (it hears `keyRejected` and gets a new key) and does not
/// keep the next account off the stream.
@Suite struct PerKeyStreamHubTests {
    @Test("a refused key: its account is told, the other account's key is connected all the same")
    func deadKeyDoesNotBlockTheOthers() async throws {
        let simulator = ExchangeSimulator()
        let secret = "per-key-\(UUID().uuidString)"
        simulator.addDemoPortfolioMarginAccount(apiKey: "PMHUBKEY", key: .hmac(secret: secret))
        try await simulator.start()
        var papi = RESTConfiguration(
            futuresBase: try HTTPBaseURL(parsing: simulator.pmRestURL), spotBase: try HTTPBaseURL(parsing: simulator.restURL))
        papi.venue = .portfolioMargin
        let client = BinanceRESTClient(
            configuration: papi, credentials: APICredentials(apiKey: "PMHUBKEY", signer: try RequestSigner.hmac(secret: secret)))
        let key = try #require(try await client.portfolioMarginListenKey(.POST).value)
        var settings = UserStreamSettings(base: try WebSocketURL(parsing: simulator.pmStreamURL))
        settings.layout = .perListenKey
        settings.backoff = Backoff(initial: 0.05, maximum: 0.2)
        settings.transport.pingInterval = nil
        let logs = CapturedLogs()
        let scheduler = WeightScheduler(policy: WeightPolicy(), logger: testLogger("scheduler"))
        let hub = UserStreamHub(settings: settings, scheduler: scheduler, logger: logs.logger("hub"))
        let heard = NIOLockedValueBox<[String: [UserStreamSignal]]>([:])
        let running = Task { await hub.run() }
        await withCleanup({
            await hub.shutdown()
            await running.value
            await simulator.stop()
        }) {
            // "a" sorts first and has a dead key.
            await hub.attach(account: "a", key: "dead" + String(repeating: "0", count: 60)) { signal in
                heard.withLockedValue { $0["a", default: []].append(signal) }
            }
            await hub.attach(account: "b", key: key) { signal in heard.withLockedValue { $0["b", default: []].append(signal) } }
            #expect(
                await eventually(timeout: .seconds(10)) {
                    heard.withLockedValue { ($0["a"] ?? []).contains(.keyRejected) && ($0["b"] ?? []).contains(.subscribed) }
                }, "\(heard.withLockedValue { $0 })")
            #expect(await hub.connectionKeyCounts == [1], "one connection, for b's key")
            // The key reaches b alone: a risk level pushed for the account arrives on its connection.
            #expect(simulator.setPortfolioMarginUniMMR(apiKey: "PMHUBKEY", 1.15))
            #expect(
                await eventually(timeout: .seconds(5)) {
                    heard.withLockedValue {
                        ($0["b"] ?? []).contains { if case .event(.riskLevelChange) = $0 { true } else { false } }
                    }
                })
            #expect(!logs.all.contains(key), "listen keys are secrets")
        }
    }
}
