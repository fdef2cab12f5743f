/// A parsed `ws://` or `wss://` URL. Parsed by hand so that a bad flag value gives a precise error.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    public var pathAndQuery: String

    public init(parsing text: String) throws(BinanceClientError) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("wss://") {
            secure = true
            rest = text.dropFirst(6)
        } else if lower.hasPrefix("ws://") {
            secure = false
            rest = text.dropFirst(5)
        } else {
            throw .transport("URL must start with ws:// or wss://")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        pathAndQuery = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
        var hostPart = Substring(authority)
        var portNumber = secure ? 443 : 80
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw .transport("bad IPv6 host in URL") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else { throw .transport("bad port in URL") }
                portNumber = parsed
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let parsed = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw .transport("bad port in URL")
            }
            portNumber = parsed
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw .transport("URL has no host") }
        host = String(hostPart)
        port = portNumber
    }

    public var description: String {
        let defaultPort = secure ? 443 : 80
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(secure ? "wss" : "ws")://\(hostText)\(port == defaultPort ? "" : ":\(port)")\(pathAndQuery)"
    }
}
