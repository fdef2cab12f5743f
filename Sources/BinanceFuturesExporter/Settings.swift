import BinanceWebSocketAPI
import ExporterCore
import Foundation
import Logging

/// Flags + config file + environment, resolved and validated into what the exporter runs.
struct Settings {
    var listener = HTTPListenerConfiguration()
    var url: WebSocketURL
    var streamURL: WebSocketURL
    var marketStreamURL: WebSocketURL
    var reconcileInterval: Double
    var restURL: HTTPBaseURL
    var spotRestURL: HTTPBaseURL
    var userStream: Bool
    var tlsCAFile: String?
    /// `--binance.source-address`: the local address of every connection to Binance.
    var sourceAddress: String?
    var policy: WeightPolicy
    var interval: Double
    var positionsDetail: Bool
    var accountMethod: AccountMethodChoice
    var accounts: [AccountConfiguration] = []
    var warnings: [String] = []
    /// COIN-M's endpoints (`--binance.coinm-*`).
    var coinm: COINMEndpoints
    /// Portfolio Margin's endpoints (`--binance.pm-*`); resolved only when an account is on
    /// that venue (Binance runs no PM testnet, so a testnet run without PM accounts is fine).
    var pm: PMEndpoints?

    struct PMEndpoints {
        var rest: HTTPBaseURL
        var stream: WebSocketURL
    }

    struct COINMEndpoints {
        var webSocketAPI: WebSocketURL
        /// dstream: user data streams and mark prices.
        var stream: WebSocketURL
        var rest: HTTPBaseURL
    }

    /// Everything except accounts (demo accounts are added later).
    static func resolve(_ options: ExporterOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Settings
    {
        let file = try options.configFile.map { try ConfigFile.load(path: $0) }
        let flag = { (name: String, problem: String) in ConfigError(file: nil, line: nil, field: name, problem: problem) }

        // One rule for every endpoint, in this order (the first bad value is the one reported).
        let network = NetworkChoice(options: options, file: file)
        let endpoints = EndpointTable(options: options, file: file)
        let url = try endpoints.webSocketAPI.resolve(in: network)
        let streamURL = try endpoints.userStream.resolve(in: network)
        let restURL = try endpoints.rest.resolve(in: network)
        let spotRestURL = try endpoints.spotREST.resolve(in: network)
        let marketStreamURL = try endpoints.marketStream.resolve(in: network)
        let coinm = COINMEndpoints(
            webSocketAPI: try endpoints.coinmWebSocketAPI.resolve(in: network), stream: try endpoints.coinmStream.resolve(in: network),
            rest: try endpoints.coinmREST.resolve(in: network))
        var reconcileInterval = file?.reconcileInterval ?? 300
        if let text = options.reconcileInterval {
            switch PrometheusDuration.pollInterval(text) {
            case .success(let value): reconcileInterval = value
            case .failure(let problem): throw flag("--poll.reconcile-interval", problem.description)
            }
        }
        var userStream = file?.userStream ?? true
        if let text = options.userStream {
            guard let value = Bool(text.lowercased()) else { throw flag("--binance.user-stream", "expected true or false") }
            userStream = value
        }

        var interval = file?.interval ?? 15
        if let text = options.pollInterval {
            switch PrometheusDuration.pollInterval(text) {
            case .success(let value): interval = value
            case .failure(let problem): throw flag("--poll.interval", problem.description)
            }
        }
        var positionsDetail = file?.positionsDetail ?? true
        if let text = options.positionsDetail {
            guard let value = Bool(text.lowercased()) else { throw flag("--poll.positions-detail", "expected true or false") }
            positionsDetail = value
        }
        var method = file?.accountMethod ?? .v1WithFallback
        if let text = options.accountMethod {
            guard let choice = AccountMethodChoice(flag: text) else { throw flag("--poll.account-method", AccountMethodChoice.expected) }
            method = choice
        }
        let maxShare = options.maxShare ?? file?.maxShare ?? 0.2
        let headroom = options.ipHeadroom ?? file?.ipHeadroom ?? 0.2
        guard maxShare > 0, maxShare <= 1 else { throw flag("--weight.max-share", "must be in (0, 1]") }
        guard headroom >= 0, headroom < 1 else { throw flag("--weight.ip-headroom", "must be in [0, 1)") }
        guard options.maxRequests > 0 else { throw flag("--web.max-requests", "must be positive") }
        guard options.telemetryPath.hasPrefix("/"), options.telemetryPath != "/" else {
            throw flag("--web.telemetry-path", "must start with / and not be /")
        }
        if let ca = options.tlsCAFile ?? file?.tlsCAFile, !FileManager.default.isReadableFile(atPath: ca) {
            throw flag("--binance.tls-ca-file", "cannot read \(ca)")
        }

        var settings = Settings(
            url: url, streamURL: streamURL, marketStreamURL: marketStreamURL, reconcileInterval: reconcileInterval, restURL: restURL,
            spotRestURL: spotRestURL, userStream: userStream,
            tlsCAFile: options.tlsCAFile ?? file?.tlsCAFile,
            policy: WeightPolicy(maxShare: maxShare, ipHeadroom: headroom),
            interval: interval, positionsDetail: positionsDetail, accountMethod: method, coinm: coinm)
        settings.listener.listenAddresses = options.listenAddresses.isEmpty ? [":9911"] : options.listenAddresses
        for address in settings.listener.listenAddresses {
            do {
                _ = try parseListenAddress(address)
            } catch {
                throw flag("--web.listen-address", "\(error)")
            }
        }
        settings.listener.telemetryPath = options.telemetryPath
        settings.listener.maxRequests = options.maxRequests
        settings.listener.build = BuildInfo(version: BuildVersion.version, revision: BuildVersion.revision)
        if let webConfigFile = options.webConfigFile {
            let web = try WebConfig.load(path: webConfigFile)
            settings.listener.tls = web.tls
            settings.listener.basicAuthUsers = web.users
            settings.listener.responseHeaders = web.headers
            settings.warnings += web.warnings
        }

        var loader = CredentialLoader(environment: environment)
        if let file {
            for entry in file.accounts {
                let credentials = try loader.load(entry, file: file.path)
                let accountMethod = entry.accountMethod ?? method
                let venue = entry.venue ?? .usdM
                var account = AccountConfiguration(
                    name: entry.name, credentials: credentials, intervalSeconds: entry.interval ?? interval,
                    positionsDetail: entry.positionsDetail ?? positionsDetail,
                    accountMethod: venue == .usdM ? accountMethod : .v1WithFallback,
                    userStream: entry.userStream ?? userStream, venue: venue.venue)
                // A PM account's positions are half of what it is (the UM and CM lists).
                if venue == .portfolioMargin { account.positionsDetail = true }
                settings.accounts.append(account)
            }
            // Resolved even without a PM account (one added on SIGHUP needs them), except on the
            // testnet, which has no PM endpoints to default to.
            let pmAccount = settings.accounts.first(where: { $0.venue.id == .portfolioMargin })
            let testnet = network.testnetFlag || network.testnetForDefaults
            if pmAccount != nil || !testnet {
                do {
                    settings.pm = PMEndpoints(
                        rest: try endpoints.pmREST.resolve(in: network), stream: try endpoints.pmStream.resolve(in: network))
                } catch {
                    guard testnet, let pmAccount else { throw error }
                    throw ConfigError(
                        file: file.path, line: nil, field: "accounts.\(pmAccount.name).venue",
                        problem:
                            "Binance runs no Portfolio Margin testnet, and the testnet is on (\(error.field)): run PM accounts against production, or set both --binance.pm-rest-url and --binance.pm-stream-url to a test exchange of your own"
                    )
                }
            }
        } else if !options.demo, environment["BINANCE_API_KEY"] != nil {
            var entry = AccountEntry(name: environment["BINANCE_ACCOUNT_NAME"] ?? "default")
            entry.apiKey = .environment("BINANCE_API_KEY")
            if let keyFile = environment["BINANCE_PRIVATE_KEY_FILE"] {
                entry.privateKeyFile = keyFile
            } else if environment["BINANCE_API_SECRET"] != nil {
                entry.secret = .environment("BINANCE_API_SECRET")
            } else {
                throw ConfigError(
                    file: nil, line: nil, field: "environment",
                    problem: "BINANCE_API_KEY is set but neither BINANCE_API_SECRET nor BINANCE_PRIVATE_KEY_FILE")
            }
            let credentials = try loader.load(entry, file: nil)
            settings.accounts.append(
                AccountConfiguration(
                    name: entry.name, credentials: credentials, intervalSeconds: interval, positionsDetail: positionsDetail,
                    accountMethod: method, userStream: userStream))
        }
        settings.warnings += loader.warnings
        if settings.accounts.isEmpty && !options.demo {
            throw ConfigError(
                file: options.configFile, line: nil, field: "accounts",
                problem:
                    "no accounts configured: use --config.file, BINANCE_API_KEY with BINANCE_API_SECRET or BINANCE_PRIVATE_KEY_FILE, or --demo"
            )
        }
        if let address = options.sourceAddress ?? file?.sourceAddress {
            if let problem = SourceAddress.problem(address) {
                throw flag(options.sourceAddress != nil ? "--binance.source-address" : "binance.source_address", problem)
            }
            settings.sourceAddress = address
        }
        // Every replica reads the same accounts; each keeps its shard's (a shard may own none).
        let shards = try ShardSelection.resolve(shard: options.shard, total: options.totalShards, hostName: ShardSelection.hostName)
        settings.listener.build.shard = shards.shard
        settings.listener.build.totalShards = shards.total
        settings.accounts = settings.accounts.filter { shards.owns($0.name) }
        return settings
    }

    /// What the exporter needs to reach one venue.
    func venueEndpoints(_ venue: VenueID) -> VenueEndpoints {
        switch venue {
        case .usdM:
            VenueEndpoints(
                connection: connectionConfiguration(), streams: userStreamSettings(), rest: restConfiguration(), marks: markFeedSettings())
        case .coinM:
            VenueEndpoints(
                connection: connectionConfiguration(url: coinm.webSocketAPI),
                streams: userStreamSettings(base: coinm.stream),
                rest: restConfiguration(futuresBase: coinm.rest, venue: .coinM),
                marks: markFeedSettings(base: coinm.stream, venue: .coinM))
        case .portfolioMargin:
            portfolioMarginEndpoints(rest: pm?.rest ?? restURL, stream: pm?.stream ?? streamURL)
        }
    }

    /// papi instead of a WebSocket API: each account's "connection" is its signed REST reads,
    /// timed by USDⓈ-M's server clock (papi has no time endpoint).
    func portfolioMarginEndpoints(rest: HTTPBaseURL, stream: WebSocketURL) -> VenueEndpoints {
        let papi = restConfiguration(futuresBase: rest, venue: .portfolioMargin)
        let time = restConfiguration()
        var streams = userStreamSettings(base: stream)
        streams.layout = FuturesVenue.UserStream.portfolioMargin.layout
        var endpoints = VenueEndpoints(
            connection: connectionConfiguration(url: stream), streams: streams, rest: papi, marks: markFeedSettings())
        endpoints.connector = .portfolioMargin(papi: papi, time: time)
        return endpoints
    }

    func connectionConfiguration(url: WebSocketURL? = nil) -> ConnectionConfiguration {
        var configuration = ConnectionConfiguration(url: url ?? self.url)
        configuration.transport.tlsCAFile = tlsCAFile
        configuration.transport.sourceAddress = sourceAddress
        return configuration
    }

    func restConfiguration(futuresBase: HTTPBaseURL? = nil, venue: FuturesVenue = .usdM) -> RESTConfiguration {
        var configuration = RESTConfiguration(futuresBase: futuresBase ?? restURL, spotBase: spotRestURL)
        configuration.venue = venue
        configuration.tlsCAFile = tlsCAFile
        configuration.sourceAddress = sourceAddress
        return configuration
    }

    func markFeedSettings(base: WebSocketURL? = nil, venue: FuturesVenue = .usdM) -> MarkFeedSettings {
        var settings = MarkFeedSettings(base: base ?? marketStreamURL)
        settings.venue = venue.marketStream
        settings.transport.tlsCAFile = tlsCAFile
        settings.transport.sourceAddress = sourceAddress
        return settings
    }

    func userStreamSettings(base: WebSocketURL? = nil) -> UserStreamSettings {
        var settings = UserStreamSettings(base: base ?? streamURL)
        settings.transport.tlsCAFile = tlsCAFile
        settings.transport.sourceAddress = sourceAddress
        return settings
    }
}

enum BuildVersion {
    static let version = "0.1.0"
    /// From `BuildRevisionPlugin` at build time (git, or `BFE_REVISION`).
    static let revision = BuildRevision.value
}

/// One venue's endpoints as the supervisor uses them: its WebSocket API connection, its user
/// stream connections, its REST client and its mark price feed.
struct VenueEndpoints: Sendable {
    var connection: ConnectionConfiguration
    var streams: UserStreamSettings
    var rest: RESTConfiguration
    var marks: MarkFeedSettings
    /// How an account's session reaches Binance; nil: the venue's WebSocket API at `connection`.
    var connector: AccountConnector?
}
