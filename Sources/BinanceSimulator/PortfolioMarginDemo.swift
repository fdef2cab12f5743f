/// A ready-made Portfolio Margin account for the demo, `simulate` and the SDK conformance run:
/// one of everything papi reports, in a healthy band.
extension ExchangeSimulator {
    /// Adds a Portfolio Margin account on `apiKey`: USDT, BTC and ETH collateral, a USDT loan
    /// with interest, a BTCUSDT long and an ETHUSDT short (USDⓈ-M), a BTCUSD_PERP long
    /// (COIN-M, contracts), and one open order in each of papi's four lists.
    public func addDemoPortfolioMarginAccount(apiKey: String, key: SimulatedKey) {
        addAccount(
            SimulatedAccount(
                apiKey: apiKey, key: key, wallets: ["USDT": 20_000, "BTC": 0.4, "ETH": 3],
                positions: [
                    SimulatedPosition(symbol: "BTCUSDT", amount: 0.3, entryPrice: 62_000, leverage: 10),
                    SimulatedPosition(symbol: "ETHUSDT", amount: -4, entryPrice: 3_250, leverage: 5),
                    SimulatedPosition(symbol: "BTCUSD_PERP", amount: 25, entryPrice: 63_000, leverage: 20),
                ], venue: .portfolioMargin))
        setPortfolioMarginBorrowing(apiKey: apiKey, asset: "USDT", borrowed: 2_000, interest: 1.25, creditWallet: true)
        for order in [
            SimulatedOrder(service: .plain, symbol: "BTCUSDT", side: "SELL", type: "LIMIT", quantity: 0.1, price: 70_000, reduceOnly: true),
            SimulatedOrder(
                service: .algo, symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: 0, triggerPrice: 58_000, reduceOnly: true,
                closePosition: true),
            SimulatedOrder(service: .plain, symbol: "BTCUSD_PERP", side: "BUY", type: "LIMIT", quantity: 5, price: 60_000),
            SimulatedOrder(
                service: .algo, symbol: "BTCUSD_PERP", side: "SELL", type: "TRAILING_STOP_MARKET", quantity: 25, triggerPrice: 66_000,
                reduceOnly: true),
        ] {
            placeOrder(apiKey: apiKey, order)
        }
    }
}

extension ExchangeSimulator {
    /// One step of a cycle (call it every step of a demo loop) that makes the stream of the
    /// Portfolio Margin account on `apiKey` carry every event the exporter reads: fills on both
    /// sides (`ORDER_TRADE_UPDATE` and `ACCOUNT_UPDATE` with `fs` `UM` and `CM`), funding, a
    /// leverage change (`ACCOUNT_CONFIG_UPDATE`), and `riskLevelChange` to MARGIN_CALL and back
    /// to NORMAL (a forced status: the account's uniMMR stays where it is). Positions keep their
    /// side and open orders are left alone, so papi's answers keep their shape during a run.
    public func playPortfolioMarginDemo(_ step: Int, apiKey: String) {
        switch step % 8 {
        case 0: fill(apiKey: apiKey, symbol: "BTCUSDT", side: "SELL", quantity: 0.01)
        case 1: fill(apiKey: apiKey, symbol: "BTCUSDT", side: "BUY", quantity: 0.01, maker: true)
        case 2: fill(apiKey: apiKey, symbol: "BTCUSD_PERP", side: "SELL", quantity: 1)
        case 3: fill(apiKey: apiKey, symbol: "BTCUSD_PERP", side: "BUY", quantity: 1, maker: true)
        case 4:
            payFunding(apiKey: apiKey, symbol: "BTCUSDT", rate: 0.0001)
            payFunding(apiKey: apiKey, symbol: "BTCUSD_PERP", rate: 0.0001)
        case 5: forcePortfolioMarginStatus(apiKey: apiKey, .marginCall)
        case 6: forcePortfolioMarginStatus(apiKey: apiKey, nil)
        default: setLeverage(apiKey: apiKey, symbol: "BTCUSDT", leverage: Double(5 + step % 16))
        }
    }
}
