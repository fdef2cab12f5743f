/// The account events Binance pushes on a user data stream, reduced to what the exporter uses.
/// Field names follow the official SDK's models (`websocket_streams/models/`); unknown fields are
/// ignored, so additions on Binance's side never break decoding.
public enum UserDataEvent: Sendable, Equatable {
    case accountUpdate(AccountUpdate)
    case orderTradeUpdate(OrderTradeUpdate)
    case marginCall(MarginCall)
    case accountConfigUpdate(AccountConfigUpdate)
    /// `ALGO_UPDATE`: a conditional order of the Algo service was placed, cancelled or triggered.
    case algoUpdate(AlgoUpdate)
    /// The listen key expired: no more events come for it until a new key is subscribed.
    case listenKeyExpired(eventTime: Int64)
    /// Portfolio Margin: the account's uniMMR crossed into another risk level.
    case riskLevelChange(RiskLevelChange)
    /// An event type the exporter does not read (`TRADE_LITE`, `GRID_UPDATE`, …): counted only.
    case other(type: String, eventTime: Int64?)

    /// The `e` field, as Binance spells it (for an unknown event, as it came: `kind` is the
    /// bounded form to use as a label).
    public var typeName: String {
        switch self {
        case .other(let type, _): type
        default: kind.rawValue
        }
    }

    /// `E`, the event time in ms.
    public var eventTime: Int64? {
        switch self {
        case .accountUpdate(let update): update.eventTime
        case .orderTradeUpdate(let update): update.eventTime
        case .marginCall(let call): call.eventTime
        case .accountConfigUpdate(let update): update.eventTime
        case .algoUpdate(let update): update.eventTime
        case .listenKeyExpired(let time): time
        case .riskLevelChange(let change): change.eventTime
        case .other(_, let time): time
        }
    }
}

/// `ACCOUNT_UPDATE`: balances and positions that changed, and why (`m`).
public struct AccountUpdate: Sendable, Equatable {
    public struct Balance: Sendable, Equatable {
        public var asset: String
        public var walletBalance: Double
        public var crossWalletBalance: Double
        /// `bc`: the change except realized PnL and commission (funding, transfers).
        public var balanceChange: Double
    }

    public struct Position: Sendable, Equatable {
        public var symbol: String
        public var positionSide: String
        public var amount: Double
        public var entryPrice: Double
        public var breakEvenPrice: Double?
        public var unrealizedProfit: Double
        public var isolated: Bool
        public var isolatedWallet: Double?
    }

    public var eventTime: Int64
    public var transactionTime: Int64
    /// `m`: ORDER, FUNDING_FEE, DEPOSIT, WITHDRAW, ADL, INSURANCE_CLEAR, MARGIN_TRANSFER, …
    public var reason: String
    public var balances: [Balance]
    public var positions: [Position]
    /// `S`: the symbol of a FUNDING_FEE update (absent otherwise).
    public var fundingSymbol: String? = nil
}

/// `ORDER_TRADE_UPDATE`: one order's execution report.
public struct OrderTradeUpdate: Sendable, Equatable {
    public var eventTime: Int64
    public var transactionTime: Int64
    public var symbol: String
    public var clientOrderID: String
    public var side: String
    public var orderType: String
    /// `x`: NEW, TRADE, CALCULATED (liquidation fill), EXPIRED, CANCELED, AMENDMENT.
    public var executionType: String
    /// `X`: NEW, PARTIALLY_FILLED, FILLED, …
    public var status: String
    public var orderID: Int64
    public var tradeID: Int64?
    public var lastFilledQuantity: Double
    public var lastFilledPrice: Double
    /// `n` in asset `N`; absent when there was no commission.
    public var commission: Double?
    public var commissionAsset: String?
    /// `rp`: realized profit of this trade.
    public var realizedProfit: Double
    public var positionSide: String
    /// `q`: the order's original quantity.
    public var originalQuantity: Double = 0
    /// `z`: the quantity filled so far.
    public var filledQuantity: Double = 0
    /// `sp`: stop price (0 when the order has none).
    public var stopPrice: Double = 0
    /// `R`: reduce only.
    public var reduceOnly = false
    /// `cp`: close position (a conditional order that closes the whole position).
    public var closePosition = false

    /// The order as it stands after this report: nil once it no longer rests (filled,
    /// cancelled, expired).
    public var openOrder: OpenOrder? {
        guard OrderStatuses.openPlain.contains(status) else { return nil }
        return OpenOrder(
            service: .plain, id: orderID, symbol: symbol, side: side, positionSide: positionSide, type: orderType,
            quantity: max(0, originalQuantity - filledQuantity), triggerPrice: stopPrice > 0 ? stopPrice : nil, reduceOnly: reduceOnly,
            closePosition: closePosition, updateTime: transactionTime)
    }

    /// Why Binance closed this position itself, from the client order id it uses for that.
    public var forcedCloseKind: ForcedCloseKind? {
        if clientOrderID.hasPrefix("autoclose-") { return .liquidation }
        if clientOrderID.hasPrefix("adl_autoclose") { return .adl }
        if clientOrderID.hasPrefix("settlement_autoclose") { return .settlement }
        return nil
    }

    /// A fill: money moved (TRADE, or CALCULATED for a liquidation) and some quantity traded.
    public var isFill: Bool { (executionType == "TRADE" || executionType == "CALCULATED") && lastFilledQuantity != 0 }
}

/// Orders Binance places itself to close a position.
public enum ForcedCloseKind: String, Sendable, CaseIterable {
    case liquidation
    case adl
    case settlement
}

/// `ALGO_UPDATE`: one algo (conditional) order's state.
public struct AlgoUpdate: Sendable, Equatable {
    public var eventTime: Int64
    /// `X`: NEW, CANCELED, TRIGGERING, TRIGGERED, FINISHED, REJECTED, EXPIRED.
    public var status: String
    /// The order as reported (`aid`, `s`, `S`, `ps`, `o`, `q`, `tp`, `R`, `cp`).
    public var order: OpenOrder

    /// The order while it is armed; nil once it triggered, was cancelled or expired.
    public var openOrder: OpenOrder? { OrderStatuses.openAlgo.contains(status) ? order : nil }
}

/// `MARGIN_CALL`: the account's margin ratio is close to liquidation.
public struct MarginCall: Sendable, Equatable {
    public struct Position: Sendable, Equatable {
        public var symbol: String
        public var positionSide: String
        public var amount: Double
        public var markPrice: Double
        public var unrealizedProfit: Double
        public var maintenanceMargin: Double
    }

    public var eventTime: Int64
    public var crossWalletBalance: Double?
    public var positions: [Position]
}

/// `ACCOUNT_CONFIG_UPDATE`: a symbol's leverage (`ac`) or the multi-assets mode (`ai`) changed.
public struct AccountConfigUpdate: Sendable, Equatable {
    public struct LeverageChange: Sendable, Equatable {
        public var symbol: String
        public var leverage: Double
    }

    public var eventTime: Int64
    public var transactionTime: Int64?
    public var leverage: LeverageChange?
    public var multiAssetsMargin: Bool?
}

/// `riskLevelChange` (Portfolio Margin): uniMMR and the risk level it crossed into, with equity
/// and maintenance margin in USD (`u`, `s`, `eq`, `ae`, `m`; `u` is a decimal string here, not
/// a time as in other events).
public struct RiskLevelChange: Sendable, Equatable {
    public var eventTime: Int64
    public var uniMMR: Double
    /// `MARGIN_CALL`, `REDUCE_ONLY`, `FORCE_LIQUIDATION`, … as Binance wrote it.
    public var level: String
    public var accountEquity: Double?
    public var actualEquity: Double?
    public var maintMargin: Double?
}

/// Decodes the `data` object of a stream frame (or a raw `/private/ws` or `/pm/ws` frame).
public enum UserDataEventDecoder {
    public static func decode(_ value: JSONValue) throws(DecodeError) -> UserDataEvent {
        let event = try FieldReader(value, path: "event")
        let type = try event.string("e")
        switch UserDataEventKind(binanceName: type) {
        case .accountUpdate:
            let update = try FieldReader(event.object["a"] ?? .null, path: "event.a")
            return .accountUpdate(
                AccountUpdate(
                    eventTime: try event.int64("E"), transactionTime: try event.optionalInt64("T") ?? 0, reason: try update.string("m"),
                    balances: try update.has("B")
                        ? update.rows("B") { (row) throws(DecodeError) in
                            let wallet = try row.decimal("wb")
                            return AccountUpdate.Balance(
                                asset: try row.string("a"), walletBalance: wallet,
                                crossWalletBalance: try row.optionalDecimal("cw") ?? wallet,
                                balanceChange: try row.optionalDecimal("bc") ?? 0)
                        } : [],
                    positions: try update.has("P")
                        ? update.rows("P") { (row) throws(DecodeError) in
                            AccountUpdate.Position(
                                symbol: try row.string("s"), positionSide: try row.optionalString("ps") ?? "BOTH",
                                amount: try row.decimal("pa"),
                                entryPrice: try row.decimal("ep"), breakEvenPrice: try row.optionalDecimal("bep"),
                                unrealizedProfit: try row.optionalDecimal("up") ?? 0,
                                isolated: try row.optionalString("mt") == "isolated", isolatedWallet: try row.optionalDecimal("iw"))
                        } : [], fundingSymbol: try update.optionalString("S")))
        case .riskLevelChange:
            return .riskLevelChange(
                RiskLevelChange(
                    eventTime: try event.int64("E"), uniMMR: try event.decimal("u"), level: try event.string("s"),
                    accountEquity: try event.optionalDecimal("eq"), actualEquity: try event.optionalDecimal("ae"),
                    maintMargin: try event.optionalDecimal("m")))
        case .orderTradeUpdate:
            let order = try FieldReader(event.object["o"] ?? .null, path: "event.o")
            return .orderTradeUpdate(
                OrderTradeUpdate(
                    eventTime: try event.int64("E"), transactionTime: try event.optionalInt64("T") ?? 0, symbol: try order.string("s"),
                    clientOrderID: try order.optionalString("c") ?? "", side: try order.optionalString("S") ?? "",
                    orderType: try order.optionalString("o") ?? "", executionType: try order.string("x"), status: try order.string("X"),
                    orderID: try order.int64("i"), tradeID: try order.optionalInt64("t"),
                    lastFilledQuantity: try order.optionalDecimal("l") ?? 0, lastFilledPrice: try order.optionalDecimal("L") ?? 0,
                    commission: try order.optionalDecimal("n"), commissionAsset: try order.optionalString("N"),
                    realizedProfit: try order.optionalDecimal("rp") ?? 0, positionSide: try order.optionalString("ps") ?? "BOTH",
                    originalQuantity: try order.optionalDecimal("q") ?? 0, filledQuantity: try order.optionalDecimal("z") ?? 0,
                    stopPrice: try order.optionalDecimal("sp") ?? 0, reduceOnly: try order.optionalBool("R") ?? false,
                    closePosition: try order.optionalBool("cp") ?? false))
        case .algoUpdate:
            // The PM stream carries the order under `ao` (its `fs` says UM or CM).
            let key = event.object["o"] == nil && event.object["ao"] != nil ? "ao" : "o"
            let order = try FieldReader(event.object[key] ?? .null, path: "event.\(key)")
            let trigger = try order.optionalDecimal("tp") ?? 0
            return .algoUpdate(
                AlgoUpdate(
                    eventTime: try event.int64("E"), status: try order.string("X"),
                    order: OpenOrder(
                        service: .algo, id: try order.int64("aid"), symbol: try order.string("s"), side: try order.string("S"),
                        positionSide: try order.optionalString("ps") ?? "BOTH", type: try order.string("o"),
                        quantity: try order.optionalDecimal("q") ?? 0, triggerPrice: trigger > 0 ? trigger : nil,
                        reduceOnly: try order.optionalBool("R") ?? false, closePosition: try order.optionalBool("cp") ?? false,
                        updateTime: try event.firstInt64("T", "E"))))
        case .marginCall:
            return .marginCall(
                MarginCall(
                    eventTime: try event.int64("E"), crossWalletBalance: try event.optionalDecimal("cw"),
                    positions: try event.has("p")
                        ? event.rows("p") { (row) throws(DecodeError) in
                            MarginCall.Position(
                                symbol: try row.string("s"), positionSide: try row.optionalString("ps") ?? "BOTH",
                                amount: try row.optionalDecimal("pa") ?? 0, markPrice: try row.optionalDecimal("mp") ?? 0,
                                unrealizedProfit: try row.optionalDecimal("up") ?? 0, maintenanceMargin: try row.optionalDecimal("mm") ?? 0)
                        } : []))
        case .accountConfigUpdate:
            var update = AccountConfigUpdate(eventTime: try event.int64("E"), transactionTime: try event.optionalInt64("T"))
            if let leverage = event.object["ac"], leverage != .null {
                let reader = try FieldReader(leverage, path: "event.ac")
                update.leverage = AccountConfigUpdate.LeverageChange(symbol: try reader.string("s"), leverage: try reader.decimal("l"))
            }
            if let assets = event.object["ai"], assets != .null {
                update.multiAssetsMargin = try FieldReader(assets, path: "event.ai").bool("j")
            }
            return .accountConfigUpdate(update)
        case .listenKeyExpired:
            return .listenKeyExpired(eventTime: try event.optionalInt64("E") ?? 0)
        case .tradeLite, .conditionalOrderTriggerReject, .gridUpdate, .strategyUpdate, .other:
            return .other(type: type, eventTime: try event.optionalInt64("E"))
        }
    }
}
