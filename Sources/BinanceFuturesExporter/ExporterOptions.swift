import ArgumentParser
import BinanceWebSocketAPI

/// Flags, node_exporter style. Optional where a config file value may apply, so that an
/// explicit flag wins and an absent one falls back to the file, then to the default.
struct ExporterOptions: ParsableArguments {
    @Flag(name: .customLong("demo"), help: "Run against the built-in exchange simulator with demo accounts (no keys, no network).")
    var demo = false

    @Option(name: .customLong("config.file"), help: "YAML configuration file (accounts, poll and weight settings).")
    var configFile: String?

    @Option(name: .customLong("web.listen-address"), help: "Address to listen on for the web interface and telemetry; repeatable.")
    var listenAddresses: [String] = []

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics.")
    var telemetryPath = "/metrics"

    @Option(name: .customLong("web.config.file"), help: "Web config file (exporter-toolkit format: TLS and basic auth).")
    var webConfigFile: String?

    @Option(name: .customLong("web.max-requests"), help: "Maximum number of concurrent scrapes; more get 503.")
    var maxRequests = 40

    @Option(
        name: .customLong("binance.ws-url"),
        help: "Binance WebSocket API URL (default \(FuturesVenue.WebSocketAPI.usdM.endpoint.production)).")
    var wsURL: String?

    @Flag(name: .customLong("binance.testnet"), help: "Use the Binance testnet URLs (WebSocket API and user data streams).")
    var testnet = false

    @Option(
        name: .customLong("binance.stream-url"),
        help: "Binance user data stream base URL (default \(FuturesVenue.UserStream.usdM.endpoint.production); /stream is appended).")
    var streamURL: String?

    @Option(
        name: .customLong("binance.market-stream-url"),
        help:
            "Binance market stream base URL, for the public mark price feed (default \(FuturesVenue.MarketStream.usdM.endpoint.production))."
    )
    var marketStreamURL: String?

    @Option(
        name: .customLong("poll.reconcile-interval"),
        help: "Poll interval while an account's user stream and the mark price feed are healthy (Prometheus duration, default 5m).")
    var reconcileInterval: String?

    @Option(
        name: .customLong("binance.rest-url"),
        help: "Binance USDⓈ-M futures REST base URL, for the income ledger (default \(FuturesVenue.REST.usdM.endpoint.production)).")
    var restURL: String?

    @Option(
        name: .customLong("binance.coinm-ws-url"),
        help: "COIN-M WebSocket API URL, for accounts with venue: coin-m (default \(FuturesVenue.WebSocketAPI.coinM.endpoint.production)).")
    var coinmWsURL: String?

    @Option(
        name: .customLong("binance.coinm-stream-url"),
        help:
            "COIN-M stream base URL: user data streams and mark prices (default \(FuturesVenue.UserStream.coinM.endpoint.production); /stream is appended)."
    )
    var coinmStreamURL: String?

    @Option(
        name: .customLong("binance.coinm-rest-url"),
        help:
            "COIN-M REST base URL: income, brackets, contract sizes, open orders (default \(FuturesVenue.REST.coinM.endpoint.production)).")
    var coinmRestURL: String?

    @Option(
        name: .customLong("binance.pm-rest-url"),
        help:
            "Portfolio Margin REST base URL (papi), for accounts with venue: portfolio-margin (default \(FuturesVenue.REST.portfolioMargin.endpoint.production); Binance runs no PM testnet)."
    )
    var pmRestURL: String?

    @Option(
        name: .customLong("binance.pm-stream-url"),
        help:
            "Portfolio Margin user stream base URL (default \(FuturesVenue.UserStream.portfolioMargin.endpoint.production); the stream is <url>/ws/<listenKey>, one connection per PM account)."
    )
    var pmStreamURL: String?

    @Option(
        name: .customLong("binance.spot-rest-url"),
        help: "Binance spot REST base URL, for the API key permission check (default \(SpotAPI.binance.endpoint.production)).")
    var spotRestURL: String?

    @Option(
        name: .customLong("binance.user-stream"),
        help:
            "Receive each account's user data stream (instant balances and positions, income, margin calls): true or false (default true).")
    var userStream: String?

    @Option(
        name: .customLong("binance.tls-ca-file"), help: "Extra PEM trust anchor for the Binance TLS connection (private CA, test server).")
    var tlsCAFile: String?

    @Option(name: .customLong("poll.interval"), help: "Poll interval per account (Prometheus duration, default 15s).")
    var pollInterval: String?

    @Option(
        name: .customLong("poll.positions-detail"),
        help: "Also call v2/account.position for mark and liquidation prices: true or false (default true).")
    var positionsDetail: String?

    @Option(
        name: .customLong("poll.account-method"), help: "account.status (default; falls back to v2 once if retired) or v2/account.status.")
    var accountMethod: String?

    @Option(
        name: .customLong("weight.max-share"), help: "Fraction of the IP's REQUEST_WEIGHT the exporter may use per minute (default 0.2).")
    var maxShare: Double?

    @Option(name: .customLong("weight.ip-headroom"), help: "Never push the IP-wide weight above (1 - headroom) x limit (default 0.2).")
    var ipHeadroom: Double?

    @Option(name: .customLong("log.level"), help: "debug, info, warn or error.")
    var logLevel = "info"

    @Option(name: .customLong("log.format"), help: "logfmt or json.")
    var logFormat = "logfmt"

    @Option(name: .customLong("demo.accounts"), help: "With --demo: extra demo accounts beyond the built-in three.")
    var demoExtraAccounts = 0

    @Option(
        name: .customLong("demo.symbols"), help: "With --demo: synthetic listed symbols beyond the ten real ones (v1 rows per account).")
    var demoSymbols = 20

    @Option(
        name: .customLong("shard"),
        help: "This replica's shard (0…total-shards − 1), or auto: the trailing -<ordinal> of the host name (StatefulSet pods).")
    var shard: String?

    @Option(name: .customLong("total-shards"), help: "How many replicas share the configured accounts (each polls only its shard's).")
    var totalShards: Int?

    @Option(
        name: .customLong("binance.source-address"),
        help: "Local IP address every connection to Binance leaves from (WebSocket API, streams, REST): one weight budget per address.")
    var sourceAddress: String?
}
