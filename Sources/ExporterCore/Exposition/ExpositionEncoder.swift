/// Which exposition format a scrape gets.
public enum ExpositionFormat: Sendable, CaseIterable {
    /// `text/plain; version=0.0.4`
    case text
    /// `application/openmetrics-text; version=1.0.0`
    case openMetrics

    public var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }
}

/// A pure `render(families) -> bytes` for both formats: families sorted by name, series by
/// label values, label values and HELP escaped, special floats spelled as Prometheus expects.
/// Deterministic output, so golden files can pin it.
public enum ExpositionEncoder {
    public static func render(_ families: [MetricFamily], format: ExpositionFormat) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(families.reduce(0) { $0 + 64 + $1.samples.count * 96 })
        for family in merge(families) where !family.samples.isEmpty {
            appendHeader(name: family.name, help: family.help, type: family.type, format: format, to: &out)
            appendSamples(family, to: &out)
        }
        if format == .openMetrics { append("# EOF\n", to: &out) }
        return out
    }

    /// `# HELP` and `# TYPE` lines. OpenMetrics names a counter family without `_total`.
    static func appendHeader(name: String, help: String, type: MetricType, format: ExpositionFormat, to out: inout [UInt8]) {
        let familyName = format == .openMetrics && type == .counter && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
        append("# HELP ", to: &out)
        append(familyName, to: &out)
        out.append(0x20)
        appendEscaped(help, escapeQuotes: format == .openMetrics, to: &out)
        out.append(0x0A)
        append("# TYPE ", to: &out)
        append(familyName, to: &out)
        out.append(0x20)
        append(type.rawValue, to: &out)
        out.append(0x0A)
    }

    /// The sample lines of one family, sorted by label values. Identical in both formats.
    static func appendSamples(_ family: MetricFamily, to out: inout [UInt8]) {
        for sample in sortedSamples(family.samples) {
            append(family.name, to: &out)
            if !sample.labels.isEmpty {
                out.append(UInt8(ascii: "{"))
                for (index, label) in sample.labels.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    append(label.name, to: &out)
                    append("=\"", to: &out)
                    appendEscaped(label.value, escapeQuotes: true, to: &out)
                    out.append(UInt8(ascii: "\""))
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(0x20)
            append(formatValue(sample.value), to: &out)
            out.append(0x0A)
        }
    }

    /// Families with the same name (from several sources) become one, so HELP/TYPE appear once.
    static func merge(_ families: [MetricFamily]) -> [MetricFamily] {
        var byName: [String: Int] = [:]
        var merged: [MetricFamily] = []
        merged.reserveCapacity(families.count)
        for family in families {
            if let index = byName[family.name] {
                merged[index].samples.append(contentsOf: family.samples)
            } else {
                byName[family.name] = merged.count
                merged.append(family)
            }
        }
        return merged.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    static func sortedSamples(_ samples: [Sample]) -> [Sample] {
        samples.sorted { lhs, rhs in
            for (l, r) in zip(lhs.labels, rhs.labels) {
                if l.name != r.name { return l.name.utf8.lexicographicallyPrecedes(r.name.utf8) }
                if l.value != r.value { return l.value.utf8.lexicographicallyPrecedes(r.value.utf8) }
            }
            return lhs.labels.count < rhs.labels.count
        }
    }

    /// Go-compatible spelling: `+Inf`, `-Inf`, `NaN`; integers without exponent or `.0`;
    /// otherwise the shortest round-tripping decimal.
    public static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            return value == 0 ? "0" : String(Int64(value))
        }
        return String(value)
    }

    @inline(__always)
    static func append(_ string: String, to out: inout [UInt8]) {
        out.append(contentsOf: string.utf8)
    }

    /// HELP escapes `\` and newline (0.0.4); label values also escape `"`.
    static func appendEscaped(_ string: String, escapeQuotes: Bool, to out: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\"") where escapeQuotes: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            default: out.append(byte)
            }
        }
    }
}
