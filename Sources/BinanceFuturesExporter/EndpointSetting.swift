import BinanceWebSocketAPI

/// Whether the Binance URLs nobody set explicitly are the testnet's, decided once for every
/// endpoint from the flags and the config file.
struct NetworkChoice: Equatable {
    /// `--binance.testnet`: the testnet for every URL without a flag of its own, even over a
    /// URL in the config file.
    var testnetFlag: Bool
    /// The testnet for URLs that neither a flag nor the config file sets: `--binance.testnet`,
    /// or the file's `binance.testnet: true` unless a WebSocket API URL is set explicitly (by
    /// flag or in the file). An explicit WebSocket API URL points the exporter at one server
    /// (a private test exchange, a proxy), so the file's testnet switch no longer speaks for
    /// the other URLs, and they stay on production unless set too.
    var testnetForDefaults: Bool

    init(testnetFlag: Bool, testnetForDefaults: Bool) {
        self.testnetFlag = testnetFlag
        self.testnetForDefaults = testnetForDefaults
    }

    init(options: ExporterOptions, file: ConfigFile?) {
        testnetFlag = options.testnet
        testnetForDefaults = options.testnet || (options.wsURL == nil && file?.wsURL == nil && (file?.testnet ?? false))
    }
}

/// One Binance endpoint as the exporter's settings see it: a flag, a config key, the venue's
/// default URLs and the parser of its URL kind. Every endpoint is resolved by the same rule
/// (`resolve(in:)`), so adding one (COIN-M's, Portfolio Margin's) is a row, not a copy of it.
struct EndpointSetting<URL> {
    /// `--binance.ws-url`: named in errors about a flag's value.
    var flag: String
    /// `binance.ws_url`: named in errors about any other value.
    var configKey: String
    var flagValue: String?
    var fileValue: String?
    var defaults: EndpointURLs
    var parse: (String) throws(BinanceClientError) -> URL

    /// The URL text and the setting to blame if it does not parse. First match wins:
    /// 1. the flag;
    /// 2. `--binance.testnet`: the testnet URL (over the file's value);
    /// 3. the config file's value;
    /// 4. the testnet URL when `network.testnetForDefaults`, else production.
    func choose(in network: NetworkChoice) throws(ConfigError) -> (text: String, field: String) {
        if let flagValue { return (flagValue, flag) }
        if !network.testnetFlag, let fileValue { return (fileValue, configKey) }
        let testnet = network.testnetFlag || network.testnetForDefaults
        guard let text = defaults.url(testnet: testnet) else {
            throw ConfigError(
                file: nil, line: nil, field: network.testnetFlag ? "--binance.testnet" : "binance.testnet",
                problem: "Binance has no testnet for \(configKey); set \(flag) or turn the testnet off")
        }
        return (text, configKey)
    }

    /// The parsed URL; a value that does not parse is a one-line error naming its flag or
    /// config key.
    func resolve(in network: NetworkChoice) throws(ConfigError) -> URL {
        let (text, field) = try choose(in: network)
        do {
            return try parse(text)
        } catch {
            throw ConfigError(file: nil, line: nil, field: field, problem: "\(error)")
        }
    }
}

/// The exporter's Binance endpoints: the table the rule is applied to. The defaults are
/// USDⓈ-M's (`FuturesVenue.usdM`) and the spot API's (`SpotAPI.binance`); flags and keys are
/// the documented ones (SPEC §4, §11).
struct EndpointTable {
    var webSocketAPI: EndpointSetting<WebSocketURL>
    var userStream: EndpointSetting<WebSocketURL>
    var marketStream: EndpointSetting<WebSocketURL>
    var rest: EndpointSetting<HTTPBaseURL>
    var spotREST: EndpointSetting<HTTPBaseURL>
    /// COIN-M: ws-dapi, dstream (user streams and mark prices share the host), dapi.
    var coinmWebSocketAPI: EndpointSetting<WebSocketURL>
    var coinmStream: EndpointSetting<WebSocketURL>
    var coinmREST: EndpointSetting<HTTPBaseURL>
    /// Portfolio Margin: papi, and the PM user stream (no testnet for either).
    var pmREST: EndpointSetting<HTTPBaseURL>
    var pmStream: EndpointSetting<WebSocketURL>

    init(options: ExporterOptions, file: ConfigFile?) {
        webSocketAPI = EndpointSetting(
            flag: "--binance.ws-url", configKey: "binance.ws_url", flagValue: options.wsURL, fileValue: file?.wsURL,
            defaults: FuturesVenue.WebSocketAPI.usdM.endpoint, parse: WebSocketURL.init(parsing:))
        userStream = EndpointSetting(
            flag: "--binance.stream-url", configKey: "binance.stream_url", flagValue: options.streamURL, fileValue: file?.streamURL,
            defaults: FuturesVenue.UserStream.usdM.endpoint, parse: WebSocketURL.init(parsing:))
        marketStream = EndpointSetting(
            flag: "--binance.market-stream-url", configKey: "binance.market_stream_url", flagValue: options.marketStreamURL,
            fileValue: file?.marketStreamURL, defaults: FuturesVenue.MarketStream.usdM.endpoint, parse: WebSocketURL.init(parsing:))
        rest = EndpointSetting(
            flag: "--binance.rest-url", configKey: "binance.rest_url", flagValue: options.restURL, fileValue: file?.restURL,
            defaults: FuturesVenue.REST.usdM.endpoint, parse: HTTPBaseURL.init(parsing:))
        spotREST = EndpointSetting(
            flag: "--binance.spot-rest-url", configKey: "binance.spot_rest_url", flagValue: options.spotRestURL,
            fileValue: file?.spotRestURL, defaults: SpotAPI.binance.endpoint, parse: HTTPBaseURL.init(parsing:))
        coinmWebSocketAPI = EndpointSetting(
            flag: "--binance.coinm-ws-url", configKey: "binance.coinm_ws_url", flagValue: options.coinmWsURL, fileValue: file?.coinmWsURL,
            defaults: FuturesVenue.WebSocketAPI.coinM.endpoint, parse: WebSocketURL.init(parsing:))
        coinmStream = EndpointSetting(
            flag: "--binance.coinm-stream-url", configKey: "binance.coinm_stream_url", flagValue: options.coinmStreamURL,
            fileValue: file?.coinmStreamURL, defaults: FuturesVenue.UserStream.coinM.endpoint, parse: WebSocketURL.init(parsing:))
        coinmREST = EndpointSetting(
            flag: "--binance.coinm-rest-url", configKey: "binance.coinm_rest_url", flagValue: options.coinmRestURL,
            fileValue: file?.coinmRestURL, defaults: FuturesVenue.REST.coinM.endpoint, parse: HTTPBaseURL.init(parsing:))
        pmREST = EndpointSetting(
            flag: "--binance.pm-rest-url", configKey: "binance.pm_rest_url", flagValue: options.pmRestURL, fileValue: file?.pmRestURL,
            defaults: FuturesVenue.REST.portfolioMargin.endpoint, parse: HTTPBaseURL.init(parsing:))
        pmStream = EndpointSetting(
            flag: "--binance.pm-stream-url", configKey: "binance.pm_stream_url", flagValue: options.pmStreamURL,
            fileValue: file?.pmStreamURL, defaults: FuturesVenue.UserStream.portfolioMargin.endpoint, parse: WebSocketURL.init(parsing:))
    }
}
