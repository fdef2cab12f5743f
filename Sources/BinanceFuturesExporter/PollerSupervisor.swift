import BinanceWebSocketAPI
import ExporterCore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Starts and stops account sessions, and nothing else: each session is a child of one task
/// group, started staggered over the interval. Reloads arrive as commands: added accounts start,
/// removed or changed ones stop (their series vanish when removed), accounts Binance stopped
/// restart, unchanged ones and their connections are left alone. Every session has ended when
/// `run` returns.
actor PollerSupervisor: Service {
    private struct Running {
        let fingerprint: String
        let account: AccountConfiguration
        let session: AccountSession
        /// Finishing it ends the session's child task; the value says whether to drop its series.
        let stop: AsyncStream<Bool>.Continuation
        /// Finishes when the session's child task has ended (its shutdown done).
        let ended: AsyncStream<Void>
    }

    private struct Reload {
        let accounts: [AccountConfiguration]
        /// What a reload may change of a venue: its connection, connector and REST settings
        /// (stream hubs and mark feeds keep the URLs they started with).
        let endpoints: [VenueID: VenueEndpoints]
    }

    /// One venue's shared parts: its user stream connections (every account's listen key on that
    /// venue shares them) and its public mark price feed (with the user streams it makes values
    /// live between polls). Both venues' requests go through the one scheduler: since Binance's
    /// integration USDⓈ-M and COIN-M share the IP's weight budget.
    private struct Venue {
        var connection: ConnectionConfiguration
        /// Nil: the WebSocket API at `connection`.
        var connector: AccountConnector?
        var rest: RESTConfiguration
        let hub: UserStreamHub
        let markFeed: MarkPriceFeed
    }

    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private var venues: [VenueID: Venue]
    private let reconcileInterval: Double
    private let logger: Logger
    private var running: [String: Running] = [:]
    private let initial: [AccountConfiguration]
    private let (reloads, reloadInput) = AsyncStream.makeStream(of: Reload.self)

    init(
        accounts: [AccountConfiguration], venues: [VenueID: VenueEndpoints], reconcileInterval: Double, scheduler: WeightScheduler,
        registry: MetricsRegistry, logger: Logger
    ) {
        self.venues = venues.mapValues { endpoints in
            Venue(
                connection: endpoints.connection, connector: endpoints.connector, rest: endpoints.rest,
                hub: UserStreamHub(settings: endpoints.streams, scheduler: scheduler, logger: logger),
                markFeed: MarkPriceFeed(settings: endpoints.marks, scheduler: scheduler, registry: registry, logger: logger))
        }
        self.reconcileInterval = reconcileInterval
        self.initial = accounts
        self.scheduler = scheduler
        self.registry = registry
        self.logger = logger
    }

    /// One USDⓈ-M venue (tests and callers that know no other).
    init(
        accounts: [AccountConfiguration], connection: ConnectionConfiguration, streams: UserStreamSettings, rest: RESTConfiguration,
        marks: MarkFeedSettings, reconcileInterval: Double, scheduler: WeightScheduler, registry: MetricsRegistry, logger: Logger
    ) {
        self.init(
            accounts: accounts, venues: [.usdM: VenueEndpoints(connection: connection, streams: streams, rest: rest, marks: marks)],
            reconcileInterval: reconcileInterval, scheduler: scheduler, registry: registry, logger: logger)
    }

    /// What identifies an account's polling setup apart from its key material (compared
    /// separately by the signer, so no secret is copied here); a change restarts its poller.
    /// The venue's REST base is part of it: a Portfolio Margin account is read over it.
    static func fingerprint(_ account: AccountConfiguration, _ connection: ConnectionConfiguration?, rest: String = "") -> String {
        "\(account.credentials.apiKey)|\(account.credentials.signer.keyType)|\(account.intervalSeconds)|\(account.positionsDetail)|\(account.accountMethod)|\(account.userStream)|\(account.venue.id.rawValue)|\(connection.map { "\($0.url)" } ?? "")|\(connection?.transport.tlsCAFile ?? "")|\(rest)"
    }

    private func fingerprint(of account: AccountConfiguration) -> String {
        let venue = venues[account.venue.id]
        return Self.fingerprint(account, venue?.connection, rest: venue.map { "\($0.rest.futuresBase)" } ?? "")
    }

    func run() async throws {
        let reloads = self.reloads
        let input = reloadInput
        let venues = self.venues
        let initial = self.initial
        await withDiscardingTaskGroup { group in
            for (id, venue) in venues {
                group.addTask { await venue.hub.run() }
                // A mark feed only makes sense when some account of the venue has a user stream.
                // (Portfolio Margin's values are not revalued from marks between polls: no feed of its own.)
                if initial.contains(where: { $0.userStream && $0.venue.id == id && $0.venue.valuesLiveBetweenPolls }) {
                    group.addTask { await venue.markFeed.run() }
                }
            }
            await apply(initial, stopped: [], in: &group)
            await withGracefulShutdownHandler {
                for await reload in reloads {
                    for (id, endpoints) in reload.endpoints {
                        self.venues[id]?.connection = endpoints.connection
                        self.venues[id]?.connector = endpoints.connector
                        self.venues[id]?.rest = endpoints.rest
                    }
                    var stopped: Set<String> = []
                    for (name, entry) in running where await entry.session.isStopped { stopped.insert(name) }
                    await apply(reload.accounts, stopped: stopped, in: &group)
                }
            } onGracefulShutdown: {
                input.finish()
            }
            for entry in running.values { entry.stop.finish() }
            running.removeAll()
            for venue in venues.values {
                await venue.hub.shutdown()
                await venue.markFeed.shutdown()
            }
        }
    }

    /// Reconciles running pollers with `accounts` (SIGHUP). Accounts Binance stopped (rejected
    /// key) are restarted too: the operator fixed the key file, or re-enabled the key at
    /// Binance, and SIGHUP is how they say so.
    func reload(accounts: [AccountConfiguration], endpoints: [VenueID: VenueEndpoints]) async {
        for account in accounts {
            await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds, venue: account.venue)
        }
        reloadInput.yield(Reload(accounts: accounts, endpoints: endpoints))
    }

    private func apply(_ accounts: [AccountConfiguration], stopped: Set<String>, in group: inout DiscardingTaskGroup) async {
        let wanted = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, entry) in running {
            let why: String
            if let account = wanted[name] {
                if fingerprint(of: account) != entry.fingerprint {
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
            running.removeValue(forKey: name)
            entry.stop.yield(wanted[name] == nil)
            entry.stop.finish()
            logger.info("stopped polling account", metadata: ["account": "\(name)", "why": "\(why)"])
            // A replacement starts only once the old session has shut down: its detach, listen
            // key stop and scheduler unregistration must not undo the new session's.
            if wanted[name] != nil { for await _ in entry.ended {} }
        }
        let toStart = accounts.filter { running[$0.name] == nil }
        for (index, account) in toStart.enumerated() {
            guard let venue = venues[account.venue.id] else {
                logger.error("no endpoints for the account's venue; not polling it", metadata: ["account": "\(account.name)"])
                continue
            }
            let connection = venue.connection
            var services = SessionServices(
                scheduler: scheduler, registry: registry, connector: venue.connector ?? .webSocketAPI(connection), logger: logger)
            let rest = venue.rest
            services.rest = { BinanceRESTClient(configuration: rest, credentials: $0) }
            services.hub = venue.hub
            services.markFeed = venue.markFeed
            services.timing.requestTimeout = connection.requestTimeout
            services.timing.reconcileIntervalSeconds = reconcileInterval
            services.timing.staggerFraction = toStart.count > 1 ? Double(index) / Double(toStart.count) : 0
            let session = AccountSession(account: account, services: services)
            let (stop, stopInput) = AsyncStream.makeStream(of: Bool.self)
            let (ended, endedInput) = AsyncStream.makeStream(of: Void.self)
            let registry = self.registry
            group.addTask {
                // The session runs until its stop stream ends (reload) or the group is cancelled.
                let removed = await withTaskGroup(of: Bool?.self) { child in
                    child.addTask {
                        await session.run()
                        return nil
                    }
                    child.addTask {
                        var removed = false
                        for await value in stop { removed = value }
                        return removed
                    }
                    let first = await child.next() ?? nil
                    child.cancelAll()
                    var removed = first ?? false
                    while let next = await child.next() { removed = removed || (next ?? false) }
                    return removed
                }
                if removed { await registry.remove(account: account.name) }
                endedInput.finish()
            }
            running[account.name] = Running(
                fingerprint: fingerprint(of: account), account: account, session: session, stop: stopInput,
                ended: ended)
            logger.info(
                "polling account",
                metadata: [
                    "account": "\(account.name)", "venue": "\(account.venue.id.rawValue)", "key": "\(account.credentials.redactedAPIKey)",
                    "key_type": "\(account.credentials.signer.keyType.rawValue)", "interval_s": "\(account.intervalSeconds)",
                ])
        }
    }
}
