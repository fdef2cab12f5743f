import Logging
import NIOConcurrencyHelpers

/// Keeps every log line (debug included) so tests can assert what was and was not said.
public final class CapturedLogs: Sendable {
    public let lines = NIOLockedValueBox<[String]>([])

    public func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(sink: self) }
        logger.logLevel = .debug
        return logger
    }

    public var all: String { lines.withLockedValue { $0.joined(separator: "\n") } }

    public init() {}

    struct CapturingHandler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.lines.withLockedValue { $0.append("\(event.level) \(event.message) \(merged)") }
        }
    }
}
