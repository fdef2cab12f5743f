import Foundation
import TestSupport
import Testing

/// README's metrics reference is the `metrics-table` output, verbatim: the table a user reads is
/// generated from the same catalog the encoder uses, and a change to either shows up here.
@Suite struct ReadmeMetricsTableTests {
    static var readmePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
    }

    @Test func readmeTableIsTheGeneratedOne() async throws {
        let result = try await ExporterProcess.run(["metrics-table"])
        #expect(result.status == 0, "\(result.stderr)")
        let generated = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(generated.split(separator: "\n").count > 50, "the catalog has every family")
        let readme = try String(contentsOfFile: Self.readmePath, encoding: .utf8)
        #expect(
            readme.contains(generated),
            "README.md's metrics table differs from `binance-futures-exporter metrics-table`; regenerate it (see README, Metrics)")
    }
}
