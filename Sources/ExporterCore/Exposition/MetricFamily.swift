/// Prometheus metric types we emit.
public enum MetricType: String, Sendable {
    case gauge
    case counter
}

/// One series: label pairs in a fixed order (the family's label names) and a value.
public struct Sample: Sendable, Equatable {
    public var labels: [(name: String, value: String)]
    public var value: Double

    public init(_ labels: [(String, String)] = [], _ value: Double) {
        self.labels = labels.map { (name: $0.0, value: $0.1) }
        self.value = value
    }

    public static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.value.bitPattern == rhs.value.bitPattern && lhs.labels.count == rhs.labels.count
            && zip(lhs.labels, rhs.labels).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A metric family: one HELP, one TYPE, many samples. For counters `name` ends in `_total`.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var help: String
    public var type: MetricType
    public var samples: [Sample]

    public init(name: String, help: String, type: MetricType = .gauge, samples: [Sample] = []) {
        self.name = name
        self.help = help
        self.type = type
        self.samples = samples
    }
}
