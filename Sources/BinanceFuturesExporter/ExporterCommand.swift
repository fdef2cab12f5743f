import ArgumentParser
import BinanceSimulator
import BinanceWebSocketAPI
import ExporterCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

@main
struct ExporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binance-futures-exporter",
        abstract: "Prometheus exporter for Binance USDⓈ-M Futures accounts (WebSocket API).",
        discussion: """
            Without a subcommand the exporter runs (`serve`). All its flags are listed by:

              binance-futures-exporter serve --help

            Quick start without keys or network: binance-futures-exporter --demo
            """,
        version: "binance-futures-exporter \(BuildVersion.version) (revision \(BuildVersion.revision))",
        subcommands: [Serve.self, CheckConfig.self, HealthCheck.self, MetricsTable.self, SimulateCommand.self],
        defaultSubcommand: Serve.self)
}

/// Exit code 2 and one line on stderr for every configuration problem.
func configFailure(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("binance-futures-exporter: \(error)\n".utf8))
    return ExitCode(2)
}

func makeLogger(_ options: ExporterOptions) throws -> Logger {
    let level: Logger.Level
    switch options.logLevel.lowercased() {
    case "debug": level = .debug
    case "info": level = .info
    case "warn", "warning": level = .warning
    case "error": level = .error
    default: throw ConfigError(file: nil, line: nil, field: "--log.level", problem: "expected debug, info, warn or error")
    }
    guard let format = LineLogHandler.Format(rawValue: options.logFormat.lowercased()) else {
        throw ConfigError(file: nil, line: nil, field: "--log.format", problem: "expected logfmt or json")
    }
    return Logger(label: "binance-futures-exporter") { label in LineLogHandler(label: label, format: format, logLevel: level) }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the exporter (default).")

    @OptionGroup var options: ExporterOptions
    /// Traps SIGTERM/SIGINT from the start (set by `ExporterCommand.main`).
    var latch = ShutdownLatch()

    enum CodingKeys: CodingKey { case options }

    func run() async throws {
        let logger: Logger
        var settings: Settings
        do {
            logger = try makeLogger(options)
            settings = try Settings.resolve(options)
        } catch {
            throw configFailure(error)
        }
        for warning in settings.warnings { logger.warning("\(warning)") }

        var services: [any Service] = []
        var demoLog: String?
        if options.demo {
            let demo: DemoExchange
            do {
                demo = try DemoExchange.make(extraAccounts: options.demoExtraAccounts, symbols: options.demoSymbols, logger: logger)
                try await demo.simulator.start()
                settings.url = try WebSocketURL(parsing: demo.simulator.url)
                settings.streamURL = try WebSocketURL(parsing: demo.simulator.streamURL)
                settings.restURL = try HTTPBaseURL(parsing: demo.simulator.restURL)
                settings.spotRestURL = settings.restURL
                settings.marketStreamURL = try WebSocketURL(parsing: demo.simulator.marketStreamURL)
                settings.coinm = Settings.COINMEndpoints(
                    webSocketAPI: try WebSocketURL(parsing: demo.simulator.coinmURL),
                    stream: try WebSocketURL(parsing: demo.simulator.coinmStreamURL),
                    rest: try HTTPBaseURL(parsing: demo.simulator.coinmRestURL))
                settings.pm = Settings.PMEndpoints(
                    rest: try HTTPBaseURL(parsing: demo.simulator.pmRestURL), stream: try WebSocketURL(parsing: demo.simulator.pmStreamURL))
            } catch {
                throw configFailure(ConfigError(file: nil, line: nil, field: "--demo", problem: "simulator failed to start: \(error)"))
            }
            if options.pollInterval == nil { settings.interval = 10 }
            // The demo keeps polling at its interval (its panels show polls and faults); the
            // values between polls are live all the same.
            if options.reconcileInterval == nil { settings.reconcileInterval = settings.interval }
            // The PM account first: first polls are staggered over each account's interval by its
            // place, and the PM account's interval is a minute.
            let venues =
                demo.pmAccounts.map { ($0, VenueID.portfolioMargin) } + demo.accounts.map { ($0, VenueID.usdM) }
                + demo.coinMAccounts.map { ($0, VenueID.coinM) }
            for (account, venue) in venues {
                settings.accounts.append(
                    AccountConfiguration(
                        // A PM poll weighs 46 and has no stream to stretch it: once a minute, as the
                        // README advises, keeps the demo inside its default 20 % share.
                        name: account.name, credentials: account.credentials,
                        intervalSeconds: venue == .portfolioMargin ? max(60, settings.interval) : settings.interval,
                        positionsDetail: settings.positionsDetail || venue == .portfolioMargin,
                        accountMethod: venue == .usdM ? settings.accountMethod : .v1WithFallback,
                        userStream: settings.userStream, venue: venue.venue))
            }
            services.append(
                DemoMarketService(
                    simulator: demo.simulator, mainAPIKey: demo.accounts[0].credentials.apiKey,
                    hedgeAPIKey: demo.accounts[1].credentials.apiKey, rsaAPIKey: demo.accounts[2].credentials.apiKey))
            demoLog = demo.simulator.url
        }

        let registry = MetricsRegistry(build: settings.listener.build)
        await registry.setConfigReload(success: true)
        // Every configured account is known before the listener answers, so `/-/ready` cannot
        // report ready before the pollers have even started.
        for account in settings.accounts {
            await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds, venue: account.venue)
        }
        let scheduler = WeightScheduler(policy: settings.policy, logger: logger)
        await scheduler.setObserver { view in await registry.updateScheduler(view) }
        let listener = HTTPListener(configuration: settings.listener, cache: registry.cache, logger: logger)
        do {
            try await listener.bind()
        } catch {
            throw configFailure(error)
        }
        if let demoLog { logger.info("demo mode: polling the built-in simulator", metadata: ["url": "\(demoLog)"]) }
        let supervisor = PollerSupervisor(
            accounts: settings.accounts,
            venues: Dictionary(uniqueKeysWithValues: VenueID.allCases.map { ($0, settings.venueEndpoints($0)) }),
            reconcileInterval: settings.reconcileInterval,
            scheduler: scheduler, registry: registry, logger: logger)
        await registry.renderNow()
        // SIGHUP is always trapped (its default action would end the process): it reloads the
        // config file and the web config file, whichever were given.
        services += [
            listener, supervisor, RegistryMaintenance(registry: registry),
            ReloadService(options: options, supervisor: supervisor, listener: listener, registry: registry, logger: logger),
        ]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        await latch.attach(group)
        try await group.run()
        logger.info("stopped")
    }
}

/// Runs the registry's staleness and process-metrics refresh loop as a service.
struct RegistryMaintenance: Service {
    let registry: MetricsRegistry

    func run() async throws {
        await cancelWhenGracefulShutdown { await registry.runMaintenance() }
    }
}

/// SIGHUP: re-reads the config file and the web config file. A valid configuration is applied
/// (accounts added, removed, changed; TLS context and users swapped); an invalid one is logged
/// and the running configuration stays.
struct ReloadService: Service {
    let options: ExporterOptions
    let supervisor: PollerSupervisor
    let listener: HTTPListener
    let registry: MetricsRegistry
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                logger.info(
                    "SIGHUP: reloading configuration",
                    metadata: ["file": "\(options.configFile ?? "-")", "web_config": "\(options.webConfigFile ?? "-")"])
                do {
                    let settings = try Settings.resolve(options)
                    for warning in settings.warnings { logger.warning("\(warning)") }
                    listener.updateSecurity(
                        tls: settings.listener.tls, basicAuthUsers: settings.listener.basicAuthUsers,
                        responseHeaders: settings.listener.responseHeaders)
                    // Demo and environment accounts do not come from a file; only a config file's accounts change.
                    if options.configFile != nil {
                        await supervisor.reload(
                            accounts: settings.accounts,
                            endpoints: Dictionary(uniqueKeysWithValues: VenueID.allCases.map { ($0, settings.venueEndpoints($0)) }))
                    }
                    await registry.setConfigReload(success: true)
                    logger.info("configuration reloaded", metadata: ["accounts": "\(settings.accounts.count)"])
                } catch {
                    await registry.setConfigReload(success: false)
                    logger.error("configuration reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    /// The same verdict as `BinanceFuturesAPIKeyCanMoveMoney` / `…TooPowerful`; advisory: the
    /// exit code stays 0, since an exchange that cannot be reached says nothing about the config.
    static func keyVerdict(_ account: AccountConfiguration, _ rest: RESTConfiguration) async -> String {
        var rest = rest
        rest.timeout = .seconds(5)
        let client = BinanceRESTClient(configuration: rest, credentials: account.credentials)
        do {
            let restrictions: APIRestrictions
            do {
                restrictions = try await client.apiRestrictions(offsetMilliseconds: 0).value
            } catch .api(let error) where error.isInvalidTimestamp {
                // This host's clock is off: measure Binance's and sign with it, once.
                restrictions = try await client.apiRestrictions(offsetMilliseconds: try await client.clockOffset()).value
            }
            let problems = APIKeyVerdict.problems(restrictions)
            return problems.isEmpty
                ? "OK (cannot move money or trade; IP-restricted)"
                : "WARNING: this key \(problems.joined(separator: "; ")); monitoring needs a read-only, IP-restricted key"
        } catch {
            return "not checked (\(error))"
        }
    }

    /// Reads a PM account once: a key papi refuses is named with the venue and its likely
    /// causes, as the exporter's log line does (advisory like the key verdict).
    static func portfolioMarginVerdict(_ account: AccountConfiguration, _ rest: RESTConfiguration) async -> String {
        var rest = rest
        rest.timeout = .seconds(5)
        let client = BinanceRESTClient(configuration: rest, credentials: account.credentials)
        do {
            let pm = try await client.portfolioMarginAccount(offsetMilliseconds: 0).value
            return "OK (uniMMR \(pm.uniMMR), status \(pm.statusText))"
        } catch .api(let error) where error.isCredentialProblem {
            return
                "REFUSED (\(error.code) \(error.message)): venue portfolio-margin; likely causes: \(KeyRejection.likelyCauses(venue: .portfolioMargin))"
        } catch {
            return "not checked (\(error))"
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and keys, print a summary, exit (2 on error).")

    @OptionGroup var options: ExporterOptions

    func run() async throws {
        let settings: Settings
        do {
            settings = try Settings.resolve(options)
        } catch {
            throw configFailure(error)
        }
        for warning in settings.warnings { print("warning: \(warning)") }
        print("Binance WebSocket API: \(settings.url)")
        print("User data streams: \(UserStreamConnection.streamURL(base: settings.streamURL))")
        print(
            "Mark price feed: \(UserStreamConnection.streamURL(base: settings.marketStreamURL)) (reconcile every \(settings.reconcileInterval)s while live)"
        )
        if settings.accounts.contains(where: { $0.venue.id == .coinM }) {
            print(
                "COIN-M: WebSocket API \(settings.coinm.webSocketAPI), streams \(UserStreamConnection.streamURL(base: settings.coinm.stream)), REST \(settings.coinm.rest)"
            )
        }
        if let pm = settings.pm {
            print("Portfolio Margin: REST \(pm.rest), user stream \(pm.stream)/ws/<listenKey>")
        }
        print(
            "Listen: \(settings.listener.listenAddresses.joined(separator: ", "))\(settings.listener.tls != nil ? " (TLS)" : "")\(settings.listener.basicAuthUsers.isEmpty ? "" : " (basic auth: \(settings.listener.basicAuthUsers.count) users)")"
        )
        print("Weight: max share \(settings.policy.maxShare), IP headroom \(settings.policy.ipHeadroom)")
        if options.demo { print("Demo mode: built-in simulator accounts") }
        print("Accounts (\(settings.accounts.count)):")
        for account in settings.accounts {
            print(
                "  \(account.name): key \(account.credentials.redactedAPIKey) (\(account.credentials.signer.keyType.rawValue)\(account.credentials.signer.keyType.supportsSessionLogon ? ", session.logon" : "")), every \(account.intervalSeconds)s, positions detail \(account.positionsDetail), user stream \(account.userStream), venue \(account.venue.id.rawValue)"
            )
        }
        if !settings.accounts.isEmpty && !options.demo {
            print("API key permissions (GET \(settings.spotRestURL)\(SpotAPI.binance.apiRestrictions.path)):")
            for account in settings.accounts {
                print("  \(account.name): \(await Self.keyVerdict(account, settings.restConfiguration()))")
            }
            let pmAccounts = settings.accounts.filter { $0.venue.id == .portfolioMargin }
            if !pmAccounts.isEmpty {
                print("Portfolio Margin accounts (GET \(FuturesVenue.portfolioMargin.portfolioMarginAPI!.account.path), weight 20):")
                let rest = settings.venueEndpoints(.portfolioMargin).rest
                for account in pmAccounts { print("  \(account.name): \(await Self.portfolioMarginVerdict(account, rest))") }
            }
        }
        print("OK")
    }
}

/// `healthcheck`: used by the Docker HEALTHCHECK (no curl in the runtime image).
struct HealthCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck", abstract: "Exit 0 when /-/healthy on the given address answers 200.")

    @Option(name: .customLong("web.listen-address")) var address = "127.0.0.1:9911"

    func run() async throws {
        let (host, port) = try parseListenAddress(address)
        let target = host == "0.0.0.0" ? "127.0.0.1" : host
        guard let url = URL(string: "http://\(target):\(port)/-/healthy") else { throw ExitCode(1) }
        let ok = await HTTPProbe.get(url: url, timeout: 5)
        if !ok { throw ExitCode(1) }
    }
}

/// Prints the metrics reference table (Markdown) from the same definitions the encoder uses.
struct MetricsTable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics-table", abstract: "Print the metrics reference table (Markdown).", shouldDisplay: false)

    func run() { print(MetricCatalog.markdownTable()) }
}
