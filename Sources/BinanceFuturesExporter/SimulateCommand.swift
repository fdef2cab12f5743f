import ArgumentParser
import BinanceSimulator
import Foundation
import Logging

/// `simulate`: the built-in exchange simulator on its own, for conformance checks with other
/// clients (the official Python SDK in CI). It prints one JSON line, the URLs and a throwaway
/// HMAC key pair that exists only in this process, then plays account activity on that account
/// until it is stopped.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run only the built-in exchange simulator on 127.0.0.1 (development and conformance tests).")

    @Option(name: .customLong("port"), help: "Port to listen on (0: any free port).")
    var port = 0

    @Option(
        name: .customLong("activity-interval"),
        help: "Seconds between account activity steps (fills, funding, margin calls, forced closes).")
    var activityInterval = 0.5

    @Option(
        name: .customLong("extra-accounts"),
        help: "Also create this many quiet HMAC accounts, each with two positions (scale measurements).")
    var extraAccounts = 0

    @Option(
        name: .customLong("write-config"),
        help: "Write an exporter config file (mode 600) for every simulated account, pointing at this simulator, to this path.")
    var writeConfig: String?

    func run() async throws {
        let simulator = ExchangeSimulator(logger: Logger(label: "simulator"))
        var quiet: [(name: String, key: String, secret: String)] = []
        for index in 0..<max(0, extraAccounts) {
            let key = "scale\(index)" + String((0..<50).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
            let secret = String((0..<64).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: key, key: .hmac(secret: secret), wallets: ["USDT": 10_000],
                    positions: [
                        SimulatedPosition(symbol: "BTCUSDT", amount: 0.1, entryPrice: 63_000, leverage: 10),
                        SimulatedPosition(symbol: "ETHUSDT", amount: -1, entryPrice: 3_200, leverage: 5),
                    ]))
            quiet.append(("scale-\(index)", key, secret))
        }
        let apiKey = "sim" + String((0..<61).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
        let secret = String((0..<64).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        simulator.addAccount(
            SimulatedAccount(
                apiKey: apiKey, key: .hmac(secret: secret), wallets: ["USDT": 10_000],
                positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 0.5, entryPrice: 62_000, leverage: 10)]))
        Self.placeStandingOrders(on: simulator, apiKey: apiKey)
        try await simulator.start(port: port)
        let line: [String: String] = [
            "ws_api": simulator.url, "stream": simulator.streamURL, "rest": simulator.restURL, "market": simulator.marketStreamURL,
            "api_key": apiKey, "api_secret": secret,
        ]
        if let writeConfig {
            var yaml = """
                binance:
                  ws_url: \(simulator.url)
                  stream_url: \(simulator.streamURL)
                  market_stream_url: \(simulator.marketStreamURL)
                  rest_url: \(simulator.restURL)
                  spot_rest_url: \(simulator.restURL)
                accounts:
                  - {name: sim, api_key: \(apiKey), secret: \(secret)}

                """
            for account in quiet { yaml += "  - {name: \(account.name), api_key: \(account.key), secret: \(account.secret)}\n" }
            guard FileManager.default.createFile(atPath: writeConfig, contents: Data(yaml.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ValidationError("cannot write \(writeConfig)")
            }
        }
        let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        FileHandle.standardOutput.write(json + Data("\n".utf8))
        var step = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(activityInterval * 1000)))
            Self.play(step, on: simulator, apiKey: apiKey)
            step += 1
        }
    }

    /// One step of a cycle that produces every user data stream event the exporter reads.
    static func play(_ step: Int, on simulator: ExchangeSimulator, apiKey: String) {
        simulator.tickPrices()
        switch step % 9 {
        case 0: simulator.fill(apiKey: apiKey, symbol: "ETHUSDT", side: "BUY", quantity: 1)
        case 1: simulator.fill(apiKey: apiKey, symbol: "ETHUSDT", side: "SELL", quantity: 1, maker: true)
        case 2: simulator.payFunding(apiKey: apiKey, symbol: "BTCUSDT", rate: 0.0001)
        case 3: simulator.marginCall(apiKey: apiKey)
        case 4:
            simulator.setLeverage(apiKey: apiKey, symbol: "BTCUSDT", leverage: Double(5 + step % 20))
            simulator.setMultiAssetsMode(apiKey: apiKey, enabled: step % 18 == 4)
        case 5:
            simulator.fill(apiKey: apiKey, symbol: "SOLUSDT", side: "BUY", quantity: 10)
            simulator.forceClose(apiKey: apiKey, symbol: "SOLUSDT", kind: .liquidation)
        case 6:
            simulator.fill(apiKey: apiKey, symbol: "XRPUSDT", side: "SELL", quantity: 100)
            simulator.forceClose(apiKey: apiKey, symbol: "XRPUSDT", kind: .adl)
        case 7:
            simulator.fill(apiKey: apiKey, symbol: "DOGEUSDT", side: "BUY", quantity: 1000)
            simulator.forceClose(apiKey: apiKey, symbol: "DOGEUSDT", kind: .settlement)
        default: simulator.expireListenKey(apiKey: apiKey)
        }
        playOrders(step, on: simulator, apiKey: apiKey)
    }

    /// Open orders of both services that stay for the whole run (`openOrders`, `openAlgoOrders`).
    static func placeStandingOrders(on simulator: ExchangeSimulator, apiKey: String) {
        for order in [
            SimulatedOrder(
                service: .algo, symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: 0, triggerPrice: 58_000, reduceOnly: true,
                closePosition: true),
            SimulatedOrder(
                service: .algo, symbol: "BTCUSDT", side: "SELL", type: "TRAILING_STOP_MARKET", quantity: 0.1, triggerPrice: 66_000,
                reduceOnly: true),
            SimulatedOrder(
                service: .algo, symbol: "ETHUSDT", side: "BUY", type: "TAKE_PROFIT", quantity: 1, triggerPrice: 2_900, price: 2_895),
            SimulatedOrder(service: .plain, symbol: "BTCUSDT", side: "SELL", type: "LIMIT", quantity: 0.1, price: 70_000, reduceOnly: true),
            SimulatedOrder(service: .plain, symbol: "ETHUSDT", side: "BUY", type: "LIMIT", quantity: 1, price: 2_800),
        ] {
            simulator.placeOrder(apiKey: apiKey, order)
        }
    }

    /// The order side of a step: a take-profit placed and cancelled, a limit order placed and
    /// cancelled, and a close-position stop that triggers and closes a small position.
    static func playOrders(_ step: Int, on simulator: ExchangeSimulator, apiKey: String) {
        let open = simulator.openOrders(apiKey: apiKey)
        switch step % 9 {
        case 2:
            simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .algo, symbol: "BTCUSDT", side: "SELL", type: "TAKE_PROFIT_MARKET", quantity: 0.2,
                    triggerPrice: (simulator.markPrice("BTCUSDT") * 1.1).rounded(), reduceOnly: true))
        case 3:
            simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .plain, symbol: "BTCUSDT", side: "BUY", type: "LIMIT", quantity: 0.01,
                    price: (simulator.markPrice("BTCUSDT") * 0.9).rounded()))
        case 4:
            simulator.fill(apiKey: apiKey, symbol: "ADAUSDT", side: "BUY", quantity: 100)
            let stop = simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .algo, symbol: "ADAUSDT", side: "SELL", type: "STOP_MARKET", quantity: 0,
                    triggerPrice: simulator.markPrice("ADAUSDT") * 0.95, reduceOnly: true, closePosition: true))
            simulator.triggerAlgoOrder(apiKey: apiKey, id: stop)
        case 6:
            for order in open where order.type == "TAKE_PROFIT_MARKET" {
                simulator.cancelOrder(apiKey: apiKey, service: .algo, id: order.id)
            }
        case 7:
            for order in open where order.service == .plain && order.symbol == "BTCUSDT" && order.side == "BUY" {
                simulator.cancelOrder(apiKey: apiKey, service: .plain, id: order.id)
            }
        default: break
        }
    }
}
