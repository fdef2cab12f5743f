/// The user data stream events Binance documents, by their `e` name, plus `other` for anything
/// else. It is a closed set on purpose: used as a metric label value, a misbehaving or newer
/// peer cannot grow the label set, and code switches over kinds instead of comparing strings.
/// The raw value is the label value: Binance's own spelling, `other` for the rest.
public enum UserDataEventKind: String, Sendable, Hashable, CaseIterable {
    case accountUpdate = "ACCOUNT_UPDATE"
    case orderTradeUpdate = "ORDER_TRADE_UPDATE"
    case marginCall = "MARGIN_CALL"
    case accountConfigUpdate = "ACCOUNT_CONFIG_UPDATE"
    case listenKeyExpired = "listenKeyExpired"
    case tradeLite = "TRADE_LITE"
    case algoUpdate = "ALGO_UPDATE"
    case conditionalOrderTriggerReject = "CONDITIONAL_ORDER_TRIGGER_REJECT"
    case gridUpdate = "GRID_UPDATE"
    case strategyUpdate = "STRATEGY_UPDATE"
    /// Portfolio Margin: uniMMR crossed into another risk level.
    case riskLevelChange = "riskLevelChange"
    /// Any name Binance does not document (or a venue does not list).
    case other

    /// The kind of an event named `name` (the `e` field); `.other` for an unknown name.
    public init(binanceName name: String) { self = Self(rawValue: name) ?? .other }

    /// The metric label value: Binance's name, `other` for unknown events.
    public var label: String { rawValue }
}

extension UserDataEvent {
    /// The event's kind: the decoded cases by definition, `other(type:)` by its name.
    public var kind: UserDataEventKind {
        switch self {
        case .accountUpdate: .accountUpdate
        case .orderTradeUpdate: .orderTradeUpdate
        case .marginCall: .marginCall
        case .accountConfigUpdate: .accountConfigUpdate
        case .algoUpdate: .algoUpdate
        case .listenKeyExpired: .listenKeyExpired
        case .riskLevelChange: .riskLevelChange
        case .other(let type, _): UserDataEventKind(binanceName: type)
        }
    }
}
