import BinanceWebSocketAPI
import Foundation
import Testing

@testable import BinanceFuturesExporter

/// The one rule that picks each Binance URL from flags, the config file and the venue's
/// defaults, pinned endpoint by endpoint: precedence (flag, `--binance.testnet`, file, file's
/// `testnet`), the explicit WebSocket API URL that turns the file's testnet off for the other
/// URLs, and errors that name the flag or the config key of the value that did not parse.
@Suite("Endpoint settings")
struct EndpointSettingTests {
    enum Endpoint: String, CaseIterable, CustomTestStringConvertible {
        case webSocketAPI, userStream, marketStream, rest, spotREST, coinmWebSocketAPI, coinmStream, coinmREST

        var testDescription: String { rawValue }

        var flag: String {
            switch self {
            case .webSocketAPI: "--binance.ws-url"
            case .userStream: "--binance.stream-url"
            case .marketStream: "--binance.market-stream-url"
            case .rest: "--binance.rest-url"
            case .spotREST: "--binance.spot-rest-url"
            case .coinmWebSocketAPI: "--binance.coinm-ws-url"
            case .coinmStream: "--binance.coinm-stream-url"
            case .coinmREST: "--binance.coinm-rest-url"
            }
        }

        var configKey: String {
            switch self {
            case .webSocketAPI: "binance.ws_url"
            case .userStream: "binance.stream_url"
            case .marketStream: "binance.market_stream_url"
            case .rest: "binance.rest_url"
            case .spotREST: "binance.spot_rest_url"
            case .coinmWebSocketAPI: "binance.coinm_ws_url"
            case .coinmStream: "binance.coinm_stream_url"
            case .coinmREST: "binance.coinm_rest_url"
            }
        }

        /// Written out here, not read from the venue: the test pins the documented defaults.
        var production: String {
            switch self {
            case .webSocketAPI: "wss://ws-fapi.binance.com/ws-fapi/v1"
            case .userStream: "wss://fstream.binance.com/private"
            case .marketStream: "wss://fstream.binance.com/market"
            case .rest: "https://fapi.binance.com"
            case .spotREST: "https://api.binance.com"
            case .coinmWebSocketAPI: "wss://ws-dapi.binance.com/ws-dapi/v1"
            case .coinmStream: "wss://dstream.binance.com/"
            case .coinmREST: "https://dapi.binance.com"
            }
        }

        var testnet: String {
            switch self {
            case .webSocketAPI: "wss://testnet.binancefuture.com/ws-fapi/v1"
            case .userStream: "wss://fstream.binancefuture.com/private"
            case .marketStream: "wss://fstream.binancefuture.com/market"
            case .rest: "https://testnet.binancefuture.com"
            case .spotREST: "https://testnet.binance.vision"
            case .coinmWebSocketAPI: "wss://testnet.binancefuture.com/ws-dapi/v1"
            case .coinmStream: "wss://dstream.binancefuture.com/"
            case .coinmREST: "https://testnet.binancefuture.com"
            }
        }

        var isWebSocket: Bool { [.webSocketAPI, .userStream, .marketStream, .coinmWebSocketAPI, .coinmStream].contains(self) }
        var flagURL: String { isWebSocket ? "ws://flag.test/\(rawValue)" : "http://flag.test/\(rawValue)" }
        var fileURL: String { isWebSocket ? "ws://file.test/\(rawValue)" : "http://file.test/\(rawValue)" }

        var fileValue: WritableKeyPath<ConfigFile, String?> {
            switch self {
            case .webSocketAPI: \.wsURL
            case .userStream: \.streamURL
            case .marketStream: \.marketStreamURL
            case .rest: \.restURL
            case .spotREST: \.spotRestURL
            case .coinmWebSocketAPI: \.coinmWsURL
            case .coinmStream: \.coinmStreamURL
            case .coinmREST: \.coinmRestURL
            }
        }

        func resolve(_ table: EndpointTable, _ network: NetworkChoice) throws(ConfigError) -> String {
            switch self {
            case .webSocketAPI: try table.webSocketAPI.resolve(in: network).description
            case .userStream: try table.userStream.resolve(in: network).description
            case .marketStream: try table.marketStream.resolve(in: network).description
            case .rest: try table.rest.resolve(in: network).description
            case .spotREST: try table.spotREST.resolve(in: network).description
            case .coinmWebSocketAPI: try table.coinmWebSocketAPI.resolve(in: network).description
            case .coinmStream: try table.coinmStream.resolve(in: network).description
            case .coinmREST: try table.coinmREST.resolve(in: network).description
            }
        }
    }

    /// What one endpoint should resolve to in a scenario.
    enum Expected: Equatable {
        case production, testnet, flagValue, fileValue

        func url(_ endpoint: Endpoint) -> String {
            switch self {
            case .production: endpoint.production
            case .testnet: endpoint.testnet
            case .flagValue: endpoint.flagURL
            case .fileValue: endpoint.fileURL
            }
        }
    }

    /// One situation, applied to endpoint `target`: `flags` and the file's content, then the
    /// expected URL for the target and for every other endpoint.
    struct Scenario: CustomTestStringConvertible {
        var name: String
        var testnetFlag = false
        var targetFlag = false
        var wsFlag = false
        var fileTestnet: Bool?
        var targetInFile = false
        var wsInFile = false
        var target: Expected
        var others: Expected
        /// When the target is the WebSocket API, the explicit-URL scenarios collapse onto it.
        var targetWhenWebSocketAPI: Expected?
        /// When the target is the WebSocket API and set explicitly, the file's testnet no
        /// longer speaks for the others.
        var othersWhenWebSocketAPI: Expected?

        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "nothing set: production", target: .production, others: .production),
        Scenario(name: "--binance.testnet: testnet", testnetFlag: true, target: .testnet, others: .testnet),
        Scenario(name: "file testnet: true", fileTestnet: true, target: .testnet, others: .testnet),
        Scenario(name: "file testnet: false", fileTestnet: false, target: .production, others: .production),
        Scenario(name: "file value", targetInFile: true, target: .fileValue, others: .production),
        Scenario(
            name: "file value under file testnet", fileTestnet: true, targetInFile: true, target: .fileValue, others: .testnet,
            othersWhenWebSocketAPI: .production),
        Scenario(name: "--binance.testnet beats a file value", testnetFlag: true, targetInFile: true, target: .testnet, others: .testnet),
        Scenario(name: "flag beats --binance.testnet", testnetFlag: true, targetFlag: true, target: .flagValue, others: .testnet),
        Scenario(name: "flag beats file value", targetFlag: true, targetInFile: true, target: .flagValue, others: .production),
        Scenario(
            name: "file ws_url turns file testnet off for the others", fileTestnet: true, wsInFile: true, target: .production,
            others: .production, targetWhenWebSocketAPI: .fileValue),
        Scenario(
            name: "--binance.ws-url turns file testnet off for the others", wsFlag: true, fileTestnet: true, target: .production,
            others: .production, targetWhenWebSocketAPI: .flagValue),
        Scenario(
            name: "--binance.ws-url keeps --binance.testnet for the others", testnetFlag: true, wsFlag: true, target: .testnet,
            others: .testnet, targetWhenWebSocketAPI: .flagValue),
        Scenario(
            name: "file ws_url with file testnet: an explicit file value still wins", fileTestnet: true, targetInFile: true,
            wsInFile: true, target: .fileValue, others: .production, targetWhenWebSocketAPI: .fileValue),
    ]

    static func inputs(_ scenario: Scenario, target: Endpoint) throws -> (ExporterOptions, ConfigFile?) {
        var arguments: [String] = []
        if scenario.testnetFlag { arguments.append("--binance.testnet") }
        if scenario.targetFlag { arguments += [target.flag, target.flagURL] }
        if scenario.wsFlag && !(scenario.targetFlag && target == .webSocketAPI) {
            arguments += [Endpoint.webSocketAPI.flag, Endpoint.webSocketAPI.flagURL]
        }
        let options = try ExporterOptions.parse(arguments)
        guard scenario.fileTestnet != nil || scenario.targetInFile || scenario.wsInFile else { return (options, nil) }
        var file = ConfigFile(path: "test.yml")
        file.testnet = scenario.fileTestnet
        if scenario.targetInFile { file[keyPath: target.fileValue] = target.fileURL }
        if scenario.wsInFile { file.wsURL = Endpoint.webSocketAPI.fileURL }
        return (options, file)
    }

    @Test("Precedence", arguments: scenarios, Endpoint.allCases)
    func precedence(scenario: Scenario, target: Endpoint) throws {
        let (options, file) = try Self.inputs(scenario, target: target)
        let network = NetworkChoice(options: options, file: file)
        let table = EndpointTable(options: options, file: file)
        let expected = target == .webSocketAPI ? (scenario.targetWhenWebSocketAPI ?? scenario.target) : scenario.target
        #expect(try target.resolve(table, network) == expected.url(target))
        for other in Endpoint.allCases where other != target {
            var otherExpected = target == .webSocketAPI ? (scenario.othersWhenWebSocketAPI ?? scenario.others) : scenario.others
            if other == .webSocketAPI, scenario.wsFlag { otherExpected = .flagValue }
            if other == .webSocketAPI, scenario.wsInFile, !scenario.wsFlag, !scenario.testnetFlag { otherExpected = .fileValue }
            #expect(try other.resolve(table, network) == otherExpected.url(other), "\(other)")
        }
    }

    @Test("A bad flag value names the flag", arguments: Endpoint.allCases)
    func badFlag(endpoint: Endpoint) throws {
        let options = try ExporterOptions.parse([endpoint.flag, "ftp://bad"])
        let table = EndpointTable(options: options, file: nil)
        do {
            _ = try endpoint.resolve(table, NetworkChoice(options: options, file: nil))
            Issue.record("accepted ftp://bad")
        } catch {
            #expect(error.field == endpoint.flag)
            #expect(error.file == nil)
        }
    }

    @Test("A bad file value names the config key, unless --binance.testnet overrides it", arguments: Endpoint.allCases)
    func badFileValue(endpoint: Endpoint) throws {
        var file = ConfigFile(path: "test.yml")
        file[keyPath: endpoint.fileValue] = "ftp://bad"
        let plain = try ExporterOptions.parse([])
        do {
            _ = try endpoint.resolve(EndpointTable(options: plain, file: file), NetworkChoice(options: plain, file: file))
            Issue.record("accepted ftp://bad")
        } catch {
            #expect(error.field == endpoint.configKey)
            #expect(error.description.hasPrefix("command line: \(endpoint.configKey): "))
        }
        let testnet = try ExporterOptions.parse(["--binance.testnet"])
        let url = try endpoint.resolve(EndpointTable(options: testnet, file: file), NetworkChoice(options: testnet, file: file))
        #expect(url == endpoint.testnet)
    }

    @Test("A venue without a testnet is a config error naming the testnet switch")
    func noTestnet() throws {
        let setting = EndpointSetting<String>(
            flag: "--binance.pm-rest-url", configKey: "binance.pm_rest_url", flagValue: nil, fileValue: "https://papi.test",
            defaults: .init(production: "https://papi.binance.com", testnet: nil), parse: { $0 })
        #expect(try setting.resolve(in: NetworkChoice(testnetFlag: false, testnetForDefaults: true)) == "https://papi.test")
        #expect(try setting.resolve(in: NetworkChoice(testnetFlag: false, testnetForDefaults: false)) == "https://papi.test")
        do {
            _ = try setting.resolve(in: NetworkChoice(testnetFlag: true, testnetForDefaults: true))
            Issue.record("a testnet URL was invented")
        } catch {
            #expect(error.field == "--binance.testnet")
        }
    }

    @Test("Settings.resolve wires each endpoint to its setting")
    func settingsWiring() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bfe-endpoints-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "binance:\n  testnet: true\n  market_stream_url: ws://file.test/market\n".write(toFile: path, atomically: true, encoding: .utf8)
        let options = try ExporterOptions.parse(["--demo", "--config.file", path, "--binance.rest-url", "http://flag.test/rest"])
        let settings = try Settings.resolve(options, environment: [:])
        #expect(settings.url.description == Endpoint.webSocketAPI.testnet)
        #expect(settings.streamURL.description == Endpoint.userStream.testnet)
        #expect(settings.marketStreamURL.description == "ws://file.test/market")
        #expect(settings.restURL.description == "http://flag.test/rest")
        #expect(settings.spotRestURL.description == Endpoint.spotREST.testnet)
    }
}
