import BinanceWebSocketAPI
import ExporterCore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Owns the account pollers: starts them staggered over the interval, and on reload starts
/// added accounts, stops removed or changed ones (their series vanish) and leaves unchanged
/// ones and their connections alone. Every poller task ends before `run` returns.
actor PollerSupervisor: Service {
    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private var connection: ConnectionConfiguration
    private var running: [String: (fingerprint: String, task: Task<Void, Never>)] = [:]
    private var desired: [AccountConfiguration]

    init(
        accounts: [AccountConfiguration], connection: ConnectionConfiguration, scheduler: WeightScheduler, registry: MetricsRegistry,
        logger: Logger
    ) {
        self.desired = accounts
        self.connection = connection
        self.scheduler = scheduler
        self.registry = registry
        self.logger = logger
    }

    /// What identifies an account's polling setup; a change restarts its poller. The secret
    /// itself is not part of it (only the key id and type), so nothing secret is kept here.
    static func fingerprint(_ account: AccountConfiguration, _ connection: ConnectionConfiguration) -> String {
        "\(account.credentials.apiKey)|\(account.credentials.signer.keyType)|\(account.intervalSeconds)|\(account.positionsDetail)|\(account.accountMethod)|\(connection.url)|\(connection.transport.tlsCAFile ?? "")"
    }

    func run() async throws {
        apply(desired)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        let tasks = running.values.map(\.task)
        running.removeAll()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Reconciles running pollers with `accounts`.
    func reload(accounts: [AccountConfiguration], connection: ConnectionConfiguration) async {
        self.connection = connection
        desired = accounts
        for account in accounts {
            await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds)
        }
        apply(accounts)
    }

    private func apply(_ accounts: [AccountConfiguration]) {
        let wanted = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, entry) in running where wanted[name] == nil || Self.fingerprint(wanted[name]!, connection) != entry.fingerprint {
            entry.task.cancel()
            running.removeValue(forKey: name)
            let registry = self.registry
            Task {
                await entry.task.value
                if wanted[name] == nil { await registry.remove(account: name) }
            }
            logger.info("stopped polling account", metadata: ["account": "\(name)"])
        }
        let toStart = accounts.filter { running[$0.name] == nil }
        for (index, account) in toStart.enumerated() {
            var environment = PollerEnvironment(connection: connection)
            environment.staggerFraction = toStart.count > 1 ? Double(index) / Double(toStart.count) : 0
            let poller = AccountPoller(account: account, environment: environment, scheduler: scheduler, registry: registry, logger: logger)
            let task = Task<Void, Never> { _ = try? await poller.run() }
            running[account.name] = (Self.fingerprint(account, connection), task)
            logger.info(
                "polling account",
                metadata: [
                    "account": "\(account.name)", "key": "\(account.credentials.redactedAPIKey)",
                    "key_type": "\(account.credentials.signer.keyType.rawValue)", "interval_s": "\(account.intervalSeconds)",
                ])
        }
    }

    var accountNames: [String] { running.keys.sorted() }
}
