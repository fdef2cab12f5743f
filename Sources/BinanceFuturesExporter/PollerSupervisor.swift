import BinanceWebSocketAPI
import ExporterCore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Owns the account pollers: starts them staggered over the interval, and on reload starts
/// added accounts, stops removed or changed ones (their series vanish) and leaves unchanged
/// ones and their connections alone. Every poller task ends before `run` returns.
actor PollerSupervisor: Service {
    private struct Running {
        let fingerprint: String
        let account: AccountConfiguration
        let poller: AccountPoller
        let task: Task<Void, Never>
    }

    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private var connection: ConnectionConfiguration
    private var running: [String: Running] = [:]
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

    /// What identifies an account's polling setup apart from its key material (compared
    /// separately by the signer, so no secret is copied here); a change restarts its poller.
    static func fingerprint(_ account: AccountConfiguration, _ connection: ConnectionConfiguration) -> String {
        "\(account.credentials.apiKey)|\(account.credentials.signer.keyType)|\(account.intervalSeconds)|\(account.positionsDetail)|\(account.accountMethod)|\(connection.url)|\(connection.transport.tlsCAFile ?? "")"
    }

    func run() async throws {
        apply(desired, restart: [])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        let tasks = running.values.map(\.task)
        running.removeAll()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Reconciles running pollers with `accounts`. Accounts Binance stopped (rejected key) are
    /// restarted too: the operator fixed the key file, or re-enabled the key at Binance, and
    /// SIGHUP is how they say so.
    func reload(accounts: [AccountConfiguration], connection: ConnectionConfiguration) async {
        self.connection = connection
        desired = accounts
        for account in accounts {
            await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds)
        }
        var stopped: Set<String> = []
        for (name, entry) in running where await entry.poller.isStopped { stopped.insert(name) }
        apply(accounts, restart: stopped)
    }

    private func apply(_ accounts: [AccountConfiguration], restart stopped: Set<String>) {
        let wanted = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, entry) in running {
            let why: String
            if let account = wanted[name] {
                if Self.fingerprint(account, connection) != entry.fingerprint {
                    why = "configuration changed"
                } else if !account.credentials.signer.usesSameKey(as: entry.account.credentials.signer) {
                    why = "key material changed"
                } else if stopped.contains(name) {
                    why = "restarting an account stopped by a rejected key"
                } else {
                    continue
                }
            } else {
                why = "removed from the configuration"
            }
            entry.task.cancel()
            running.removeValue(forKey: name)
            let registry = self.registry
            let removed = wanted[name] == nil
            Task {
                await entry.task.value
                if removed { await registry.remove(account: name) }
            }
            logger.info("stopped polling account", metadata: ["account": "\(name)", "why": "\(why)"])
        }
        let toStart = accounts.filter { running[$0.name] == nil }
        for (index, account) in toStart.enumerated() {
            var environment = PollerEnvironment(connection: connection)
            environment.staggerFraction = toStart.count > 1 ? Double(index) / Double(toStart.count) : 0
            let poller = AccountPoller(account: account, environment: environment, scheduler: scheduler, registry: registry, logger: logger)
            let task = Task<Void, Never> { _ = try? await poller.run() }
            running[account.name] = Running(
                fingerprint: Self.fingerprint(account, connection), account: account, poller: poller, task: task)
            logger.info(
                "polling account",
                metadata: [
                    "account": "\(account.name)", "key": "\(account.credentials.redactedAPIKey)",
                    "key_type": "\(account.credentials.signer.keyType.rawValue)", "interval_s": "\(account.intervalSeconds)",
                ])
        }
    }
}
