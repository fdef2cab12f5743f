/// The simulated market: the listed symbols and their mark prices.
public struct Market: Sendable {
    public var markPrices: [String: Double]
    /// Listed USDⓈ-M symbols in listing order; v1 methods return one row per symbol (two in hedge mode).
    public var symbols: [String]
    /// Listed COIN-M contracts in listing order (their mark prices are in `markPrices` too).
    public var coinM: [CoinMContract] = []

    /// A realistic default: a handful of real symbols plus `extraSymbols` synthetic ones, so that
    /// v1 answers can be made as large as the real exchange's (hundreds of rows), and three
    /// COIN-M contracts (`BTCUSD_PERP`, `ETHUSD_PERP`, the dated `BTCUSD_261225`) priced close
    /// to their USDⓈ-M references.
    public static func standard(extraSymbols: Int = 20) -> Market {
        var prices: [String: Double] = [
            "BTCUSDT": 64_250.5, "ETHUSDT": 3_120.25, "SOLUSDT": 142.37, "BNBUSDT": 585.1, "XRPUSDT": 0.5231,
            "DOGEUSDT": 0.1234, "ADAUSDT": 0.4412, "BTCUSDC": 64_240.1, "ETHUSDC": 3_119.8, "LINKUSDT": 14.215,
        ]
        var symbols = prices.keys.sorted()
        for index in 0..<max(0, extraSymbols) {
            let symbol = "SYM\(index)USDT"
            prices[symbol] = 1 + Double(index % 97) * 1.25
            symbols.append(symbol)
        }
        var market = Market(markPrices: prices, symbols: symbols)
        market.coinM = CoinMContract.standard
        for contract in market.coinM {
            market.markPrices[contract.symbol] = (prices[contract.reference] ?? 1) * (1 + contract.basis)
        }
        return market
    }

    /// Funding rate per symbol (default 0.0001, Binance's usual base rate).
    public var fundingRates: [String: Double] = [:]
    /// Portfolio Margin collateral rate per asset (the haircut `accountEquity` applies to a
    /// holding); an asset not listed counts at `Market.defaultCollateralRate`.
    public var collateralRates: [String: Double] = Market.standardCollateralRates

    public func price(_ symbol: String) -> Double { markPrices[symbol] ?? 1 }
    public func fundingRate(_ symbol: String) -> Double { fundingRates[symbol] ?? 0.0001 }

    /// The COIN-M contract `symbol`, if it is one.
    public func coinMContract(_ symbol: String) -> CoinMContract? { coinM.first { $0.symbol == symbol } }

    /// The venue a listed symbol trades on (an unknown symbol: USDⓈ-M).
    func venue(of symbol: String) -> SimulatedVenue { coinMContract(symbol) == nil ? .usdM : .coinM }

    /// The asset a symbol's margin, PnL and fees are in: the quote asset on USDⓈ-M, the coin on COIN-M.
    func marginAsset(of symbol: String) -> String {
        if let contract = coinMContract(symbol) { return contract.marginAsset }
        return symbol.hasSuffix("USDC") ? "USDC" : "USDT"
    }

    /// The USD price of an asset, for multi-assets totals (stablecoins at 1).
    func usdPrice(of asset: String) -> Double {
        switch asset {
        case "USDT", "USDC", "FDUSD", "BUSD": return 1
        default: return markPrices["\(asset)USDT"] ?? 0
        }
    }
}

/// A COIN-M (inverse) contract: each contract is worth `contractSize` USD; margin, PnL and
/// notional are in `marginAsset` (the pair's base coin).
public struct CoinMContract: Sendable, Equatable {
    /// `BTCUSD_PERP`, or a dated contract `BTCUSD_261225`.
    public var symbol: String
    /// `BTCUSD`.
    public var pair: String
    /// `PERPETUAL`, `CURRENT_QUARTER`, `NEXT_QUARTER`.
    public var contractType: String
    /// USD per contract (Binance: 100 for BTCUSD, 10 for the others).
    public var contractSize: Double
    /// The coin: base asset and margin asset.
    public var marginAsset: String
    /// Delivery time (ms); Binance's far-future 4133404800000 for a perpetual.
    public var deliveryDate: Int64
    public var onboardDate: Int64
    /// Price decimals (tick size 10^-pricePrecision).
    public var pricePrecision: Int
    /// The USDⓈ-M symbol the mark price follows, and the premium over it.
    public var reference: String
    public var basis: Double
    /// Maintenance tiers in coin quantity (`GET /dapi/v2/leverageBracket`).
    public var brackets: [CoinMBracket]

    public init(
        symbol: String, contractType: String, contractSize: Double, marginAsset: String, deliveryDate: Int64 = 4_133_404_800_000,
        onboardDate: Int64 = 1_597_042_800_000, pricePrecision: Int = 1, reference: String, basis: Double = 0,
        brackets: [CoinMBracket]
    ) {
        self.symbol = symbol
        self.pair = symbol.firstIndex(of: "_").map { String(symbol[..<$0]) } ?? symbol
        self.contractType = contractType
        self.contractSize = contractSize
        self.marginAsset = marginAsset
        self.deliveryDate = deliveryDate
        self.onboardDate = onboardDate
        self.pricePrecision = pricePrecision
        self.reference = reference
        self.basis = basis
        self.brackets = brackets
    }

    public var isPerpetual: Bool { contractType == "PERPETUAL" }

    /// The bracket a position of `quantity` coins falls in.
    func bracket(forQuantity quantity: Double) -> CoinMBracket {
        brackets.first { quantity < $0.quantityCap } ?? brackets[brackets.count - 1]
    }

    /// The most coins a position may hold at `leverage` (`maxQty`).
    func maxQuantity(atLeverage leverage: Double) -> Double {
        brackets.filter { Double($0.initialLeverage) >= leverage }.map(\.quantityCap).max() ?? brackets[0].quantityCap
    }

    static let btcBrackets = CoinMBracket.tiers([(5, 125, 0.004), (10, 100, 0.005), (20, 50, 0.01), (50, 20, 0.025), (10_000, 10, 0.05)])
    static let ethBrackets = CoinMBracket.tiers([
        (250, 75, 0.005), (500, 50, 0.01), (1_000, 25, 0.02), (5_000, 10, 0.05), (100_000, 5, 0.1),
    ])

    /// `BTCUSD_PERP` (100 USD), `ETHUSD_PERP` (10 USD), `BTCUSD_261225` (100 USD, delivered 2026-12-25 08:00 UTC).
    public static let standard: [CoinMContract] = [
        CoinMContract(
            symbol: "BTCUSD_PERP", contractType: "PERPETUAL", contractSize: 100, marginAsset: "BTC", reference: "BTCUSDT",
            basis: -0.0002, brackets: btcBrackets),
        CoinMContract(
            symbol: "ETHUSD_PERP", contractType: "PERPETUAL", contractSize: 10, marginAsset: "ETH", pricePrecision: 2,
            reference: "ETHUSDT", basis: -0.0002, brackets: ethBrackets),
        CoinMContract(
            symbol: "BTCUSD_261225", contractType: "CURRENT_QUARTER", contractSize: 100, marginAsset: "BTC",
            deliveryDate: 1_798_185_600_000, onboardDate: 1_782_460_800_000, reference: "BTCUSDT", basis: 0.004,
            brackets: btcBrackets),
    ]
}

/// One maintenance tier of a COIN-M contract, bounded in coin quantity.
public struct CoinMBracket: Sendable, Equatable {
    public var bracket: Int
    public var initialLeverage: Int
    public var quantityFloor: Double
    public var quantityCap: Double
    public var maintMarginRatio: Double
    /// Binance's maintenance amount: `cum(n) = cum(n-1) + floor(n) × (rate(n) − rate(n-1))`, so
    /// that maintenance margin (`notional × rate − cum`) is continuous over the tiers.
    public var cum: Double

    /// Tiers from (cap, leverage, rate) rows, floors and `cum` derived.
    static func tiers(_ rows: [(cap: Double, leverage: Int, rate: Double)]) -> [CoinMBracket] {
        var out: [CoinMBracket] = []
        for (index, row) in rows.enumerated() {
            let floor = index == 0 ? 0 : rows[index - 1].cap
            let previousRate = index == 0 ? row.rate : rows[index - 1].rate
            let cum = (out.last?.cum ?? 0) + floor * (row.rate - previousRate)
            out.append(
                CoinMBracket(
                    bracket: index + 1, initialLeverage: row.leverage, quantityFloor: floor, quantityCap: row.cap,
                    maintMarginRatio: row.rate, cum: (cum * 1e8).rounded() / 1e8))
        }
        return out
    }
}
