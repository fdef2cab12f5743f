/// A decode failure that names the field (`result.positions[3].positionAmt`) and what was wrong,
/// never the value, so it is safe to log.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Reads typed fields from a JSON object with a path for error messages.
///
/// Binance sends money as decimal strings ("dec-strings"); they are parsed to `Double` (what
/// Prometheus keeps) after checking they really are decimals, so "NaN", "inf" or hex floats
/// are rejected instead of silently exported.
struct FieldReader {
    let object: JSONObject
    let path: String
    private let cursor = LookupCursor()

    /// Where the last lookup matched; the next one starts there.
    private final class LookupCursor {
        var index = 0
    }

    init(_ value: JSONValue, path: String) throws(DecodeError) {
        guard case .object(let object) = value else {
            throw DecodeError(path: path, problem: "expected object, found \(value.typeName)")
        }
        self.object = object
        self.path = path
    }

    private func fieldPath(_ key: String) -> String { "\(path).\(key)" }

    private func value(_ key: String) -> JSONValue? {
        guard let (value, next) = object.lookup(key, from: cursor.index) else { return nil }
        cursor.index = next
        return value
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func decimal(_ key: String) throws(DecodeError) -> Double {
        guard let value = try optionalDecimal(key) else {
            throw DecodeError(path: fieldPath(key), problem: "missing")
        }
        return value
    }

    func optionalDecimal(_ key: String) throws(DecodeError) -> Double? {
        guard let value = value(key), value != .null else { return nil }
        switch value {
        case .string(let text), .number(let text):
            guard let number = DecimalText.parse(text) else {
                throw DecodeError(path: fieldPath(key), problem: "not a decimal number")
            }
            return number
        default:
            throw DecodeError(path: fieldPath(key), problem: "expected decimal string, found \(value.typeName)")
        }
    }

    /// As `optionalDecimal`, with an empty string read as absent: Binance sends `"r": ""` for
    /// the funding rate of a dated (delivery) contract, which has none.
    func optionalDecimalOrEmpty(_ key: String) throws(DecodeError) -> Double? {
        if case .string("")? = value(key) { return nil }
        return try optionalDecimal(key)
    }

    func string(_ key: String) throws(DecodeError) -> String {
        guard let value = try optionalString(key) else {
            throw DecodeError(path: fieldPath(key), problem: "missing")
        }
        return value
    }

    func optionalString(_ key: String) throws(DecodeError) -> String? {
        guard let value = value(key), value != .null else { return nil }
        guard case .string(let text) = value else {
            throw DecodeError(path: fieldPath(key), problem: "expected string, found \(value.typeName)")
        }
        return text
    }

    func bool(_ key: String) throws(DecodeError) -> Bool {
        guard let value = try optionalBool(key) else {
            throw DecodeError(path: fieldPath(key), problem: "missing")
        }
        return value
    }

    /// Accepts JSON booleans and the strings "true"/"false" (v1 `isAutoAddMargin`).
    func optionalBool(_ key: String) throws(DecodeError) -> Bool? {
        guard let value = value(key), value != .null else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default: throw DecodeError(path: fieldPath(key), problem: "expected boolean, found \(value.typeName)")
        }
    }

    func int64(_ key: String) throws(DecodeError) -> Int64 {
        guard let value = try optionalInt64(key) else {
            throw DecodeError(path: fieldPath(key), problem: "missing")
        }
        return value
    }

    func optionalInt64(_ key: String) throws(DecodeError) -> Int64? {
        guard let value = value(key), value != .null else { return nil }
        switch value {
        case .number(let text), .string(let text):
            guard let number = Int64(text) else {
                throw DecodeError(path: fieldPath(key), problem: "not an integer")
            }
            return number
        default:
            throw DecodeError(path: fieldPath(key), problem: "expected integer, found \(value.typeName)")
        }
    }

    func array(_ key: String) throws(DecodeError) -> [JSONValue] {
        guard let value = value(key) else { throw DecodeError(path: fieldPath(key), problem: "missing") }
        guard case .array(let elements) = value else {
            throw DecodeError(path: fieldPath(key), problem: "expected array, found \(value.typeName)")
        }
        return elements
    }

    /// The rows of a body that is a JSON array (REST lists), each read by `make`.
    static func elements<T>(of body: JSONValue, path: String = "body", _ make: (FieldReader) throws(DecodeError) -> T)
        throws(DecodeError) -> [T]
    {
        guard case .array(let elements) = body else { throw DecodeError(path: path, problem: "expected an array") }
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() { out.append(try make(try FieldReader(element, path: "\(path)[\(index)]"))) }
        return out
    }

    func rows<T>(_ key: String, _ make: (FieldReader) throws(DecodeError) -> T) throws(DecodeError) -> [T] {
        let elements = try array(key)
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            out.append(try make(try FieldReader(element, path: "\(fieldPath(key))[\(index)]")))
        }
        return out
    }
}

/// Strict decimal-string parsing: optional sign, digits, optional fraction, optional exponent.
public enum DecimalText {
    public static func parse(_ text: String) -> Double? {
        var sawDigit = false
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return nil }
        if utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") { index = utf8.index(after: index) }
        var sawDot = false
        var sawExponent = false
        while index < utf8.endIndex {
            let byte = utf8[index]
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."):
                if sawDot || sawExponent { return nil }
                sawDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                if sawExponent || !sawDigit { return nil }
                sawExponent = true
                let next = utf8.index(after: index)
                if next < utf8.endIndex, utf8[next] == UInt8(ascii: "-") || utf8[next] == UInt8(ascii: "+") {
                    index = next
                }
            default:
                return nil
            }
            index = utf8.index(after: index)
        }
        guard sawDigit, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
