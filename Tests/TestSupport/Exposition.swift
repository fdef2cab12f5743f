import Foundation
import Logging

/// Reads sample values out of text exposition, keyed by `name{labels}` exactly as rendered.
public struct Exposition: Sendable {
    public let text: String
    public let samples: [String: Double]

    public init(_ text: String) {
        self.text = text
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let key = String(line[..<space])
            let valueText = line[line.index(after: space)...]
            let value: Double? =
                switch valueText {
                case "+Inf": .infinity
                case "-Inf": -.infinity
                case "NaN": .nan
                default: Double(valueText)
                }
            if let value { samples[key] = value }
        }
        self.samples = samples
    }

    /// `value("binance_futures_up", ["account": "a"])`; labels rendered in the given order.
    public func value(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> Double? {
        samples[Self.key(name, labels)]
    }

    public static func key(_ name: String, _ labels: KeyValuePairs<String, String>) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// Every series of a family (by name prefix match on `name{` or `name `).
    public func series(_ name: String) -> [String] {
        samples.keys.filter { $0 == name || $0.hasPrefix(name + "{") }.sorted()
    }
}

/// Runs an external tool; returns nil when it is not installed (callers decide whether that fails).
public enum ExternalTool {
    public static func find(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// When set (CI), a missing tool is a test failure instead of a skip.
    public static var toolsRequired: Bool { ProcessInfo.processInfo.environment["BFE_REQUIRE_TOOLS"] == "1" }

    public static func run(_ path: String, _ arguments: [String], stdin: [UInt8]) throws -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// Waits until `condition` holds, checking every 20 ms, for at most `timeout`.
public func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Tests about one calendar minute of request weight start 3 s after a minute boundary and
/// at least 10 s before the next, so the window cannot roll over under them.
public func avoidMinuteBoundary() async throws {
    let intoMinute = Int64(Date().timeIntervalSince1970 * 1000) % 60_000
    if intoMinute < 3_000 { try await Task.sleep(for: .milliseconds(3_000 - intoMinute)) }
    if intoMinute > 50_000 { try await Task.sleep(for: .milliseconds(63_000 - intoMinute)) }
}

/// A logger for components under test: warnings and errors only, so a test run's output shows
/// what went wrong, not every connect and poll.
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// Runs `body`, then awaits `stop`, also when `body` throws: what a test started (simulators,
/// listeners, exporter processes) is stopped before the test ends, not by a task left behind.
public func withCleanup<T>(_ stop: () async -> Void, _ body: () async throws -> T) async rethrows -> T {
    do {
        let result = try await body()
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}
