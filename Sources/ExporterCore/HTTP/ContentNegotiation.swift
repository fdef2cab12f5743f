import Foundation
import NIOConcurrencyHelpers

/// Parses `Accept` and `Accept-Encoding` the way Prometheus and curl send them.
public enum ContentNegotiation {
    /// The q-value of each media range / coding, lowercased; missing q means 1.
    static func qualities(_ header: String) -> [(token: String, params: [String: String], q: Double)] {
        header.split(separator: ",").compactMap { part in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let token = pieces.first?.lowercased(), !token.isEmpty else { return nil }
            var params: [String: String] = [:]
            var q = 1.0
            for piece in pieces.dropFirst() {
                let pair = piece.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                if pair[0].lowercased() == "q" {
                    q = min(1, max(0, Double(pair[1]) ?? 1))
                } else {
                    params[pair[0].lowercased()] = pair[1]
                }
            }
            return (token, params, q)
        }
    }

    /// OpenMetrics when the client ranks it at least as high as plain text (Prometheus 3 does).
    public static func format(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty else { return .text }
        var openMetrics = 0.0
        var text = 0.0
        for entry in qualities(accept) {
            switch entry.token {
            case "application/openmetrics-text":
                let version = entry.params["version"] ?? "1.0.0"
                if version.hasPrefix("1.") || version == "0.0.1" { openMetrics = max(openMetrics, entry.q) }
            case "text/plain", "*/*", "text/*": text = max(text, entry.q)
            default: break
            }
        }
        return openMetrics > 0 && openMetrics >= text ? .openMetrics : .text
    }

    /// gzip when `Accept-Encoding` allows it: `gzip` or `*` with q > 0, and gzip not refused with q=0.
    public static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Double?
        var wildcard: Double?
        for entry in qualities(header) {
            switch entry.token {
            case "gzip", "x-gzip": gzip = max(gzip ?? 0, entry.q)
            case "*": wildcard = entry.q
            default: break
            }
        }
        if let gzip { return gzip > 0 }
        return (wildcard ?? 0) > 0
    }
}

/// The listener's memory of recent `Accept` and `Accept-Encoding` values, shared by every
/// connection: Prometheus, curl and browsers send a handful of distinct values, so a new
/// connection parses nothing. Bounded: a client sending endless distinct values only clears it.
final class NegotiationCache: Sendable {
    static let capacity = 32
    private let formats = NIOLockedValueBox<[String: ExpositionFormat]>([:])
    private let encodings = NIOLockedValueBox<[String: Bool]>([:])

    func format(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty else { return .text }
        return Self.lookup(accept, in: formats) { ContentNegotiation.format(accept: $0) }
    }

    func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        return Self.lookup(header, in: encodings) { ContentNegotiation.acceptsGzip($0) }
    }

    private static func lookup<Value: Sendable>(
        _ key: String, in box: NIOLockedValueBox<[String: Value]>, parse: (String) -> Value
    ) -> Value {
        if let hit = box.withLockedValue({ $0[key] }) { return hit }
        let value = parse(key)
        box.withLockedValue { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = value
        }
        return value
    }
}
