import BinanceSimulator
import ExporterCore
import Foundation
import TestSupport
import Testing

/// The real binary in demo mode, scraped over HTTP, checked by promtool.
@Suite(.serialized) struct DemoEndToEndTests {
    @Test func demoServesValidMetricsForEveryAccount() async throws {
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--web.listen-address", "127.0.0.1:\(port)", "--poll.interval", "2s", "--weight.max-share", "0.5",
        ])
        try await withCleanup({ _ = await exporter.stop() }) {
            #expect(
                await eventually(timeout: .seconds(30)) { (try? await RawHTTPClient.get(port: port, path: "/-/ready"))?.status == 200 },
                "\(exporter.stderr)")
            #expect(
                await eventually(timeout: .seconds(15)) {
                    let text = (try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? ""
                    let e = Exposition(text)
                    return ["demo-main", "demo-hedge", "demo-rsa"].allSatisfy {
                        e.value("binance_futures_up", ["account": $0]) == 1
                            && e.value("binance_futures_user_stream_connected", ["account": $0]) == 1
                    }
                }, "every demo account polls and has its user data stream subscribed")
            let gzip = try await RawHTTPClient.get(port: port, path: "/metrics", headers: ["Accept-Encoding": "gzip"])
            #expect(gzip.headers["content-encoding"] == "gzip")
            let body = try Gzip.decompress(gzip.body)
            let e = Exposition(String(decoding: body, as: UTF8.self))
            #expect(e.value("binance_futures_account_multi_assets_margin", ["account": "demo-hedge"]) == 1)
            #expect(
                e.value("binance_futures_position_amount", ["account": "demo-hedge", "symbol": "BTCUSDT", "position_side": "SHORT"]) == -0.1
            )
            #expect(
                e.value(
                    "binance_futures_position_open_order_initial_margin",
                    ["account": "demo-rsa", "symbol": "XRPUSDT", "position_side": "BOTH"])
                    == 25)
            #expect(e.series("process_resident_memory_bytes").count == 1)

            guard let promtool = ExternalTool.find("promtool") else {
                #expect(!ExternalTool.toolsRequired, "promtool is required (BFE_REQUIRE_TOOLS=1) but not installed")
                return
            }
            // promtool reads the 0.0.4 text format only; exit 3 (lint problems) is a failure too.
            // The OpenMetrics body is validated by a real Prometheus scrape in scripts/e2e-prometheus.sh.
            let response = try await RawHTTPClient.get(
                port: port, path: "/metrics", headers: ["Accept-Encoding": "gzip", "Accept": "text/plain"])
            let result = try ExternalTool.run(promtool, ["check", "metrics"], stdin: try Gzip.decompress(response.body))
            #expect(result.status == 0, "promtool check metrics: exit \(result.status): \(result.stderr) \(result.stdout)")
        }
    }

    @Test func jsonLogFormatWritesOneObjectPerLine() async throws {
        let port = freePort()
        let exporter = try ExporterProcess(arguments: ["--demo", "--log.format", "json", "--web.listen-address", "127.0.0.1:\(port)"])
        #expect(await eventually(timeout: .seconds(30)) { (try? await RawHTTPClient.get(port: port, path: "/-/ready"))?.status == 200 })
        #expect(await exporter.stop() == 0)
        let lines = exporter.stderr.split(separator: "\n")
        #expect(lines.count >= 5)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["msg"] is String && object?["ts"] is String, "not a JSON log line: \(line)")
        }
        #expect(exporter.stderr.contains("\"msg\":\"stopped\""))
    }

    @Test func healthcheckSubcommandForDocker() async throws {
        let port = freePort()
        let down = try await ExporterProcess.run(["healthcheck", "--web.listen-address", "127.0.0.1:\(port)"])
        #expect(down.status == 1)
        let exporter = try ExporterProcess(arguments: ["--demo", "--web.listen-address", ":\(port)"])
        try await withCleanup({ _ = await exporter.stop() }) {
            #expect(
                await eventually(timeout: .seconds(30)) { (try? await RawHTTPClient.get(port: port, path: "/-/healthy"))?.status == 200 })
            let up = try await ExporterProcess.run(["healthcheck", "--web.listen-address", ":\(port)"])
            #expect(up.status == 0, "\(up.stderr)")
        }
    }

    @Test func sigtermFinishesAnInFlightScrapeToASlowReader() async throws {
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--demo.accounts", "30", "--weight.max-share", "0.9", "--poll.interval", "2s", "--web.listen-address",
            "127.0.0.1:\(port)",
        ])
        // Black-box check of the whole shutdown path. On loopback the kernel may buffer the whole
        // body; HTTPListenerTests.drainWaitsForAnInFlightResponseToASlowReader shrinks the send
        // buffer to prove that the drain itself waits.
        #expect(
            await eventually(timeout: .seconds(40)) {
                ((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.body.count ?? 0) > 450_000
            }, "\(exporter.stderr)")
        let reader = try SlowSocket(port: port)
        reader.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(500))  // the server's write is now stalled on us
        exporter.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        let response = try HTTPResponse.parseFirst(reader.readAll())
        #expect(response.status == 200)
        #expect(response.body.count == Int(response.headers["content-length"] ?? "") ?? -1, "the whole body arrived")
        #expect(response.text.hasSuffix("\n"))
        #expect(await exporter.wait(timeout: .seconds(15)) == 0, "\(exporter.stderr)")
    }

    @Test func sigtermStopsPromptlyAndClosesConnections() async throws {
        var configuration = SimulatorConfiguration()
        configuration.serverPingInterval = nil
        let simulator = ExchangeSimulator(configuration: configuration)
        for key in ["TERMKEY000000001", "TERMKEY000000002"] {
            simulator.addAccount(SimulatedAccount(apiKey: key, key: .hmac(secret: "secret-\(key)")))
        }
        try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            let config = try ConfigErrorTests.write(
                "binance:\n  ws_url: \(simulator.url)\npoll:\n  interval: 1s\nweight:\n  max_share: 0.9\naccounts:\n"
                    + "  - {name: one, api_key: TERMKEY000000001, secret: secret-TERMKEY000000001}\n"
                    + "  - {name: two, api_key: TERMKEY000000002, secret: secret-TERMKEY000000002}\n")
            let port = freePort()
            let exporter = try ExporterProcess(arguments: ["--config.file", config, "--web.listen-address", "127.0.0.1:\(port)"])
            #expect(
                await eventually(timeout: .seconds(30)) {
                    guard simulator.openConnections == 2 else { return false }
                    return (try? await RawHTTPClient.get(port: port, path: "/-/ready"))?.status == 200
                })
            let started = ContinuousClock.now
            exporter.signal(SIGTERM)
            let status = await exporter.wait(timeout: .seconds(15))
            #expect(status == 0, "\(exporter.stderr)")
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(exporter.stderr.contains("msg=stopped"))
            #expect(await eventually { simulator.openConnections == 0 })
            #expect(simulator.stats.closeFramesReceived == 2, "both WebSocket connections closed with a close frame")
        }
    }
}
