import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TestSupport

@testable import ExporterCore

/// Registry + scheduler + pollers against a started simulator. Polls are driven explicitly
/// with `pollOnce()`, and the registry's clock can be moved forward to test freshness.
final class ExporterHarness: Sendable {
    let simulator: ExchangeSimulator
    let registry: MetricsRegistry
    let scheduler: WeightScheduler
    let pollers: [String: AccountPoller]
    /// With `reconcileInterval`: the mark price feed on the simulator's market stream (not started).
    let markFeed: MarkPriceFeed?
    private let advance = NIOLockedValueBox<Double>(0)

    init(
        accounts: [(name: String, account: SimulatedAccount, credentials: APICredentials)],
        simulatorConfiguration: SimulatorConfiguration = SimulatorConfiguration(),
        policy: WeightPolicy = WeightPolicy(), interval: Double = 15, method: AccountMethodChoice = .v1WithFallback,
        requestTimeout: Duration = .seconds(5), reconcileInterval: Double? = nil, adjust: (inout PollerEnvironment) -> Void = { _ in }
    ) async throws {
        simulator = ExchangeSimulator(configuration: simulatorConfiguration)
        for entry in accounts { simulator.addAccount(entry.account) }
        try await simulator.start()
        let box = advance
        registry = MetricsRegistry(
            build: BuildInfo(version: "test", revision: "test"), coalesce: .milliseconds(1), includeProcessMetrics: false,
            now: { Date().timeIntervalSince1970 + box.withLockedValue { $0 } })
        scheduler = WeightScheduler(policy: policy, logger: testLogger("scheduler"))
        let registry = self.registry
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
        var connection = ConnectionConfiguration(url: try WebSocketURL(parsing: simulator.url))
        connection.requestTimeout = requestTimeout
        connection.transport.pingInterval = nil
        var environment = PollerEnvironment(connection: connection)
        environment.backoff = Backoff(initial: 0.01, maximum: 0.05)
        if let reconcileInterval {
            var marks = MarkFeedSettings(base: try WebSocketURL(parsing: simulator.marketStreamURL))
            marks.backoff = Backoff(initial: 0.05, maximum: 0.2)
            marks.transport.pingInterval = nil
            markFeed = MarkPriceFeed(settings: marks, scheduler: scheduler, registry: registry, logger: testLogger("marks"))
            environment.markFeed = markFeed
            environment.reconcileIntervalSeconds = reconcileInterval
        } else {
            markFeed = nil
        }
        adjust(&environment)
        var pollers: [String: AccountPoller] = [:]
        for (index, entry) in accounts.enumerated() {
            environment.staggerFraction = Double(index) / Double(accounts.count)
            let configuration = AccountConfiguration(
                name: entry.name, credentials: entry.credentials, intervalSeconds: interval, accountMethod: method)
            let poller = AccountPoller(
                account: configuration, environment: environment, scheduler: scheduler, registry: registry, logger: testLogger("poller"))
            await registry.register(account: entry.name, pollIntervalSeconds: interval)
            pollers[entry.name] = poller
        }
        self.pollers = pollers
    }

    func poll(_ name: String) async { await pollers[name]!.pollOnce() }

    func pollAll() async {
        for name in pollers.keys.sorted() { await poll(name) }
    }

    func registryView(_ account: String) async -> AccountView? { await registry.view(of: account) }

    func moveClock(by seconds: Double) { advance.withLockedValue { $0 += seconds } }

    func exposition() async -> Exposition {
        await registry.renderNow()
        return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
    }

    func stop() async {
        await simulator.stop()
    }
}

/// Test accounts with fixed keys.
enum TestAccounts {
    static func hmac(
        _ apiKey: String, secret: String = "s3cr3t-\(UUID().uuidString)", positions: [SimulatedPosition],
        wallets: [String: Double] = ["USDT": 10_000], multiAssets: Bool = false, hedge: Bool = false
    ) throws
        -> (SimulatedAccount, APICredentials)
    {
        (
            SimulatedAccount(
                apiKey: apiKey, key: .hmac(secret: secret), multiAssetsMargin: multiAssets, hedgeMode: hedge, wallets: wallets,
                positions: positions),
            APICredentials(apiKey: apiKey, signer: try RequestSigner.hmac(secret: secret))
        )
    }
}

extension String {
    init(buffer: ByteBuffer) { self = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) ?? "" }
}
