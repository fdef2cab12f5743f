import Foundation
import TestSupport
import Testing

/// A SIGTERM that arrives while the exporter is still starting (an orchestrator that stops a pod
/// it has just started) ends it cleanly with exit 0, never by the signal's default action.
///
/// "Starting" is measured from the instant the process runs its own code: the loader's work
/// before `main` (about 10 ms for the release binary, 20 ms for a debug one) is before any code
/// can act on a signal. The process shows it has reached `main` by catching SIGTERM, which
/// `/proc/PID/status` reports as `SigCgt`.
@Suite(.serialized) struct EarlySignalTests {
    /// True once the exporter (after `exec`: between fork and exec the child still shows the
    /// spawning process's handlers) catches SIGTERM (bit 15) and SIGINT (bit 2).
    static func trapsTermination(_ pid: Int32) -> Bool {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
            exe.hasSuffix("/binance-futures-exporter"),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
            let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << 14) != 0 && mask & (1 << 1) != 0
    }

    @Test(arguments: [0, 2, 10, 30, 60, 120, 250, 500])
    func sigtermDuringStartupExitsZero(afterMilliseconds delay: Int) async throws {
        let port = freePort()
        let exporter = try ExporterProcess(arguments: ["--demo", "--web.listen-address", "127.0.0.1:\(port)"])
        let pid = exporter.process.processIdentifier
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !Self.trapsTermination(pid), exporter.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .microseconds(200))
        }
        #expect(Self.trapsTermination(pid), "the exporter never reached main")
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        exporter.signal(SIGTERM)
        let status = await exporter.wait(timeout: .seconds(15))
        #expect(exporter.process.terminationReason == .exit, "ended by a signal \(delay) ms after main: \(exporter.stderr)")
        #expect(status == 0, "\(exporter.stderr)")
    }

    @Test func otherSubcommandsKeepTheDefaultSignalActions() async throws {
        // healthcheck against a port where nothing answers the TCP handshake quickly would wait;
        // here it is just a short-lived subcommand that must not inherit the trap.
        let result = try await ExporterProcess.run(["check-config", "--demo"])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
