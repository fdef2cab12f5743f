/// A JSON string literal for any text: quotes, backslashes and control characters escaped.
/// Used for requests and by the exporter's JSON log format.
public enum JSONString {
    public static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }
}

/// Serialises outgoing requests. Requests are tiny and their shape is fixed, so a direct writer
/// avoids Foundation and guarantees integers stay integers.
enum JSONWriter {
    static func quoted(_ string: String) -> String { JSONString.quote(string) }

    static func request(id: String, method: String, params: RequestParameters) -> String {
        var out = "{\"id\":\(quoted(id)),\"method\":\(quoted(method))"
        if !params.items.isEmpty {
            out += ",\"params\":{"
            out += params.items.map { item in
                let value: String
                switch item.value {
                case .int(let number): value = String(number)
                case .string(let string): value = quoted(string)
                }
                return "\(quoted(item.name)):\(value)"
            }.joined(separator: ",")
            out += "}"
        }
        out += "}"
        return out
    }
}
