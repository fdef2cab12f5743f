import Foundation
import TestSupport
import Testing

/// Every TLS and HTTP setting of the web config file is either honoured — checked from the
/// client's side with curl — or refused at start with `file:line: field` and exit 2. A restriction
/// that was accepted and silently dropped made operators believe something untrue.
@Suite(.serialized) struct WebConfigPolicyTests {
    static func start(_ webConfig: String) throws -> (ExporterProcess, Int) {
        let port = freePort()
        let path = try ConfigErrorTests.write(webConfig)
        let exporter = try ExporterProcess(arguments: [
            "--demo", "--web.listen-address", "127.0.0.1:\(port)", "--web.config.file", path,
        ])
        return (exporter, port)
    }

    static func curl(_ arguments: [String]) throws -> String { try WebConfigTests.curl(arguments).code }

    @Test func restrictionsAreEnforcedOnTheWire() async throws {
        guard let directory = try WebConfigTests.makeCertificates(), ExternalTool.find("curl") != nil else {
            #expect(!ExternalTool.toolsRequired, "openssl and curl are required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        let (exporter, port) = try Self.start(
            """
            tls_server_config:
              cert_file: \(directory)/server.pem
              key_file: \(directory)/server.key
              client_ca_file: \(directory)/ca.pem
              client_auth_type: NoClientCert
              min_version: TLS12
              max_version: TLS12
              cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
              curve_preferences: [CurveP384]
            http_server_config:
              http2: false
              headers:
                Strict-Transport-Security: max-age=31536000
                X-Content-Type-Options: nosniff
            """)
        try await withCleanup({ _ = await exporter.stop() }) {
            let url = "https://127.0.0.1:\(port)/metrics"
            let trust = ["--cacert", "\(directory)/ca.pem"]
            // NoClientCert with a client_ca_file: no certificate is demanded.
            #expect(await eventually(timeout: .seconds(30)) { (try? Self.curl(trust + [url])) == "200" }, "\(exporter.stderr)")
            #expect(exporter.stderr.contains("client_ca_file is ignored"), "the unused CA is pointed out")
            // max_version TLS12: a client that insists on TLS 1.3 cannot connect.
            #expect(try Self.curl(trust + ["--tlsv1.3", url]) != "200")
            #expect(try Self.curl(trust + ["--tls-max", "1.2", url]) == "200")
            // cipher_suites: only the listed TLS 1.2 suite is accepted.
            #expect(try Self.curl(trust + ["--ciphers", "ECDHE-RSA-AES128-GCM-SHA256", url]) != "200")
            #expect(try Self.curl(trust + ["--ciphers", "ECDHE-RSA-AES256-GCM-SHA384", url]) == "200")
            // curve_preferences: only P-384 key exchange.
            #expect(try Self.curl(trust + ["--curves", "X25519", url]) != "200")
            #expect(try Self.curl(trust + ["--curves", "P-384", url]) == "200")
            // headers: on every response, errors included.
            for path in ["/metrics", "/nope"] {
                let raw = try ExternalTool.run(
                    ExternalTool.find("curl")!, ["-s", "-i"] + trust + ["https://127.0.0.1:\(port)\(path)"], stdin: [])
                let text = raw.stdout.lowercased()
                #expect(text.contains("strict-transport-security: max-age=31536000"), "\(path): \(raw.stdout.prefix(300))")
                #expect(text.contains("x-content-type-options: nosniff"))
            }
        }
    }

    @Test func verifyClientCertIfGivenAcceptsNoneAndRefusesAForeignOne() async throws {
        guard let directory = try WebConfigTests.makeCertificates(), let openssl = ExternalTool.find("openssl"),
            ExternalTool.find("curl") != nil
        else {
            #expect(!ExternalTool.toolsRequired, "openssl and curl are required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        let rogue = try ExternalTool.run(
            "/bin/sh",
            [
                "-c",
                "cd '\(directory)' && '\(openssl)' req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue 2>/dev/null",
            ], stdin: [])
        #expect(rogue.status == 0)
        let (exporter, port) = try Self.start(
            """
            tls_server_config:
              cert_file: \(directory)/server.pem
              key_file: \(directory)/server.key
              client_ca_file: \(directory)/ca.pem
              client_auth_type: VerifyClientCertIfGiven
            """)
        try await withCleanup({ _ = await exporter.stop() }) { () async throws in
            let url = "https://127.0.0.1:\(port)/metrics"
            let trust = ["--cacert", "\(directory)/ca.pem"]
            #expect(await eventually(timeout: .seconds(30)) { (try? Self.curl(trust + [url])) == "200" }, "\(exporter.stderr)")
            #expect(try Self.curl(trust + ["--cert", "\(directory)/client.pem", "--key", "\(directory)/client.key", url]) == "200")
            #expect(try Self.curl(trust + ["--cert", "\(directory)/rogue.pem", "--key", "\(directory)/rogue.key", url]) != "200")
        }
    }

    @Test(arguments: [
        ("  prefer_server_cipher_suites: true\n", 4, "tls_server_config.prefer_server_cipher_suites: not supported"),
        ("  client_auth_type: RequestClientCert\n", 4, "tls_server_config.client_auth_type: RequestClientCert is not supported"),
        ("  client_auth_type: RequireAnyClientCert\n", 4, "tls_server_config.client_auth_type: RequireAnyClientCert is not supported"),
        ("  client_auth_type: Sometimes\n", 4, "tls_server_config.client_auth_type: expected NoClientCert"),
        ("  client_auth_type: RequireAndVerifyClientCert\n", 4, "tls_server_config.client_ca_file: required by RequireAndVerifyClientCert"),
        ("  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", 4, "tls_server_config.cipher_suites: TLS_AES_128_GCM_SHA256 is not a configurable"),
        ("  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n", 4, "tls_server_config.cipher_suites: TLS_RSA_WITH_RC4_128_SHA is not"),
        ("  curve_preferences: [CurveP224]\n", 4, "tls_server_config.curve_preferences: CurveP224 is not supported"),
        ("  min_version: TLS13\n  max_version: TLS12\n", 5, "tls_server_config.max_version: lower than min_version"),
        ("  max_version: SSL3\n", 4, "tls_server_config.max_version: expected TLS10"),
        ("http_server_config:\n  http2: true\n", 5, "http_server_config.http2: HTTP/2 is not served"),
        ("http_server_config:\n  headers:\n    X-Powered-By: swift\n", 6, "http_server_config.headers.X-Powered-By: not an allowed header"),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n", 6,
            "http_server_config.headers.X-Frame-Options: expected one of: deny, sameorigin"
        ),
        ("http_server_config:\n  bogus: 1\n", 5, "bogus"),
    ])
    func unsupportedSettingsAreRefusedWithFileLineAndField(extra: String, line: Int, message: String) async throws {
        guard let directory = try WebConfigTests.makeCertificates() else {
            #expect(!ExternalTool.toolsRequired, "openssl is required (BFE_REQUIRE_TOOLS=1)")
            return
        }
        let path = try ConfigErrorTests.write(
            "tls_server_config:\n  cert_file: \(directory)/server.pem\n  key_file: \(directory)/server.key\n" + extra)
        let result = try await ExporterProcess.run(["--demo", "--web.config.file", path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("\(path):\(line):"), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }
}
