import BinanceWebSocketAPI
import ExporterCore
import Foundation
import Logging

/// Flags + config file + environment, resolved and validated into what the exporter runs.
struct Settings {
    static let productionURL = "wss://ws-fapi.binance.com/ws-fapi/v1"
    static let testnetURL = "wss://testnet.binancefuture.com/ws-fapi/v1"
    static let productionStreamURL = "wss://fstream.binance.com/private"
    static let testnetStreamURL = "wss://fstream.binancefuture.com/private"
    static let productionMarketStreamURL = "wss://fstream.binance.com/market"
    static let testnetMarketStreamURL = "wss://fstream.binancefuture.com/market"
    static let productionRESTURL = "https://fapi.binance.com"
    static let testnetRESTURL = "https://testnet.binancefuture.com"
    static let productionSpotRESTURL = "https://api.binance.com"
    /// The spot testnet has no `/sapi`: the key check says so once and exports nothing.
    static let testnetSpotRESTURL = "https://testnet.binance.vision"

    var listener = HTTPListenerConfiguration()
    var url: WebSocketURL
    var streamURL: WebSocketURL
    var marketStreamURL: WebSocketURL
    var reconcileInterval: Double
    var restURL: HTTPBaseURL
    var spotRestURL: HTTPBaseURL
    var userStream: Bool
    var tlsCAFile: String?
    var policy: WeightPolicy
    var interval: Double
    var positionsDetail: Bool
    var accountMethod: AccountMethodChoice
    var accounts: [AccountConfiguration] = []
    var warnings: [String] = []

    /// Everything except accounts (demo accounts are added later).
    static func resolve(_ options: ExporterOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Settings
    {
        let file = try options.configFile.map { try ConfigFile.load(path: $0) }
        let flag = { (name: String, problem: String) in ConfigError(file: nil, line: nil, field: name, problem: problem) }

        let urlText =
            options.wsURL ?? (options.testnet ? testnetURL : file?.wsURL ?? ((file?.testnet ?? false) ? testnetURL : productionURL))
        let url: WebSocketURL
        do {
            url = try WebSocketURL(parsing: urlText)
        } catch {
            throw flag(options.wsURL != nil ? "--binance.ws-url" : "binance.ws_url", "\(error)")
        }

        let testnet = options.testnet || (options.wsURL == nil && file?.wsURL == nil && (file?.testnet ?? false))
        let streamText =
            options.streamURL
            ?? (options.testnet ? testnetStreamURL : file?.streamURL ?? (testnet ? testnetStreamURL : productionStreamURL))
        let streamURL: WebSocketURL
        do {
            streamURL = try WebSocketURL(parsing: streamText)
        } catch {
            throw flag(options.streamURL != nil ? "--binance.stream-url" : "binance.stream_url", "\(error)")
        }
        let restText =
            options.restURL ?? (options.testnet ? testnetRESTURL : file?.restURL ?? (testnet ? testnetRESTURL : productionRESTURL))
        let spotText =
            options.spotRestURL
            ?? (options.testnet ? testnetSpotRESTURL : file?.spotRestURL ?? (testnet ? testnetSpotRESTURL : productionSpotRESTURL))
        let restURL: HTTPBaseURL
        let spotRestURL: HTTPBaseURL
        do {
            restURL = try HTTPBaseURL(parsing: restText)
        } catch {
            throw flag(options.restURL != nil ? "--binance.rest-url" : "binance.rest_url", "\(error)")
        }
        do {
            spotRestURL = try HTTPBaseURL(parsing: spotText)
        } catch {
            throw flag(options.spotRestURL != nil ? "--binance.spot-rest-url" : "binance.spot_rest_url", "\(error)")
        }
        let marketText =
            options.marketStreamURL
            ?? (options.testnet
                ? testnetMarketStreamURL : file?.marketStreamURL ?? (testnet ? testnetMarketStreamURL : productionMarketStreamURL))
        let marketStreamURL: WebSocketURL
        do {
            marketStreamURL = try WebSocketURL(parsing: marketText)
        } catch {
            throw flag(options.marketStreamURL != nil ? "--binance.market-stream-url" : "binance.market_stream_url", "\(error)")
        }
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
            interval: interval, positionsDetail: positionsDetail, accountMethod: method)
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
                settings.accounts.append(
                    AccountConfiguration(
                        name: entry.name, credentials: credentials, intervalSeconds: entry.interval ?? interval,
                        positionsDetail: entry.positionsDetail ?? positionsDetail, accountMethod: accountMethod,
                        userStream: entry.userStream ?? userStream))
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
        // Every replica reads the same accounts; each keeps its shard's (a shard may own none).
        let shards = try ShardSelection.resolve(shard: options.shard, total: options.totalShards, hostName: ShardSelection.hostName)
        settings.listener.build.shard = shards.shard
        settings.listener.build.totalShards = shards.total
        settings.accounts = settings.accounts.filter { shards.owns($0.name) }
        return settings
    }

    func connectionConfiguration() -> ConnectionConfiguration {
        var configuration = ConnectionConfiguration(url: url)
        configuration.transport.tlsCAFile = tlsCAFile
        return configuration
    }

    func restConfiguration() -> RESTConfiguration {
        var configuration = RESTConfiguration(futuresBase: restURL, spotBase: spotRestURL)
        configuration.tlsCAFile = tlsCAFile
        return configuration
    }

    func markFeedSettings() -> MarkFeedSettings {
        var settings = MarkFeedSettings(base: marketStreamURL)
        settings.transport.tlsCAFile = tlsCAFile
        return settings
    }

    func userStreamSettings() -> UserStreamSettings {
        var settings = UserStreamSettings(base: streamURL)
        settings.transport.tlsCAFile = tlsCAFile
        return settings
    }
}

enum BuildVersion {
    static let version = "0.1.0"
    /// From `BuildRevisionPlugin` at build time (git, or `BFE_REVISION`).
    static let revision = BuildRevision.value
}
