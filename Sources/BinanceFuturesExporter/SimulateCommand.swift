import ArgumentParser
import BinanceSimulator
import Foundation
import Logging

/// `simulate`: the built-in exchange simulator on its own, for conformance checks with other
/// clients (the official Python SDKs in CI). It prints one JSON line, the URLs and a throwaway
/// HMAC key pair that exists only in this process (the key holds a USDⓈ-M account and, with
/// `--coinm-accounts` ≥ 1, also the first COIN-M account; a Portfolio Margin account has a key
/// of its own with the same secret, since Binance keeps PM keys apart), then plays account
/// activity on those accounts until it is stopped.
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
        name: .customLong("coinm-accounts"),
        help: "COIN-M accounts (ws-dapi, dstream, dapi): the first on the main key, the others on keys of their own.")
    var coinMAccounts = 1

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
        var coinM: [(name: String, key: String, secret: String)] = []
        for index in 0..<max(0, coinMAccounts) {
            let key =
                index == 0 ? apiKey : "cm\(index)" + String((0..<60).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
            let keySecret =
                index == 0 ? secret : String((0..<64).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
            Self.addCoinMAccount(to: simulator, apiKey: key, secret: keySecret)
            coinM.append((index == 0 ? "sim-cm" : "sim-cm-\(index)", key, keySecret))
        }
        let pmKey = "pm" + String((0..<62).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
        simulator.addDemoPortfolioMarginAccount(apiKey: pmKey, key: .hmac(secret: secret))
        // Income on both sides of the PM account: a realized profit, fees and funding.
        simulator.fill(apiKey: pmKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.1)
        simulator.fill(apiKey: pmKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 5)
        simulator.payFunding(apiKey: pmKey, symbol: "BTCUSDT", rate: 0.0001)
        simulator.payFunding(apiKey: pmKey, symbol: "BTCUSD_PERP", rate: 0.0001)
        try await simulator.start(port: port)
        var line: [String: String] = [
            "ws_api": simulator.url, "stream": simulator.streamURL, "rest": simulator.restURL, "market": simulator.marketStreamURL,
            "api_key": apiKey, "api_secret": secret, "coinm_ws_api": simulator.coinmURL, "coinm_stream": simulator.coinmStreamURL,
            "coinm_rest": simulator.coinmRestURL, "pm_rest": simulator.pmRestURL, "pm_stream": simulator.pmStreamURL, "pm_api_key": pmKey,
            "usd_api_key": apiKey,
        ]
        if let first = coinM.first {
            line["coinm_api_key"] = first.key
            line["coinm_api_secret"] = first.secret
        }
        if let writeConfig {
            var yaml = """
                binance:
                  ws_url: \(simulator.url)
                  stream_url: \(simulator.streamURL)
                  market_stream_url: \(simulator.marketStreamURL)
                  rest_url: \(simulator.restURL)
                  spot_rest_url: \(simulator.restURL)
                  coinm_ws_url: \(simulator.coinmURL)
                  coinm_stream_url: \(simulator.coinmStreamURL)
                  coinm_rest_url: \(simulator.coinmRestURL)
                  pm_rest_url: \(simulator.pmRestURL)
                accounts:
                  - {name: sim, api_key: \(apiKey), secret: \(secret)}

                """
            for account in quiet { yaml += "  - {name: \(account.name), api_key: \(account.key), secret: \(account.secret)}\n" }
            for account in coinM {
                yaml += "  - {name: \(account.name), api_key: \(account.key), secret: \(account.secret), venue: coin-m}\n"
            }
            yaml += "  - {name: sim-pm, api_key: \(pmKey), secret: \(secret), venue: portfolio-margin}\n"
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
            for account in coinM { Self.playCoinM(step, on: simulator, apiKey: account.key) }
            simulator.playPortfolioMarginDemo(step, apiKey: pmKey)
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

    /// A COIN-M account: BTC and ETH wallets, a BTCUSD_PERP long (contracts) and an ETHUSD_PERP
    /// short, a reduce-only STOP_MARKET and a LIMIT order that stay for the whole run.
    static func addCoinMAccount(to simulator: ExchangeSimulator, apiKey: String, secret: String) {
        simulator.addAccount(
            SimulatedAccount(
                apiKey: apiKey, key: .hmac(secret: secret), wallets: ["BTC": 0.5, "ETH": 4],
                positions: [
                    SimulatedPosition(symbol: "BTCUSD_PERP", amount: 40, entryPrice: 62_500, leverage: 10),
                    SimulatedPosition(symbol: "ETHUSD_PERP", amount: -300, entryPrice: 3_180, leverage: 5),
                ], venue: .coinM))
        simulator.placeOrder(
            apiKey: apiKey,
            SimulatedOrder(
                service: .plain, symbol: "BTCUSD_PERP", side: "SELL", type: "STOP_MARKET", quantity: 40, triggerPrice: 58_000,
                reduceOnly: true))
        simulator.placeOrder(
            apiKey: apiKey, SimulatedOrder(service: .plain, symbol: "ETHUSD_PERP", side: "BUY", type: "LIMIT", quantity: 50, price: 2_900))
    }

    /// One step of the COIN-M cycle: every event a COIN-M account's user data stream carries
    /// (no ALGO_UPDATE on COIN-M: its stops are plain orders).
    static func playCoinM(_ step: Int, on simulator: ExchangeSimulator, apiKey: String) {
        switch step % 9 {
        case 0: simulator.fill(apiKey: apiKey, symbol: "BTCUSD_261225", side: "BUY", quantity: 5)
        case 1: simulator.fill(apiKey: apiKey, symbol: "BTCUSD_261225", side: "SELL", quantity: 5, maker: true)
        case 2: simulator.payFunding(apiKey: apiKey, symbol: "BTCUSD_PERP", rate: 0.0001)
        case 3: simulator.marginCall(apiKey: apiKey, venue: .coinM)
        case 4: simulator.setLeverage(apiKey: apiKey, symbol: "BTCUSD_PERP", leverage: Double(5 + step % 20))
        case 5:
            simulator.fill(apiKey: apiKey, symbol: "BTCUSD_261225", side: "BUY", quantity: 3)
            simulator.forceClose(apiKey: apiKey, symbol: "BTCUSD_261225", kind: .liquidation)
        case 6:
            simulator.fill(apiKey: apiKey, symbol: "ETHUSD_PERP", side: "SELL", quantity: 20)
            simulator.forceClose(apiKey: apiKey, symbol: "ETHUSD_PERP", kind: .adl)
            simulator.fill(apiKey: apiKey, symbol: "ETHUSD_PERP", side: "SELL", quantity: 300)
            simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .plain, symbol: "BTCUSD_PERP", side: "SELL", type: "TAKE_PROFIT_MARKET", quantity: 10,
                    triggerPrice: (simulator.markPrice("BTCUSD_PERP") * 1.1).rounded(), reduceOnly: true))
        case 7:
            for order in simulator.openOrders(apiKey: apiKey, venue: .coinM) where order.type == "TAKE_PROFIT_MARKET" {
                simulator.cancelOrder(apiKey: apiKey, service: .plain, id: order.id)
            }
        default:
            // Every other cycle, so that the USDⓈ-M key's expiry (same step) and this one alternate.
            if step % 18 == 8 { simulator.expireListenKey(apiKey: apiKey, venue: .coinM) }
        }
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
