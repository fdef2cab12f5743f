/// Builds the exposition from per-source fragments so that a poll re-renders only its own
/// account. Each fragment holds the rendered sample lines of its families; since every
/// account-scoped series has `account` as its first label, concatenating fragments in source
/// order keeps the global label order the encoder guarantees.
struct ExpositionAssembler: Sendable {
    struct Header: Sendable {
        let help: String
        let type: MetricType
    }

    /// Sample lines per family name, for one source (an account, or the process-wide metrics).
    struct Fragment: Sendable {
        var lines: [String: [UInt8]] = [:]
        var headers: [String: Header] = [:]

        init(_ families: [MetricFamily]) {
            for family in ExpositionEncoder.merge(families) where !family.samples.isEmpty {
                var out: [UInt8] = []
                out.reserveCapacity(family.samples.count * 96)
                ExpositionEncoder.appendSamples(family, to: &out)
                lines[family.name] = out
                headers[family.name] = Header(help: family.help, type: family.type)
            }
        }
    }

    /// Fragments in output order (sources sorted by name).
    var fragments: [Fragment]

    func render(format: ExpositionFormat) -> [UInt8] {
        var headers: [String: Header] = [:]
        var size = 0
        for fragment in fragments {
            headers.merge(fragment.headers) { first, _ in first }
            size += fragment.lines.values.reduce(0) { $0 + $1.count }
        }
        var out: [UInt8] = []
        out.reserveCapacity(size + headers.count * 200 + 8)
        for name in headers.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let header = headers[name]!
            ExpositionEncoder.appendHeader(name: name, help: header.help, type: header.type, format: format, to: &out)
            for fragment in fragments {
                if let lines = fragment.lines[name] { out.append(contentsOf: lines) }
            }
        }
        if format == .openMetrics { out.append(contentsOf: Array("# EOF\n".utf8)) }
        return out
    }
}
