import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TestSupport

@testable import ExporterCore

/// Registry + scheduler + account sessions against a started simulator, wired by the same
/// `SessionServices` production uses. The sessions run from the start (so connection events are
/// handled as in production); their polls are driven explicitly with `poll` unless `scheduled`
/// is set, and the registry's clock can be moved forward to test freshness.
final class ExporterHarness: Sendable {
    let simulator: ExchangeSimulator
    let registry: MetricsRegistry
    let scheduler: WeightScheduler
    let sessions: [String: AccountSession]
    /// With `reconcileInterval`: the mark price feed on the simulator's market stream (not started).
    let markFeed: MarkPriceFeed?
    /// What the sessions were built from.
    let services: SessionServices
    private let advance = NIOLockedValueBox<Double>(0)
    private let running = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(
        accounts: [(name: String, account: SimulatedAccount, credentials: APICredentials)],
        simulatorConfiguration: SimulatorConfiguration = SimulatorConfiguration(),
        policy: WeightPolicy = WeightPolicy(), interval: Double = 15, method: AccountMethodChoice = .v1WithFallback,
        requestTimeout: Duration = .seconds(5), reconcileInterval: Double? = nil, scheduled: Bool = false, userStream: Bool = false,
        adjust: (inout ConnectionConfiguration, inout SessionTiming) -> Void = { _, _ in },
        services configure: (ExchangeSimulator, inout SessionServices) throws -> Void = { _, _ in }
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
        var timing = SessionTiming()
        timing.backoff = Backoff(initial: 0.01, maximum: 0.05)
        timing.requestTimeout = requestTimeout
        timing.pollsOnSchedule = scheduled
        timing.stream.keyRetryMilliseconds = 50
        timing.stream.backfillRetryMilliseconds = 100
        if let reconcileInterval {
            var marks = MarkFeedSettings(base: try WebSocketURL(parsing: simulator.marketStreamURL))
            marks.backoff = Backoff(initial: 0.05, maximum: 0.2)
            marks.transport.pingInterval = nil
            markFeed = MarkPriceFeed(settings: marks, scheduler: scheduler, registry: registry, logger: testLogger("marks"))
            timing.reconcileIntervalSeconds = reconcileInterval
        } else {
            markFeed = nil
        }
        adjust(&connection, &timing)
        var services = SessionServices(
            scheduler: scheduler, registry: registry, connector: .webSocketAPI(connection), logger: testLogger("session"))
        services.timing = timing
        services.markFeed = markFeed
        try configure(simulator, &services)
        self.services = services
        var sessions: [String: AccountSession] = [:]
        for (index, entry) in accounts.enumerated() {
            var perAccount = services
            perAccount.timing.staggerFraction = Double(index) / Double(accounts.count)
            // The simulated account's venue is the configured one (their spellings are the same).
            let venue = VenueID(rawValue: entry.account.venue.rawValue) ?? .usdM
            var configuration = AccountConfiguration(
                name: entry.name, credentials: entry.credentials, intervalSeconds: interval, accountMethod: method, userStream: userStream)
            configuration.venue = venue.venue
            if venue == .portfolioMargin {
                // papi instead of a WebSocket API, as production wires it (Settings.portfolioMarginEndpoints).
                var papi = RESTConfiguration(
                    futuresBase: try HTTPBaseURL(parsing: simulator.pmRestURL), spotBase: try HTTPBaseURL(parsing: simulator.restURL))
                papi.venue = .portfolioMargin
                let time = RESTConfiguration(
                    futuresBase: try HTTPBaseURL(parsing: simulator.restURL), spotBase: try HTTPBaseURL(parsing: simulator.restURL))
                perAccount.connector = AccountConnector.portfolioMargin(papi: papi, time: time)
                configuration.userStream = false
            }
            sessions[entry.name] = AccountSession(account: configuration, services: perAccount)
            await registry.register(account: entry.name, pollIntervalSeconds: interval, venue: venue.venue)
        }
        self.sessions = sessions
        let all = Array(sessions.values)
        running.withLockedValue {
            $0 = Task {
                await withDiscardingTaskGroup { group in
                    for session in all { group.addTask { await session.run() } }
                }
            }
        }
    }

    func poll(_ name: String) async { await sessions[name]!.pollOnce() }

    func pollAll() async {
        for name in sessions.keys.sorted() { await poll(name) }
    }

    func registryView(_ account: String) async -> AccountView? { await registry.view(of: account) }

    func moveClock(by seconds: Double) { advance.withLockedValue { $0 += seconds } }

    func exposition() async -> Exposition {
        await registry.renderNow()
        return Exposition(String(buffer: registry.cache.body(format: .text, gzip: false).buffer))
    }

    /// Stops the sessions (awaited) and the simulator.
    func stop() async {
        let task = running.withLockedValue { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
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
