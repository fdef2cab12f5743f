/// The dapi answers (COIN-M), with every field of the official COIN-M SDK's REST models.
extension ExchangeSimulator {
    /// `GET /dapi/v1/exchangeInfo` (`ExchangeInformationResponse`): the listed COIN-M contracts
    /// with their `contractSize` (USD per contract, an integer), and the shared weight limit.
    func coinMExchangeInfo(state: ExchangeState, now: Int64) -> String {
        var limits: [String] = []
        for (type, limit) in [("REQUEST_WEIGHT", configuration.weightLimit), ("ORDERS", 1200)] {
            var out = JSONOut()
            out.string("rateLimitType", type)
            out.string("interval", "MINUTE")
            out.int("intervalNum", 1)
            out.int("limit", limit)
            limits.append(out.finished())
        }
        var out = JSONOut()
        out.string("timezone", "UTC")
        out.int("serverTime", now)
        out.raw("rateLimits", JSONOut.array(limits))
        out.raw("exchangeFilters", "[]")
        out.raw("symbols", JSONOut.array(state.market.coinM.map(Self.exchangeInfoSymbol)))
        return out.finished()
    }

    static func exchangeInfoSymbol(_ contract: CoinMContract) -> String {
        let tick = DecimalFormat.string(1 / pow10(contract.pricePrecision), places: contract.pricePrecision)
        func filter(_ type: String, _ fields: [(String, String)], limit: Int64? = nil) -> String {
            var out = JSONOut()
            out.string("filterType", type)
            for (name, value) in fields { out.string(name, value) }
            if let limit { out.int("limit", limit) }
            return out.finished()
        }
        let filters = [
            filter("PRICE_FILTER", [("minPrice", tick), ("maxPrice", "4529764"), ("tickSize", tick)]),
            filter("LOT_SIZE", [("stepSize", "1"), ("maxQty", "1000000"), ("minQty", "1")]),
            filter("MARKET_LOT_SIZE", [("stepSize", "1"), ("maxQty", "60"), ("minQty", "1")]),
            filter("MAX_NUM_ORDERS", [], limit: 200),
            filter("PERCENT_PRICE", [("multiplierUp", "1.0500"), ("multiplierDown", "0.9500"), ("multiplierDecimal", "4")]),
        ]
        func strings(_ values: [String]) -> String { JSONOut.array(values.map(JSONOut.quote)) }
        var out = JSONOut()
        out.raw("filters", JSONOut.array(filters))
        out.raw(
            "orderTypes", strings(["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]))
        out.raw("timeInForce", strings(["GTC", "IOC", "FOK", "GTX"]))
        out.string("liquidationFee", "0.010000")
        out.string("marketTakeBound", "0.05")
        out.string("symbol", contract.symbol)
        out.string("pair", contract.pair)
        out.string("contractType", contract.contractType)
        out.int("deliveryDate", contract.deliveryDate)
        out.int("onboardDate", contract.onboardDate)
        out.string("contractStatus", "TRADING")
        out.int("contractSize", Int64(contract.contractSize))
        out.string("quoteAsset", "USD")
        out.string("baseAsset", contract.marginAsset)
        out.string("marginAsset", contract.marginAsset)
        out.int("pricePrecision", Int64(contract.pricePrecision))
        out.int("quantityPrecision", 0)
        out.int("baseAssetPrecision", 8)
        out.int("quotePrecision", 8)
        out.int("equalQtyPrecision", 4)
        out.string("triggerProtect", "0.0500")
        out.string("maintMarginPercent", "2.5000")
        out.string("requiredMarginPercent", "5.0000")
        out.string("underlyingType", "COIN")
        out.raw("underlyingSubType", strings(["PoW"]))
        return out.finished()
    }

    static func pow10(_ exponent: Int) -> Double { (0..<max(0, exponent)).reduce(1.0) { value, _ in value * 10 } }

    /// `GET /dapi/v2/leverageBracket` (`NotionalBracketForSymbolResponseInner`): the tiers in coin
    /// quantity (`qtyCap`, `qtylFloor` as the SDK spells it), the same ones `account.status`
    /// values maintenance margin with.
    static func coinMBrackets(_ market: Market, symbol: String?) -> String {
        let contracts = market.coinM.filter { symbol == nil || $0.symbol == symbol }
        return JSONOut.array(
            contracts.map { contract in
                var out = JSONOut()
                out.string("symbol", contract.symbol)
                out.raw("notionalCoef", "1.0")
                out.raw(
                    "brackets",
                    JSONOut.array(
                        contract.brackets.map { bracket in
                            var tier = JSONOut()
                            tier.int("bracket", Int64(bracket.bracket))
                            tier.int("initialLeverage", Int64(bracket.initialLeverage))
                            tier.int("qtyCap", Int64(bracket.quantityCap))
                            tier.int("qtylFloor", Int64(bracket.quantityFloor))
                            tier.raw("maintMarginRatio", number(bracket.maintMarginRatio))
                            tier.raw("cum", number(bracket.cum))
                            return tier.finished()
                        }))
                return out.finished()
            })
    }

    /// A JSON number without trailing zeros (`0.004`, `1.605`, `0.0`).
    static func number(_ value: Double) -> String {
        var text = DecimalFormat.string(value, places: 8)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text += "0" }
        return text
    }

    /// `GET /dapi/v1/income` (`GetIncomeHistoryResponseInner`): amounts in the coin, `tranId` a
    /// string as the COIN-M SDK declares it; optional `symbol` and `incomeType` filters.
    func coinMIncome(state: ExchangeState, accountID: String, params: [String: String], now: Int64) -> String {
        let rows = IncomeQuery(params, now: now).select(state.income, accountID: accountID)
        return JSONOut.array(rows.map { Self.incomeJSON($0, tranIDAsString: true) })
    }
}
