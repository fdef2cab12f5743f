/// Formats numbers as Binance dec-strings ("23.72469206") without Foundation's printf, which is
/// slow on Linux and locale-sensitive.
enum DecimalFormat {
    static func string(_ value: Double, places: Int = 8) -> String {
        guard value.isFinite else { return "0" }
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else { return String(value) }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        var fraction = String(units % UInt64(scale))
        if fraction.count < places { fraction = String(repeating: "0", count: places - fraction.count) + fraction }
        let sign = value < 0 && units != 0 ? "-" : ""
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }
}

/// A small JSON object writer for responses; the simulator shares no code with the client.
struct JSONOut {
    private(set) var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += "\""
        text += name
        text += "\":"
    }

    mutating func dec(_ name: String, _ value: Double, places: Int = 8) {
        key(name)
        text += "\""
        text += DecimalFormat.string(value, places: places)
        text += "\""
    }

    mutating func string(_ name: String, _ value: String) {
        key(name)
        text += Self.quote(value)
    }

    mutating func int(_ name: String, _ value: Int64) {
        key(name)
        text += String(value)
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    mutating func null(_ name: String) {
        key(name)
        text += "null"
    }

    func finished() -> String { text + "}" }

    static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}
