import Foundation

/// The real `binance-futures-exporter` binary, run as a child process with captured output.
public final class ExporterProcess: @unchecked Sendable {
    public let process = Process()
    public let outputURL: URL
    public let errorURL: URL

    /// The binary built next to the test bundle (`.build/<triple>/debug/`).
    public static var binaryPath: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // swift-testing may run from inside the .xctest bundle on some platforms.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("binance-futures-exporter")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("binance-futures-exporter").path
    }

    /// The uid/gid an `unprivileged` child runs as when the tests themselves run as root
    /// (`nobody`): the exporter must work the way the image runs it, without privileges.
    public static let unprivilegedID = 65534

    /// `unprivileged`: when the test process is root, the child drops to `nobody` through
    /// `setpriv` (util-linux) first; a non-root test process runs it as itself.
    public init(arguments: [String], environment: [String: String] = [:], unprivileged: Bool = false) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bfe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outputURL = directory.appendingPathComponent("stdout")
        errorURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        if unprivileged && getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments =
                ["--reuid=\(Self.unprivilegedID)", "--regid=\(Self.unprivilegedID)", "--clear-groups", "--", Self.binaryPath] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binaryPath)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        for key in ["BINANCE_API_KEY", "BINANCE_API_SECRET", "BINANCE_PRIVATE_KEY_FILE"] { env.removeValue(forKey: key) }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
    }

    public var stdout: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit up to `timeout`; kills it after that. Returns the exit status.
    @discardableResult
    public func wait(timeout: Duration = .seconds(20)) async -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    public func stop() async -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        return await wait()
    }

    /// Runs to completion (for `check-config` and error cases).
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let child = try ExporterProcess(arguments: arguments, environment: environment)
        let status = await child.wait()
        return (status, child.stdout, child.stderr)
    }
}

/// A free TCP port on 127.0.0.1 (bind to 0, read, close).
public func freePort() -> Int {
    // Outside the kernel's ephemeral range (32768–60999 here): a port picked from inside it can be
    // taken, between this check and the exporter's bind, as the source port of any outgoing
    // connection (a poller's, a user stream's), which made the demo tests flaky.
    for _ in 0..<500 {
        let candidate = Int.random(in: 20_000..<32_000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(candidate).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        close(fd)
        if bound == 0 { return candidate }
    }
    fatalError("no free port in 20000..<32000")
}
