/// Sent to every connection when the listener shuts down (see `HTTPListener.drain`).
public struct DrainEvent: Sendable {
    public init() {}
}

/// Text for the landing page's HTML.
enum HTMLEscape {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
