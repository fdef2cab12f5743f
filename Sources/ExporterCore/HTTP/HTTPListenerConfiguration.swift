import NIOCore
import NIOSSL

/// A `user → bcrypt hash` table from the web config file.
public typealias BasicAuthUsers = [String: String]

/// Everything the HTTP listener needs, as one value with node_exporter-like defaults.
public struct HTTPListenerConfiguration: Sendable {
    /// `host:port` strings; `:9911` means all interfaces.
    public var listenAddresses: [String] = [":9911"]
    public var telemetryPath = "/metrics"
    /// Concurrent scrapes; more get 503.
    public var maxRequests = 40
    public var maxConnections = 1024
    public var maxHeadBytes = 8 * 1024
    public var maxBodyBytes = 64 * 1024
    /// A request head must arrive completely within this time (slowloris defence).
    public var requestHeadTimeout: TimeAmount = .seconds(10)
    /// An idle keep-alive connection is closed after this.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// On shutdown, in-flight responses get this long to finish.
    public var drainTimeout: Duration = .seconds(10)
    /// SO_SNDBUF for accepted connections; nil keeps the kernel's autotuning (tests shrink it).
    public var socketSendBuffer: Int?
    public var tls: NIOSSLContext?
    public var basicAuthUsers: BasicAuthUsers = [:]
    /// Added to every response (web config `http_server_config.headers`, e.g. HSTS).
    public var responseHeaders: [(name: String, value: String)] = []
    public var build = BuildInfo(version: "dev", revision: "unknown")

    public init() {}
}

/// Why the listener could not start; one line naming the address.
public struct ListenerError: Error, CustomStringConvertible {
    public let address: String
    public let reason: String
    public var description: String { "cannot listen on \(address): \(reason)" }
}

/// Parses `host:port`, `:port`, `[v6]:port`.
public func parseListenAddress(_ text: String) throws -> (host: String, port: Int) {
    let hostPart: Substring
    let portPart: Substring
    if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
            throw ListenerError(address: text, reason: "expected [host]:port")
        }
        hostPart = text[text.index(after: text.startIndex)..<close]
        portPart = text[text.index(close, offsetBy: 2)...]
    } else {
        guard let colon = text.lastIndex(of: ":") else { throw ListenerError(address: text, reason: "expected host:port") }
        hostPart = text[..<colon]
        portPart = text[text.index(after: colon)...]
    }
    guard let port = Int(portPart), (0...65535).contains(port) else {
        throw ListenerError(address: text, reason: "invalid port")
    }
    return (hostPart.isEmpty ? "0.0.0.0" : String(hostPart), port)
}
