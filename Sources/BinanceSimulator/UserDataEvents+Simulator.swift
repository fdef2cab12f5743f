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
    }

    static func orderTradeUpdate(_ fill: Fill, now: Int64) -> String {
        var o = JSONOut()
        o.string("s", fill.symbol)
        o.string("c", fill.clientOrderID)
        o.string("S", fill.side)
        o.string("o", fill.orderType)
        o.string("f", fill.orderType == "LIMIT" ? "GTC" : "IOC")
        o.dec("q", fill.quantity, places: 3)
        o.dec("p", fill.orderType == "LIMIT" ? fill.price : 0, places: 5)
        o.dec("ap", fill.price, places: 5)
        o.dec("sp", 0, places: 0)
        o.string("x", fill.executionType)
        o.string("X", "FILLED")
        o.int("i", fill.orderID)
        o.dec("l", fill.quantity, places: 3)
        o.dec("z", fill.quantity, places: 3)
        o.dec("L", fill.price, places: 5)
        o.string("N", fill.commissionAsset)
        o.dec("n", fill.commission)
        o.int("T", now)
        o.int("t", fill.tradeID)
        o.dec("b", 0, places: 0)
        o.dec("a", 0, places: 0)
        o.bool("m", fill.maker)
        o.bool("R", fill.realizedProfit != 0)
        o.string("wt", "CONTRACT_PRICE")
        o.string("ot", fill.orderType)
        o.string("ps", fill.positionSide)
        o.bool("cp", false)
        o.dec("AP", 0, places: 0)
        o.dec("cr", 0, places: 0)
        o.bool("pP", false)
        o.int("si", 0)
        o.int("ss", 0)
        o.dec("rp", fill.realizedProfit)
        o.string("V", "EXPIRE_TAKER")
        o.string("pm", "NONE")
        o.int("gtd", 0)
        o.string("er", "0")
        var event = JSONOut()
        event.string("e", "ORDER_TRADE_UPDATE")
        event.int("E", now)
        event.int("T", now)
        event.raw("o", o.finished())
        return event.finished()
    }

    struct BalanceChange {
        var asset: String
        var wallet: Double
        var crossWallet: Double
        var change: Double
    }

    static func accountUpdate(
        reason: String, balances: [BalanceChange], positions: [AccountBook.Leg], fundingSymbol: String? = nil, now: Int64
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
                    p.dec("pa", leg.position.amount, places: 3)
                    p.dec("ep", leg.position.entryPrice, places: 5)
                    p.dec("bep", leg.breakEvenPrice, places: 5)
                    p.dec("cr", 0)
                    p.dec("up", leg.unrealizedProfit)
                    p.string("mt", leg.position.isolated ? "isolated" : "cross")
                    p.dec("iw", leg.isolatedWallet)
                    p.string("ps", leg.position.side)
                    return p.finished()
                }))
        if let fundingSymbol { a.string("S", fundingSymbol) }
        var event = JSONOut()
        event.string("e", "ACCOUNT_UPDATE")
        event.int("E", now)
        event.int("T", now)
        event.raw("a", a.finished())
        return event.finished()
    }

    static func marginCall(crossWallet: Double, legs: [AccountBook.Leg], now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "MARGIN_CALL")
        event.int("E", now)
        event.dec("cw", crossWallet)
        event.raw(
            "p",
            JSONOut.array(
                legs.map { leg in
                    var p = JSONOut()
                    p.string("s", leg.position.symbol)
                    p.string("ps", leg.position.side)
                    p.dec("pa", leg.position.amount, places: 3)
                    p.string("mt", leg.position.isolated ? "ISOLATED" : "CROSSED")
                    p.dec("iw", leg.isolatedWallet)
                    p.dec("mp", leg.mark)
                    p.dec("up", leg.unrealizedProfit)
                    p.dec("mm", leg.maintMargin)
                    return p.finished()
                }))
        return event.finished()
    }

    static func accountConfigUpdate(symbol: String?, leverage: Double?, multiAssets: Bool?, now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "ACCOUNT_CONFIG_UPDATE")
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

    static func listenKeyExpired(_ key: String, now: Int64) -> String {
        var event = JSONOut()
        event.string("e", "listenKeyExpired")
        event.int("E", now)
        event.string("listenKey", key)
        return event.finished()
    }

    /// The combined-stream envelope of `/private/stream`.
    static func combined(stream: String, data: String) -> String {
        "{\"stream\":\(JSONOut.quote(stream)),\"data\":\(data)}"
    }
}
