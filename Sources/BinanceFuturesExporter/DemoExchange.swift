import BinanceSimulator
import BinanceWebSocketAPI
import Crypto
import ExporterCore
import Foundation
import Logging
import ServiceLifecycle
import _CryptoExtras

/// `--demo`: the built-in simulator with realistic accounts (one-way and hedge, single- and
/// multi-assets, HMAC, Ed25519 and RSA keys), prices that move, a position that opens and
/// closes, and on every account a position with a full stop, one with a partial stop and one
/// without, so every dashboard panel has data with no keys and no network. Plus one COIN-M
/// account (`coinMAccounts`: ws-dapi, dstream, dapi) with BTC and ETH wallets, a BTCUSD_PERP
/// long behind a plain reduce-only STOP_MARKET and an ETHUSD_PERP short. Plus one Portfolio
/// Margin account (`pmAccounts`: papi) with USDT, BTC and ETH collateral, a USDT loan, UM and
/// CM positions, whose uniMMR passes through the margin-call and reduce-only bands every ten
/// minutes.
///
/// Keys are generated in memory at start; nothing is written to disk.
struct DemoExchange {
    let simulator: ExchangeSimulator
    let accounts: [(name: String, credentials: APICredentials)]
    /// The COIN-M accounts (`venue: coin-m`; the simulator's `coinmURL`, `coinmStreamURL`, `coinmRestURL`).
    let coinMAccounts: [(name: String, credentials: APICredentials)]
    /// The Portfolio Margin accounts (`venue: portfolio-margin`; the simulator's `pmRestURL`).
    let pmAccounts: [(name: String, credentials: APICredentials)]

    static func make(extraAccounts: Int, symbols: Int, logger: Logger) throws -> DemoExchange {
        var configuration = SimulatorConfiguration()
        configuration.market = Market.standard(extraSymbols: symbols)
        let simulator = ExchangeSimulator(configuration: configuration, logger: logger)
        var accounts: [(String, APICredentials)] = []

        func randomKey(_ prefix: String) -> String {
            prefix + String((0..<56).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        }

        // 1. HMAC, single-asset, one-way: a long, a short, an isolated long.
        let mainKey = randomKey("demoMAIN")
        let mainSecret = randomKey("secret")
        simulator.addAccount(
            SimulatedAccount(
                apiKey: mainKey, key: .hmac(secret: mainSecret), wallets: ["USDT": 25_000],
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", amount: 0.5, entryPrice: 62_100, leverage: 10),
                    SimulatedPosition(symbol: "ETHUSDT", amount: -3, entryPrice: 3_250, leverage: 5),
                    SimulatedPosition(symbol: "SOLUSDT", amount: 40, entryPrice: 138.2, leverage: 8, isolated: true),
                ]))
        accounts.append(("demo-main", APICredentials(apiKey: mainKey, signer: try RequestSigner.hmac(secret: mainSecret))))
        DemoProtection.protect(simulator, apiKey: mainKey, full: ("BTCUSDT", "BOTH"), partial: ("ETHUSDT", "BOTH"))

        // 2. Ed25519 (session.logon), multi-assets, hedge mode.
        let edKey = Curve25519.Signing.PrivateKey()
        let hedgeKey = randomKey("demoHEDG")
        simulator.addAccount(
            SimulatedAccount(
                apiKey: hedgeKey, key: .ed25519(publicKey: edKey.publicKey), multiAssetsMargin: true, hedgeMode: true,
                wallets: ["USDT": 8_000, "USDC": 4_000, "BTC": 0.15],
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", side: "LONG", amount: 0.3, entryPrice: 63_500, leverage: 20),
                    SimulatedPosition(symbol: "BTCUSDT", side: "SHORT", amount: -0.1, entryPrice: 65_000, leverage: 20),
                    SimulatedPosition(symbol: "ETHUSDC", side: "LONG", amount: 2, entryPrice: 3_050, leverage: 10),
                ]))
        accounts.append(
            ("demo-hedge", APICredentials(apiKey: hedgeKey, signer: try RequestSigner.privateKey(pem: Self.pkcs8PEM(ed25519: edKey)))))
        DemoProtection.protect(simulator, apiKey: hedgeKey, full: ("BTCUSDT", "LONG"), partial: ("BTCUSDT", "SHORT"))

        // 3. RSA, single-asset, one-way: a position and an open order without a position (its
        // partly protected and unprotected positions open when the demo's market starts).
        let rsaKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let rsaAPIKey = randomKey("demoRSA_")
        simulator.addAccount(
            SimulatedAccount(
                apiKey: rsaAPIKey, key: .rsa(publicKey: rsaKey.publicKey), wallets: ["USDT": 3_000],
                positions: [
                    SimulatedPosition(symbol: "DOGEUSDT", amount: 12_000, entryPrice: 0.118, leverage: 3),
                    SimulatedPosition(symbol: "XRPUSDT", amount: 0, entryPrice: 0, leverage: 5, openOrderInitialMargin: 25),
                ]))
        // The demo RSA key works from any IP: the key check's warning has something to show.
        simulator.updateAccount(apiKey: rsaAPIKey) { $0.restrictions.ipRestrict = false }
        accounts.append(
            ("demo-rsa", APICredentials(apiKey: rsaAPIKey, signer: try RequestSigner.privateKey(pem: rsaKey.pemRepresentation))))
        DemoProtection.protect(simulator, apiKey: rsaAPIKey, full: ("DOGEUSDT", "BOTH"), partial: nil)
        simulator.placeOrder(
            apiKey: rsaAPIKey,
            SimulatedOrder(service: .plain, symbol: "XRPUSDT", side: "BUY", type: "LIMIT", quantity: 240, price: 0.5))

        // Extra flat HMAC accounts (benchmarks and multi-account demos).
        for index in 0..<max(0, extraAccounts) {
            let key = randomKey("demoX\(index)_")
            let secret = randomKey("secret")
            let symbolsForAccount = configuration.market.symbols.prefix(8)
            simulator.addAccount(
                SimulatedAccount(
                    apiKey: key, key: .hmac(secret: secret), wallets: ["USDT": 10_000 + Double(index) * 100],
                    positions: symbolsForAccount.enumerated().map { offset, symbol in
                        SimulatedPosition(
                            symbol: symbol, amount: offset % 2 == 0 ? 1 : -1,
                            entryPrice: configuration.market.price(symbol) * (offset % 2 == 0 ? 0.98 : 1.02), leverage: 5)
                    }))
            accounts.append(("demo-extra-\(index)", APICredentials(apiKey: key, signer: try RequestSigner.hmac(secret: secret))))
            // The first leg (a long) protected, the second (a short) partly, the others not.
            let legs = Array(symbolsForAccount)
            if legs.count >= 2 { DemoProtection.protect(simulator, apiKey: key, full: (legs[0], "BOTH"), partial: (legs[1], "BOTH")) }
        }

        // 4. COIN-M (HMAC, one-way): BTC and ETH wallets, a BTCUSD_PERP long of 40 contracts
        // (4,000 USD) protected by a plain reduce-only STOP_MARKET (COIN-M has no Algo service),
        // and an ETHUSD_PERP short of 250 contracts (2,500 USD) without a stop.
        let coinMKey = randomKey("demoCOIN")
        let coinMSecret = randomKey("secret")
        simulator.addAccount(
            SimulatedAccount(
                apiKey: coinMKey, key: .hmac(secret: coinMSecret), wallets: ["BTC": 0.5, "ETH": 4],
                positions: [
                    SimulatedPosition(symbol: "BTCUSD_PERP", amount: 40, entryPrice: 62_800, leverage: 10),
                    SimulatedPosition(symbol: "ETHUSD_PERP", amount: -250, entryPrice: 3_180, leverage: 5),
                ], venue: .coinM))
        if let long = simulator.account(apiKey: coinMKey, venue: .coinM)?.positions.first(where: { $0.symbol == "BTCUSD_PERP" }) {
            let stop = DemoProtection.stopPrice(simulator, apiKey: coinMKey, position: long, mark: simulator.markPrice(long.symbol))
            simulator.placeOrder(
                apiKey: coinMKey,
                SimulatedOrder(
                    service: .plain, symbol: long.symbol, side: "SELL", type: "STOP_MARKET", quantity: long.amount,
                    triggerPrice: stop.rounded(), reduceOnly: true))
        }
        let coinMAccounts = [("demo-coinm", APICredentials(apiKey: coinMKey, signer: try RequestSigner.hmac(secret: coinMSecret)))]

        // 5. Portfolio Margin (HMAC; a key of its own, as Binance requires): collateral in three
        // assets, a USDT loan, BTCUSDT long and ETHUSDT short (UM), a BTCUSD_PERP long (CM).
        let pmKey = randomKey("demoPMAR")
        let pmSecret = randomKey("secret")
        // Sized like a leveraged book: about 500,000 USD of notional, opened at today's marks, on
        // some 7,000 USD of equity, so that the bands are crossed by moving the USDT balance a
        // few thousand (uniMMR 2.4 is about 0.6 % of the notional).
        let mark = { (symbol: String) in simulator.markPrice(symbol) }
        simulator.addAccount(
            SimulatedAccount(
                apiKey: pmKey, key: .hmac(secret: pmSecret), wallets: ["USDT": 6_000, "BTC": 0.05, "ETH": 0.5],
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", amount: 4, entryPrice: mark("BTCUSDT") * 0.995, leverage: 100),
                    SimulatedPosition(symbol: "ETHUSDT", amount: -40, entryPrice: mark("ETHUSDT") * 1.004, leverage: 100),
                    SimulatedPosition(symbol: "BTCUSD_PERP", amount: 1_500, entryPrice: mark("BTCUSD_PERP") * 0.998, leverage: 100),
                ], venue: .portfolioMargin))
        simulator.setPortfolioMarginBorrowing(apiKey: pmKey, asset: "USDT", borrowed: 2_000, interest: 1.25, creditWallet: true)
        simulator.setPortfolioMarginUniMMR(apiKey: pmKey, DemoMarketService.pmHealthyUniMMR)
        let pmAccounts = [("demo-pm", APICredentials(apiKey: pmKey, signer: try RequestSigner.hmac(secret: pmSecret)))]
        return DemoExchange(simulator: simulator, accounts: accounts, coinMAccounts: coinMAccounts, pmAccounts: pmAccounts)
    }

    /// PKCS#8 wrapping of an Ed25519 seed (RFC 8410), as Binance's key generator writes it.
    static func pkcs8PEM(ed25519 key: Curve25519.Signing.PrivateKey) -> String {
        let prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        let der = Data(prefix + Array(key.rawRepresentation))
        return "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString())\n-----END PRIVATE KEY-----\n"
    }
}

/// Moves demo prices every second, trades and pays funding on the demo accounts (pushed on the
/// user data stream), and every five minutes replays harmless faults Binance produces in real
/// life (a `serverShutdown` reconnect, one −1001 answer, a dropped stream connection), so every
/// dashboard panel has something to show.
struct DemoMarketService: Service {
    let simulator: ExchangeSimulator
    let mainAPIKey: String
    var hedgeAPIKey: String?
    var rsaAPIKey: String?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var tick = 0
            // The RSA account's partly protected and unprotected positions.
            if let rsaAPIKey {
                simulator.fill(apiKey: rsaAPIKey, symbol: "BNBUSDT", side: "BUY", quantity: 2)
                simulator.fill(apiKey: rsaAPIKey, symbol: "ETHUSDT", side: "SELL", quantity: 0.5)
                DemoProtection.protect(simulator, apiKey: rsaAPIKey, full: nil, partial: ("BNBUSDT", "BOTH"))
            }
            var orders = DemoOrderActivity(simulator: simulator)
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                tick += 1
                simulator.tickPrices()
                // First replay 20 s / 45 s after start, so the first scrapes show a healthy demo.
                if tick % 300 == 20 {
                    simulator.announceShutdown()
                } else if tick % 300 == 45 {
                    simulator.updateFaults {
                        $0.forcedErrors.append(
                            ForcedError(
                                status: 503, code: -1001, message: "Internal error; unable to process your request. Please try again."))
                    }
                }
                // Account activity, pushed on the user data stream like Binance does: a LINKUSDT
                // position opened and closed every minute (fills, realized PnL, commissions),
                // funding every two minutes (Binance: every 8 h), a small hedge-account fill, and
                // a margin call every ten minutes.
                if tick % 60 == 30 {
                    simulator.fill(apiKey: mainAPIKey, symbol: "LINKUSDT", side: "BUY", quantity: 150)
                } else if tick % 60 == 0 {
                    simulator.fill(apiKey: mainAPIKey, symbol: "LINKUSDT", side: "SELL", quantity: 150)
                }
                if tick % 120 == 15 {
                    simulator.payFunding(apiKey: mainAPIKey, symbol: "BTCUSDT", rate: 0.0001)
                    simulator.payFunding(apiKey: mainAPIKey, symbol: "ETHUSDT", rate: 0.0001)
                }
                if let hedgeAPIKey, tick % 90 == 40 {
                    let side = tick % 180 == 40 ? "BUY" : "SELL"
                    simulator.fill(apiKey: hedgeAPIKey, symbol: "BTCUSDT", side: side, quantity: 0.01, positionSide: "LONG", maker: true)
                }
                if let hedgeAPIKey, tick % 600 == 150 { simulator.marginCall(apiKey: hedgeAPIKey) }
                // Every five minutes, like the faults above: the user stream connection drops (the
                // exporter resubscribes and polls at once), and a small ADAUSDT position of the
                // RSA account is auto-deleveraged, so the forced-close panels and alert have data.
                if tick % 300 == 25 { simulator.dropUserStreams() }
                if let rsaAPIKey, tick % 300 == 28 {
                    simulator.fill(apiKey: rsaAPIKey, symbol: "ADAUSDT", side: "BUY", quantity: 200)
                    simulator.forceClose(apiKey: rsaAPIKey, symbol: "ADAUSDT", kind: .adl)
                }
                orders.step(tick: tick)
                Self.coinMActivity(simulator, tick: tick)
                Self.portfolioMarginActivity(simulator, tick: tick)
            }
        }
    }
}

extension DemoMarketService {
    /// Where the demo's PM account sits between its excursions.
    static let pmHealthyUniMMR = 2.4

    /// The PM accounts' excursion every ten minutes: into the margin-call band (1.4) for a minute,
    /// the reduce-only band (1.15) for 40 s, then back to health, so the PM row's bands, status
    /// and alerts have something to show.
    static func portfolioMarginActivity(_ simulator: ExchangeSimulator, tick: Int) {
        let target: Double? =
            switch tick % 600 {
            case 200: 1.4
            case 260: 1.15
            case 300: pmHealthyUniMMR
            default: nil
            }
        guard let target else { return }
        for apiKey in simulator.accountKeys(venue: .portfolioMargin) { simulator.setPortfolioMarginUniMMR(apiKey: apiKey, target) }
    }

    /// The COIN-M accounts' activity: a dated BTCUSD_261225 position opened and closed every
    /// 75 s (fills, realized PnL and commissions in BTC), funding on BTCUSD_PERP every two
    /// minutes, and a TAKE_PROFIT_MARKET on the long placed and cancelled every 90 s.
    static func coinMActivity(_ simulator: ExchangeSimulator, tick: Int) {
        for apiKey in simulator.accountKeys(venue: .coinM) {
            if tick % 75 == 20 {
                simulator.fill(apiKey: apiKey, symbol: "BTCUSD_261225", side: "BUY", quantity: 10)
            } else if tick % 75 == 50 {
                simulator.fill(apiKey: apiKey, symbol: "BTCUSD_261225", side: "SELL", quantity: 10)
            }
            if tick % 120 == 75 { simulator.payFunding(apiKey: apiKey, symbol: "BTCUSD_PERP", rate: 0.0001) }
            if tick % 90 == 35 {
                simulator.placeOrder(
                    apiKey: apiKey,
                    SimulatedOrder(
                        service: .plain, symbol: "BTCUSD_PERP", side: "SELL", type: "TAKE_PROFIT_MARKET", quantity: 20,
                        triggerPrice: (simulator.markPrice("BTCUSD_PERP") * 1.08).rounded(), reduceOnly: true))
            } else if tick % 90 == 80 {
                for order in simulator.openOrders(apiKey: apiKey, venue: .coinM) where order.type == "TAKE_PROFIT_MARKET" {
                    simulator.cancelOrder(apiKey: apiKey, service: .plain, id: order.id)
                }
            }
        }
    }
}

/// The demo's stops: on each account one leg fully protected (a close-position STOP_MARKET
/// between the mark and the liquidation price, so that it can work, and a TAKE_PROFIT_MARKET for
/// the whole leg), one partly (a reduce-only STOP_MARKET for about half of it), the rest without.
enum DemoProtection {
    static func protect(
        _ simulator: ExchangeSimulator, apiKey: String, full: (symbol: String, side: String)?, partial: (symbol: String, side: String)?
    ) {
        guard let positions = simulator.account(apiKey: apiKey)?.positions else { return }
        func leg(_ wanted: (symbol: String, side: String)?) -> SimulatedPosition? {
            guard let wanted else { return nil }
            return positions.first { $0.symbol == wanted.symbol && $0.side == wanted.side && $0.amount != 0 }
        }
        if let position = leg(full) {
            let mark = simulator.markPrice(position.symbol)
            let long = position.amount > 0
            simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .algo, symbol: position.symbol, side: long ? "SELL" : "BUY", positionSide: position.side,
                    type: "STOP_MARKET", quantity: 0,
                    triggerPrice: stopPrice(simulator, apiKey: apiKey, position: position, mark: mark), reduceOnly: true,
                    closePosition: true))
            simulator.placeOrder(
                apiKey: apiKey,
                SimulatedOrder(
                    service: .algo, symbol: position.symbol, side: long ? "SELL" : "BUY", positionSide: position.side,
                    type: "TAKE_PROFIT_MARKET", quantity: abs(position.amount), triggerPrice: rounded(mark * (long ? 1.08 : 0.92)),
                    reduceOnly: true))
        }
        if let position = leg(partial) {
            simulator.placeOrder(apiKey: apiKey, partialStop(position, mark: simulator.markPrice(position.symbol)))
        }
    }

    /// A reduce-only STOP_MARKET for about half of `position`, 5 % beyond the mark.
    static func partialStop(_ position: SimulatedPosition, mark: Double) -> SimulatedOrder {
        let long = position.amount > 0
        let half = max(0.001, (abs(position.amount) / 2 * 1000).rounded() / 1000)
        return SimulatedOrder(
            service: .algo, symbol: position.symbol, side: long ? "SELL" : "BUY", positionSide: position.side, type: "STOP_MARKET",
            quantity: half, triggerPrice: rounded(mark * (long ? 0.95 : 1.05)), reduceOnly: true)
    }

    /// 40 % of the way from the mark to the liquidation price (5 % from the mark when the leg has none).
    static func stopPrice(_ simulator: ExchangeSimulator, apiKey: String, position: SimulatedPosition, mark: Double) -> Double {
        let liquidation = simulator.liquidationPrice(apiKey: apiKey, symbol: position.symbol, positionSide: position.side)
        let long = position.amount > 0
        guard liquidation > 0, long ? liquidation < mark : liquidation > mark else { return rounded(mark * (long ? 0.95 : 1.05)) }
        return rounded(mark + (liquidation - mark) * 0.4)
    }

    /// Five significant digits, like a tick size would leave them.
    static func rounded(_ price: Double) -> Double {
        guard price > 0 else { return price }
        let scale = pow(10, 4 - floor(log10(price)))
        return (price * scale).rounded() / scale
    }
}

/// Every 20 to 40 s per account (randomised), the demo cancels or re-places its partial stop and
/// places or cancels a plain LIMIT order, so the protection and open-order panels move. The
/// accounts it works on are those with a partial stop: a reduce-only STOP_MARKET algo order that
/// does not close the whole position.
struct DemoOrderActivity {
    struct Slot {
        var apiKey: String
        var partial: SimulatedOrder
        var partialID: Int64?
        var limitID: Int64?
        var due: Int
    }

    let simulator: ExchangeSimulator
    var slots: [Slot]

    init(simulator: ExchangeSimulator) {
        self.simulator = simulator
        slots = simulator.accountKeys.compactMap { apiKey in
            guard
                let partial = simulator.openOrders(apiKey: apiKey).first(where: {
                    $0.service == .algo && $0.type == "STOP_MARKET" && $0.reduceOnly && !$0.closePosition
                })
            else { return nil }
            return Slot(apiKey: apiKey, partial: partial, partialID: partial.id, limitID: nil, due: Int.random(in: 10...40))
        }
    }

    mutating func step(tick: Int) {
        for index in slots.indices where slots[index].due <= tick {
            var slot = slots[index]
            let mark = simulator.markPrice(slot.partial.symbol)
            let long = slot.partial.side == "SELL"
            if let id = slot.partialID {
                simulator.cancelOrder(apiKey: slot.apiKey, service: .algo, id: id)
                slot.partialID = nil
            } else {
                var order = slot.partial
                order.triggerPrice = DemoProtection.rounded(mark * (long ? 0.95 : 1.05))
                slot.partialID = simulator.placeOrder(apiKey: slot.apiKey, order)
            }
            if let id = slot.limitID {
                simulator.cancelOrder(apiKey: slot.apiKey, service: .plain, id: id)
                slot.limitID = nil
            } else {
                // A resting order on the partial stop's side, 3 % away from the mark.
                slot.limitID = simulator.placeOrder(
                    apiKey: slot.apiKey,
                    SimulatedOrder(
                        service: .plain, symbol: slot.partial.symbol, side: slot.partial.side, positionSide: slot.partial.positionSide,
                        type: "LIMIT", quantity: slot.partial.quantity, price: DemoProtection.rounded(mark * (long ? 1.03 : 0.97))))
            }
            slot.due = tick + Int.random(in: 20...40)
            slots[index] = slot
        }
    }
}
