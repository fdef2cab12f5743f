import BinanceSimulator
import Foundation
import HummingbirdBcrypt
import NIOSSL
import TestSupport
import Testing

/// `--web.config.file`: TLS, mutual TLS and basic auth, exercised with curl over real sockets.
@Suite(.serialized) struct WebConfigTests {
    /// A throw-away CA, server certificate (127.0.0.1) and client certificate made with openssl.
    static func makeCertificates() throws -> String? {
        guard let openssl = ExternalTool.find("openssl") else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bfe-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
            set -e
            cd '\(directory)'
            O='\(openssl)'
            $O req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bfe-test-ca 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
            $O req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
            $O x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            $O req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=prometheus 2>/dev/null
            $O x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
            """
        let result = try ExternalTool.run("/bin/sh", ["-c", script], stdin: [])
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown) }
        return directory
    }

    static func curl(_ arguments: [String]) throws -> (code: String, output: String) {
        guard let curl = ExternalTool.find("curl") else { return ("no-curl", "") }
        let result = try ExternalTool.run(
            curl, ["-s", "-S", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"] + arguments, stdin: [])
        return (result.stdout, result.stderr)
    }

    @Test func tlsWithBasicAuth() async throws {
        guard let directory = try Self.makeCertificates(), ExternalTool.find("curl") != nil else {
            #expect(!ExternalTool.toolsRequired, "openssl and curl are required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        let hash = Bcrypt.hash("s3cret", cost: 6)
        let webConfig = try ConfigErrorTests.write(
            """
            tls_server_config:
              cert_file: \(directory)/server.pem
              key_file: \(directory)/server.key
              min_version: TLS12
            basic_auth_users:
              prometheus: "\(hash)"
            """)
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--web.listen-address", "127.0.0.1:\(port)", "--web.config.file", webConfig,
        ])
        try await withCleanup({ _ = await exporter.stop() }) {
            let url = "https://127.0.0.1:\(port)"
            #expect(
                await eventually(timeout: .seconds(30)) {
                    (try? Self.curl(["--cacert", "\(directory)/ca.pem", "\(url)/-/healthy"]))?.code == "200"
                }, "\(exporter.stderr)")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "\(url)/metrics"]).code == "401")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "-u", "prometheus:wrong", "\(url)/metrics"]).code == "401")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "-u", "nobody:s3cret", "\(url)/metrics"]).code == "401")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "-u", "prometheus:s3cret", "\(url)/metrics"]).code == "200")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "-u", "prometheus:s3cret", "\(url)/"]).code == "200")
            // Plain HTTP to the TLS port is refused, and the server still works afterwards.
            #expect(try Self.curl(["http://127.0.0.1:\(port)/metrics"]).code != "200")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", "-u", "prometheus:s3cret", "\(url)/metrics"]).code == "200")
            // 401 carries the challenge.
            let raw = try ExternalTool.run(
                ExternalTool.find("curl")!, ["-s", "-i", "--cacert", "\(directory)/ca.pem", "\(url)/metrics"], stdin: [])
            #expect(raw.stdout.lowercased().contains("www-authenticate: basic realm="))
        }
    }

    @Test func mutualTLSRequiresAClientCertificate() async throws {
        guard let directory = try Self.makeCertificates(), ExternalTool.find("curl") != nil else {
            #expect(!ExternalTool.toolsRequired, "openssl and curl are required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        let webConfig = try ConfigErrorTests.write(
            """
            tls_server_config:
              cert_file: \(directory)/server.pem
              key_file: \(directory)/server.key
              client_ca_file: \(directory)/ca.pem
              client_auth_type: RequireAndVerifyClientCert
            """)
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--web.listen-address", "127.0.0.1:\(port)", "--web.config.file", webConfig,
        ])
        try await withCleanup({ _ = await exporter.stop() }) { () async throws in
            let url = "https://127.0.0.1:\(port)/metrics"
            let withCertificate = [
                "--cacert", "\(directory)/ca.pem", "--cert", "\(directory)/client.pem", "--key", "\(directory)/client.key", url,
            ]
            #expect(await eventually(timeout: .seconds(30)) { (try? Self.curl(withCertificate))?.code == "200" }, "\(exporter.stderr)")
            #expect(try Self.curl(["--cacert", "\(directory)/ca.pem", url]).code != "200")
        }
    }

    @Test func sighupReloadsWebConfigAndNeverKillsTheProcess() async throws {
        let webConfig = try ConfigErrorTests.write("basic_auth_users:\n  alice: \"\(Bcrypt.hash("first", cost: 4))\"\n")
        let port = freePort()
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--web.listen-address", "127.0.0.1:\(port)", "--web.config.file", webConfig,
        ])
        try await withCleanup({ _ = await exporter.stop() }) {
            func status(_ user: String, _ password: String) async -> Int? {
                let token = Data("\(user):\(password)".utf8).base64EncodedString()
                return (try? await RawHTTPClient.get(port: port, path: "/metrics", headers: ["Authorization": "Basic \(token)"]))?.status
            }
            #expect(await eventually(timeout: .seconds(30)) { await status("alice", "first") == 200 }, "\(exporter.stderr)")
            try "basic_auth_users:\n  bob: \"\(Bcrypt.hash("second", cost: 4))\"\n".write(
                toFile: webConfig, atomically: true, encoding: .utf8)
            exporter.signal(SIGHUP)
            #expect(await eventually(timeout: .seconds(10)) { await status("bob", "second") == 200 })
            #expect(await status("alice", "first") == 401, "removed users are refused, even with a remembered password")
            #expect(exporter.process.isRunning)
            // An invalid web config is rejected; bob keeps working.
            try "basic_auth_users:\n  bob: not-a-hash\n".write(toFile: webConfig, atomically: true, encoding: .utf8)
            exporter.signal(SIGHUP)
            #expect(await eventually(timeout: .seconds(10)) { exporter.stderr.contains("configuration reload failed") })
            #expect(await status("bob", "second") == 200)
        }
    }

    @Test func invalidWebConfigIsAConfigError() async throws {
        let bad = try ConfigErrorTests.write("basic_auth_users:\n  admin: plaintext\n")
        let result = try await ExporterProcess.run(["--demo", "--web.config.file", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(bad):2: basic_auth_users.admin: expected a bcrypt hash"))
        let missing = try ConfigErrorTests.write("tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n")
        let tls = try await ExporterProcess.run(["--demo", "--web.config.file", missing])
        #expect(tls.status == 2)
        #expect(tls.stderr.contains("tls_server_config.cert_file: cannot load certificate or key"))
    }
}

/// The client's TLS path: `wss://` to a server whose certificate comes from a private CA.
@Suite(.serialized) struct BinanceTLSTests {
    @Test func tlsCAFileIsTrustedAndRequired() async throws {
        guard let directory = try WebConfigTests.makeCertificates() else {
            #expect(!ExternalTool.toolsRequired, "openssl is required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        var configuration = SimulatorConfiguration()
        configuration.serverPingInterval = nil
        let chain = try NIOSSLCertificate.fromPEMFile("\(directory)/server.pem").map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: "\(directory)/server.key", format: .pem)
        configuration.tls = try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        let simulator = ExchangeSimulator(configuration: configuration)
        simulator.addAccount(SimulatedAccount(apiKey: "TLSKEY0000000001", key: .hmac(secret: "tls-secret")))
        try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            #expect(simulator.url.hasPrefix("wss://127.0.0.1:"))
            let config = try ConfigErrorTests.write(
                "poll:\n  interval: 1s\naccounts:\n  - {name: tls, api_key: TLSKEY0000000001, secret: tls-secret}\n")

            // With the private CA: connected and polling.
            let port = freePort()
            let trusted = try ExporterProcess(arguments: [
                "--config.file", config, "--binance.ws-url", simulator.url, "--binance.tls-ca-file", "\(directory)/ca.pem",
                "--web.listen-address", "127.0.0.1:\(port)",
            ])
            #expect(
                await eventually(timeout: .seconds(30)) {
                    Exposition((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? "").value(
                        "binance_futures_up", ["account": "tls"]) == 1
                }, "\(trusted.stderr)")
            _ = await trusted.stop()

            // Without it the server certificate is not trusted: transport errors, up 0, no data.
            let otherPort = freePort()
            let untrusted = try ExporterProcess(arguments: [
                "--config.file", config, "--binance.ws-url", simulator.url, "--web.listen-address", "127.0.0.1:\(otherPort)",
            ])
            try await withCleanup({ _ = await untrusted.stop() }) {
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        let e = Exposition((try? await RawHTTPClient.get(port: otherPort, path: "/metrics"))?.text ?? "")
                        return (e.value("binance_futures_poll_errors_total", ["account": "tls", "code": "transport"]) ?? 0) >= 1
                    }, "\(untrusted.stderr)")
                let e = Exposition(try await RawHTTPClient.get(port: otherPort, path: "/metrics").text)
                #expect(e.value("binance_futures_up", ["account": "tls"]) == 0)
                #expect(e.value("binance_futures_account_wallet_balance", ["account": "tls"]) == nil)
                #expect(untrusted.stderr.contains("connect failed"))
            }
        }
    }
}
