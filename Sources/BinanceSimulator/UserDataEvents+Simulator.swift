/// One entry of the exchange's income ledger, as `GET /fapi/v1/income` reports it.
public struct IncomeRecord: Sendable, Equatable {
    public var apiKey: String
    public var symbol: String
    /// `REALIZED_PNL`, `COMMISSION`, `FUNDING_FEE`.
    public var type: String
    public var amount: Double
    public var asset: String
    public var time: Int64
    public var tranID: Int64
    /// The trade id for fill-related income; empty for funding.
    public var tradeID: String
    /// The account's venue: fapi lists USDⓈ-M records, dapi COIN-M ones.
    public var venue: SimulatedVenue = .usdM

    /// The ledger key of the account the record belongs to.
    var accountID: String { venue.accountID(apiKey) }
}

/// A listen key as the exchange holds it: one per account, valid until `expiresAt`.
struct ListenKeyState: Sendable {
    var key: String
    var expiresAt: Int64
}

/// Why Binance closes a position itself: the client order id prefix it uses for each.
public enum SimulatedForcedClose: String, Sendable, CaseIterable {
    case liquidation
    case adl
    case settlement

    func clientOrderID(_ serial: Int64) -> String {
        switch self {
        case .liquidation: "autoclose-\(serial)"
        case .adl: "adl_autoclose"
        case .settlement: "settlement_autoclose-\(serial)"
        }
    }
}

/// Builds the user data stream events exactly as Binance shapes them (every field the
/// official SDK's models declare), from the simulator's account state.
enum UserEventFrames {
    struct Fill {
        var symbol: String
        var side: String
        var positionSide: String
        var quantity: Double
        var price: Double
        var orderType: String
        var executionType: String
        var clientOrderID: String
        var orderID: Int64
        var tradeID: Int64
        var commission: Double
        var commissionAsset: String
        var realizedProfit: Double
        var maker: Bool
        /// Set when a triggered conditional order fills.
        var context: OrderContext? = nil
        /// COIN-M: the shape of that venue's event (nil: USDⓈ-M).
        var coinM: CoinMShape? = nil
        /// Portfolio Margin: the shape of that account's event (nil: a USDⓈ-M or COIN-M account).
        var portfolioMargin: PortfolioMarginShape? = nil
    }

    /// What a COIN-M event adds to the USDⓈ-M shape: the account alias (`i`) and the margin
    /// asset (`ma`); quantities are whole contracts. It drops `si`, `ss` and `gtd`.
    struct CoinMShape {
        var accountAlias: String
        var marginAsset: String
    }

    /// What a Portfolio Margin event (`ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`, …) looks like next
    /// to the USDⓈ-M one, as the PM SDK's models declare it: the business unit (`fs`: `UM` or
    /// `CM`) and the account alias (`i`) at the top; in `o` no `wt`, `ot`, `cp`, `AP`, `cr`,
    /// `pP`, `ss`, `pm`, `er` or `ma`, and `st` / `si` only for an order a conditional order
    /// placed; in `a.P` no `mt` / `iw`. CM quantities are whole contracts.
    struct PortfolioMarginShape {
        /// `UM` or `CM`.
        var businessUnit: String
        var accountAlias: String
        /// The conditional order that placed the reported one (`st`, `si`), if any.
        var strategyType: String? = nil
        var strategyID: Int64? = nil

        var isCoinM: Bool { businessUnit == "CM" }
    }

    static func orderTradeUpdate(_ fill: Fill, now: Int64) -> String {
        let context = fill.context
        var portfolioMargin = fill.portfolioMargin
        if let context {
            portfolioMargin?.strategyType = context.originalType
            portfolioMargin?.strategyID = context.orderID
        }
        let report = OrderReport(
            symbol: fill.symbol, clientOrderID: fill.clientOrderID, side: fill.side, type: fill.orderType,
            timeInForce: context != nil || fill.orderType == "LIMIT" ? "GTC" : "IOC", quantity: fill.quantity,
            price: fill.orderType == "LIMIT" ? fill.price : 0, averagePrice: fill.price, stopPrice: context?.stopPrice ?? 0,
            executionType: fill.executionType, status: "FILLED", orderID: fill.orderID, lastQuantity: fill.quantity,
            filledQuantity: fill.quantity, lastPrice: fill.price, commissionAsset: fill.commissionAsset, commission: fill.commission,
            tradeID: fill.tradeID, maker: fill.maker, reduceOnly: context?.reduceOnly ?? (fill.realizedProfit != 0),
            originalType: context?.originalType ?? fill.orderType, positionSide: fill.positionSide,
            closePosition: context?.closePosition ?? false, realizedProfit: fill.realizedProfit, coinM: fill.coinM,
            portfolioMargin: portfolioMargin)
        return orderTradeUpdate(report, now: now)
    }

    /// Where a fill comes from when it is not a plain market or limit order: a triggered
    /// conditional order, whose id, original type and flags the fill's report carries.
    struct OrderContext {
        var orderID: Int64
        var clientOrderID: String
        var originalType: String
        var stopPrice: Double
        var reduceOnly: Bool
        var closePosition: Bool
    }

    /// Everything one `ORDER_TRADE_UPDATE` says about an order: a fill, a new order, a cancel.
    struct OrderReport {
        var symbol: String
        var clientOrderID: String
        var side: String
        var type: String
        var timeInForce: String
        var quantity: Double
        var price: Double
        var averagePrice: Double
        var stopPrice: Double
        var executionType: String
        var status: String
        var orderID: Int64
        var lastQuantity: Double
        var filledQuantity: Double
        var lastPrice: Double
        var commissionAsset: String
        var commission: Double
        var tradeID: Int64
        var maker: Bool
        var reduceOnly: Bool
        var originalType: String
        var positionSide: String
        var closePosition: Bool
        var activationPrice: Double = 0
        var callbackRate: Double = 0
        var realizedProfit: Double
        var coinM: CoinMShape? = nil
        var portfolioMargin: PortfolioMarginShape? = nil
    }

    static func orderTradeUpdate(_ report: OrderReport, now: Int64) -> String {
        let coinM = report.coinM
        let pm = report.portfolioMargin
        let quantityPlaces = coinM == nil && pm?.isCoinM != true ? 3 : 0
        var o = JSONOut()
        o.string("s", report.symbol)
        o.string("c", report.clientOrderID)
        o.string("S", report.side)
        o.string("o", report.type)
        o.string("f", report.timeInForce)
        o.dec("q", report.quantity, places: quantityPlaces)
        o.dec("p", report.price, places: 5)
        o.dec("ap", report.averagePrice, places: 5)
        o.dec("sp", report.stopPrice, places: report.stopPrice == 0 ? 0 : 5)
        o.string("x", report.executionType)
        o.string("X", report.status)
        o.int("i", report.orderID)
        o.dec("l", report.lastQuantity, places: quantityPlaces)
        o.dec("z", report.filledQuantity, places: quantityPlaces)
        o.dec("L", report.lastPrice, places: 5)
        if let coinM { o.string("ma", coinM.marginAsset) }
        o.string("N", report.commissionAsset)
        o.dec("n", report.commission)
        o.int("T", now)
        o.int("t", report.tradeID)
        o.dec("b", 0, places: 0)
        o.dec("a", 0, places: 0)
        o.bool("m", report.maker)
        o.bool("R", report.reduceOnly)
        guard let pm else {
            o.string("wt", "CONTRACT_PRICE")
            o.string("ot", report.originalType)
            o.string("ps", report.positionSide)
            o.bool("cp", report.closePosition)
            o.dec("AP", report.activationPrice, places: report.activationPrice == 0 ? 0 : 5)
            o.dec("cr", report.callbackRate, places: report.callbackRate == 0 ? 0 : 1)
            o.bool("pP", false)
            if coinM == nil {
                o.int("si", 0)
                o.int("ss", 0)
            }
            o.dec("rp", report.realizedProfit)
            o.string("V", OrderFrames.selfTradePrevention)
            o.string("pm", "NONE")
            if coinM == nil { o.int("gtd", 0) }
            o.string("er", "0")
            return event("ORDER_TRADE_UPDATE", alias: coinM?.accountAlias, now: now) { $0.raw("o", o.finished()) }
        }
        o.string("ps", report.positionSide)
        o.dec("rp", report.realizedProfit)
        if let type = pm.strategyType, let id = pm.strategyID {
            o.string("st", type)
            o.int("si", id)
        }
        o.string("V", OrderFrames.selfTradePrevention)
        o.int("gtd", 0)
        return event("ORDER_TRADE_UPDATE", portfolioMargin: pm, now: now) { $0.raw("o", o.finished()) }
    }

    /// An event's head (`e`, `fs` on Portfolio Margin, `E`, `T`, the account alias `i`), then
    /// its body.
    private static func event(
        _ type: String, portfolioMargin: PortfolioMarginShape? = nil, alias: String? = nil, now: Int64,
        body: (inout JSONOut) -> Void
    ) -> String {
        var event = JSONOut()
        event.string("e", type)
        if let portfolioMargin { event.string("fs", portfolioMargin.businessUnit) }
        event.int("E", now)
        event.int("T", now)
        if let alias = portfolioMargin?.accountAlias ?? alias { event.string("i", alias) }
        body(&event)
        return event.finished()
    }

    struct BalanceChange {
        var asset: String
        var wallet: Double
        var crossWallet: Double
        var change: Double
    }

    /// `accountAlias`: a COIN-M account's (`i`); nil on USDⓈ-M. `portfolioMargin`: a Portfolio
    /// Margin account's event (`fs`, and position rows without `mt` / `iw`).
    static func accountUpdate(
        reason: String, balances: [BalanceChange], positions: [AccountBook.Leg], fundingSymbol: String? = nil,
        accountAlias: String? = nil, portfolioMargin: PortfolioMarginShape? = nil, now: Int64
    ) -> String {
        var a = JSONOut()
        a.string("m", reason)
        a.raw(
            "B",
            JSONOut.array(
                balances.map { balance in
                    var b = JSONOut()
                    b.string("a", balance.asset)
                    b.dec("wb", balance.wallet)
                    b.dec("cw", balance.crossWallet)
                    b.dec("bc", balance.change)
                    return b.finished()
                }))
        a.raw(
            "P",
            JSONOut.array(
                positions.map { leg in
                    var p = JSONOut()
                    p.string("s", leg.position.symbol)
                    p.dec("pa", leg.position.amount, places: leg.amountPlaces)
                    p.dec("ep", leg.position.entryPrice, places: 5)
                    p.dec("bep", leg.breakEvenPrice, places: 5)
                    p.dec("cr", 0)
                    p.dec("up", leg.unrealizedProfit)
                    if portfolioMargin == nil {
                        p.string("mt", leg.position.isolated ? "isolated" : "cross")
                        p.dec("iw", leg.isolatedWallet)
                    }
                    p.string("ps", leg.position.side)
                    return p.finished()
                }))
        if let fundingSymbol { a.string("S", fundingSymbol) }
        return event("ACCOUNT_UPDATE", portfolioMargin: portfolioMargin, alias: accountAlias, now: now) { $0.raw("a", a.finished()) }
    }

    static func marginCall(crossWallet: Double, legs: [AccountBook.Leg], accountAlias: String? = nil, now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "MARGIN_CALL")
        event.int("E", now)
        if let accountAlias { event.string("i", accountAlias) }
        event.dec("cw", crossWallet)
        event.raw(
            "p",
            JSONOut.array(
                legs.map { leg in
                    var p = JSONOut()
                    p.string("s", leg.position.symbol)
                    p.string("ps", leg.position.side)
                    p.dec("pa", leg.position.amount, places: leg.amountPlaces)
                    p.string("mt", leg.position.isolated ? "ISOLATED" : "CROSSED")
                    p.dec("iw", leg.isolatedWallet)
                    p.dec("mp", leg.mark)
                    p.dec("up", leg.unrealizedProfit)
                    p.dec("mm", leg.maintMargin)
                    return p.finished()
                }))
        return event.finished()
    }

    /// `businessUnit`: a Portfolio Margin account's (`fs`, `UM` or `CM`).
    static func accountConfigUpdate(symbol: String?, leverage: Double?, multiAssets: Bool?, businessUnit: String? = nil, now: Int64)
        -> String
    {
        var event = JSONOut()
        event.string("e", "ACCOUNT_CONFIG_UPDATE")
        if let businessUnit { event.string("fs", businessUnit) }
        event.int("E", now)
        event.int("T", now)
        if let symbol, let leverage {
            var ac = JSONOut()
            ac.string("s", symbol)
            ac.int("l", Int64(leverage))
            event.raw("ac", ac.finished())
        }
        if let multiAssets {
            var ai = JSONOut()
            ai.bool("j", multiAssets)
            event.raw("ai", ai.finished())
        }
        return event.finished()
    }

    /// `portfolioMargin`: without `listenKey`, as the PM SDK's model (only `E`) and Binance's PM
    /// documentation show it.
    static func listenKeyExpired(_ key: String, portfolioMargin: Bool = false, now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "listenKeyExpired")
        event.int("E", now)
        if !portfolioMargin { event.string("listenKey", key) }
        return event.finished()
    }

    /// `riskLevelChange` (Portfolio Margin): the account's uniMMR, the status it moved into (`s`,
    /// `NORMAL` included when it recovers) and the figures of `GET /papi/v1/account` in USD.
    static func riskLevelChange(_ summary: AccountBook.PortfolioMarginSummary, now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "riskLevelChange")
        event.int("E", now)
        event.dec("u", summary.uniMMR)
        event.string("s", summary.status.rawValue)
        event.dec("eq", summary.accountEquity)
        event.dec("ae", summary.actualEquity)
        event.dec("m", summary.maintMargin)
        return event.finished()
    }

    /// The combined-stream envelope of `/private/stream`.
    static func combined(stream: String, data: String) -> String {
        "{\"stream\":\(JSONOut.quote(stream)),\"data\":\(data)}"
    }
}
