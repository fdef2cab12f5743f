import Foundation
import TestSupport
import Testing

/// `--binance.source-address` binds every connection to Binance to a local address; an address
/// that is not this host's, or not an address, is a clear error before anything starts. Bad shard
/// flags are clear errors too.
@Suite struct SourceAddressAndShardFlagTests {
    @Test(arguments: [
        (["--binance.source-address", "192.0.2.1"], "--binance.source-address: 192.0.2.1: not an address of this host"),
        (["--binance.source-address", "exporter.example"], "--binance.source-address: not an IP address"),
        (["--shard", "2", "--total-shards", "2"], "--shard: shard 2 does not exist with --total-shards 2"),
        (["--shard", "auto", "--total-shards", "3"], "--shard: auto needs a host name ending in -<ordinal>"),
    ])
    func badFlagsExitWithTwo(arguments: [String], expected: String) async throws {
        let result = try await ExporterProcess.run(["--demo"] + arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }

    @Test("every connection to the exchange leaves from the source address (127.0.0.2 here)")
    func connectionsLeaveFromTheSourceAddress() async throws {
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--binance.source-address", "127.0.0.2", "--web.listen-address", "127.0.0.1:\(port)",
        ])
        defer { _ = exporter }
        #expect(
            await eventually(timeout: .seconds(30)) {
                let e = (try? await RawHTTPClient.get(port: port, path: "/metrics")).map {
                    Exposition(String(decoding: $0.body, as: UTF8.self))
                }
                return ["demo-main", "demo-hedge", "demo-rsa"].allSatisfy {
                    e?.value("binance_futures_up", ["account": $0]) == 1
                        && e?.value("binance_futures_user_stream_connected", ["account": $0]) == 1
                }
            }, "polls, user streams and the mark feed work from 127.0.0.2")
        // The kernel's table of TCP sockets: established connections whose local address is
        // 127.0.0.2 (hex, little-endian: 0200007F) are the exporter's (nothing else binds to it).
        // Read to the end: procfs reports a size of 0, and a sized read stops early.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/net/tcp"))
        let table = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        try handle.close()
        let fromSource = table.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasPrefix("0200007F:") && fields[3] == "01"
        }
        #expect(exporter.process.isRunning, "the exporter answering is this test's: \(exporter.stderr)")
        #expect(
            fromSource.count >= 3,
            "WebSocket API, user stream and mark feed connections from 127.0.0.2; \(table.split(separator: "\n").count) rows, \(table.split(separator: "\n").filter { $0.contains("0200007F") }.prefix(3))"
        )
        #expect(await exporter.stop() == 0)
    }
}
