import BinanceSimulator
import Crypto
import Foundation
import Logging
import TestSupport
import _CryptoExtras

@testable import BinanceWebSocketAPI

/// A started simulator with one account per key type, built from the reference test keys.
struct SimulatorHarness {
    static let hmacKey = "hmacAPIKEY000000000000000000000000000000000000000000000000000001"
    static let edKey = "ed25519APIKEY0000000000000000000000000000000000000000000000000001"
    static let rsaKey = "rsaAPIKEY00000000000000000000000000000000000000000000000000000001"
    static let secret = SigningVectorTests.secret

    let simulator: ExchangeSimulator
    let url: WebSocketURL

    static func start(configuration: SimulatorConfiguration = SimulatorConfiguration()) async throws -> SimulatorHarness {
        let simulator = ExchangeSimulator(configuration: configuration)
        let edPrivate = try Curve25519.Signing.PrivateKey(
            rawRepresentation: Array(Data(base64Encoded: "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g")!.suffix(32)))
        let rsaPrivate = try _RSA.Signing.PrivateKey(pemRepresentation: TestKeys.rsaPEM)
        simulator.addAccount(
            SimulatedAccount(
                apiKey: hmacKey, key: .hmac(secret: secret), wallets: ["USDT": 1000],
                positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 60_000, leverage: 10)]))
        simulator.addAccount(
            SimulatedAccount(
                apiKey: edKey, key: .ed25519(publicKey: edPrivate.publicKey), multiAssetsMargin: true, hedgeMode: true,
                wallets: ["USDT": 500, "BTC": 0.01],
                positions: [
                    SimulatedPosition(symbol: "ETHUSDT", side: "LONG", amount: 1, entryPrice: 3000),
                    SimulatedPosition(symbol: "ETHUSDT", side: "SHORT", amount: -0.5, entryPrice: 3200),
                ]))
        simulator.addAccount(SimulatedAccount(apiKey: rsaKey, key: .rsa(publicKey: rsaPrivate.publicKey), wallets: ["USDT": 42]))
        try await simulator.start()
        return SimulatorHarness(simulator: simulator, url: try WebSocketURL(parsing: simulator.url))
    }

    static func credentials(_ type: KeyType) throws -> APICredentials {
        switch type {
        case .hmac: APICredentials(apiKey: hmacKey, signer: try RequestSigner.hmac(secret: secret))
        case .ed25519: APICredentials(apiKey: edKey, signer: try RequestSigner.privateKey(pem: SigningVectorTests.ed25519PEM))
        case .rsa: APICredentials(apiKey: rsaKey, signer: try RequestSigner.privateKey(pem: TestKeys.rsaPEM))
        }
    }

    func connect(
        _ type: KeyType, clock: WallClock = .system, timeout: Duration = .seconds(5), pingInterval: Int64? = nil
    ) async throws -> BinanceConnection {
        var configuration = ConnectionConfiguration(url: url)
        configuration.requestTimeout = timeout
        configuration.transport.pingInterval = pingInterval.map { .milliseconds($0) }
        configuration.transport.pongTimeout = .milliseconds(300)
        return try await BinanceConnection.connect(
            configuration: configuration, credentials: try Self.credentials(type), clock: clock, logger: testLogger("test"))
    }
}
