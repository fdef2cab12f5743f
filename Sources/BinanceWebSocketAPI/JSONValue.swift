/// A parsed JSON document.
///
/// The client parses every frame exactly once into this tree (responses reach hundreds of KB, so a
/// second pass for the envelope would double the cost) and then reads typed fields from it with
/// errors that name the offending field. Numbers keep their source text so that millisecond
/// timestamps and integer ids survive without a round trip through `Double`.
public enum JSONValue: Sendable, Equatable {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// A short name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

/// A JSON object that keeps its members in source order; lookups are linear, which beats hashing
/// for the 10–25 keys of a Binance row.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// Looks `key` up starting at `hint` and wrapping around; returns the value and the index
    /// after it. Reading fields in document order makes every lookup a single comparison.
    func lookup(_ key: String, from hint: Int) -> (value: JSONValue, next: Int)? {
        let count = members.count
        guard count > 0 else { return nil }
        var index = hint < count ? hint : 0
        for _ in 0..<count {
            if members[index].key == key { return (members[index].value, index + 1) }
            index += 1
            if index == count { index = 0 }
        }
        return nil
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
