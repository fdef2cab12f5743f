import ExporterCore
import Foundation
import TestSupport
import Testing

/// The product as the container image runs it: not root. A socket option that needs privileges
/// (the `SO_DEBUG`-for-`TCP_NODELAY` bug) made every scrape and every exchange connection fail
/// for uid 10001 while every root test passed; here the binary drops to `nobody` first.
@Suite(.serialized) struct UnprivilegedRunTests {
    @Test func demoAnswersScrapesAndReachesTheExchangeWithoutPrivileges() async throws {
        let port = freePort()
        let exporter = try ExporterProcess(
            arguments: ["--demo", "--web.listen-address", "127.0.0.1:\(port)", "--poll.interval", "2s", "--weight.max-share", "0.5"],
            unprivileged: true)
        try await withCleanup({ _ = await exporter.stop() }) {
            #expect(
                await eventually(timeout: .seconds(30)) { (try? await RawHTTPClient.get(port: port, path: "/-/ready"))?.status == 200 },
                "no answer from an unprivileged exporter: \(exporter.stderr)")
            #expect(
                await eventually(timeout: .seconds(20)) {
                    let text = (try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? ""
                    let e = Exposition(text)
                    return ["demo-main", "demo-hedge", "demo-rsa"].allSatisfy { e.value("binance_futures_up", ["account": $0]) == 1 }
                }, "accounts did not come up without privileges: \(exporter.stderr)")
            let gzip = try await RawHTTPClient.get(port: port, path: "/metrics", headers: ["Accept-Encoding": "gzip"])
            #expect(gzip.headers["content-encoding"] == "gzip")
            #expect(try Gzip.decompress(gzip.body).count > 10_000)
            let healthcheck = try ExporterProcess(
                arguments: ["healthcheck", "--web.listen-address", "127.0.0.1:\(port)"], unprivileged: true)
            #expect(await healthcheck.wait() == 0, "\(healthcheck.stderr)")
            #expect(!exporter.stderr.contains("Permission denied"), "\(exporter.stderr)")
            #expect(await exporter.stop() == 0)
        }
    }
}
