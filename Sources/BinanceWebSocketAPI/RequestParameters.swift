/// A request parameter value. Binance requires integers (`timestamp`, `recvWindow`) to be JSON
/// integers and signs them as plain digits, so the type decides both the JSON and the payload form.
public enum ParameterValue: Sendable, Equatable {
    case int(Int64)
    case string(String)

    /// The raw form used inside the signature payload: digits or the string verbatim.
    var payloadForm: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value
        }
    }
}

/// An ordered parameter list. Order is irrelevant to Binance; the signature payload sorts it.
public struct RequestParameters: Sendable, Equatable {
    public private(set) var items: [(name: String, value: ParameterValue)] = []

    public init() {}

    public init(_ items: [(String, ParameterValue)]) {
        self.items = items.map { (name: $0.0, value: $0.1) }
    }

    public mutating func set(_ name: String, _ value: ParameterValue) {
        if let index = items.firstIndex(where: { $0.name == name }) {
            items[index].value = value
        } else {
            items.append((name, value))
        }
    }

    public subscript(name: String) -> ParameterValue? {
        items.first(where: { $0.name == name })?.value
    }

    /// The exact string Binance signs: every parameter except `signature`, sorted by name in
    /// byte-wise ASCII order, `name=value` joined with `&`, values raw (no percent-encoding).
    public var signaturePayload: String {
        items
            .filter { $0.name != "signature" }
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
            .map { "\($0.name)=\($0.value.payloadForm)" }
            .joined(separator: "&")
    }

    public static func == (lhs: RequestParameters, rhs: RequestParameters) -> Bool {
        lhs.items.count == rhs.items.count
            && zip(lhs.items, rhs.items).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
