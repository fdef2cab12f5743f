import Foundation

/// Prometheus-style durations: `500ms`, `15s`, `2m`, `1h30m`, `1d`.
enum PrometheusDuration {
    /// Why a duration was refused; one sentence for `file:line: field: …` and flag errors.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// A poll interval: a Prometheus duration of at least one second. The one rule for the flag
    /// and the config file.
    static func pollInterval(_ text: String) -> Result<Double, Problem> {
        guard let value = parse(text), value >= 1 else {
            return .failure(Problem(description: "invalid duration \"\(text)\" (use e.g. 15s, 2m; at least 1s)"))
        }
        return .success(value)
    }

    static func parse(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800), ("y", 31_536_000)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else {
                return nil
            }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }
}
