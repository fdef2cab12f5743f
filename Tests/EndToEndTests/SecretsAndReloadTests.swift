import BinanceSimulator
import Crypto
import Foundation
import TestSupport
import Testing
import _CryptoExtras

/// Known credentials of all three types, run through errors and faults at debug log level:
/// no secret, private key or signature may appear in anything the exporter prints or serves.
@Suite(.serialized) struct SecretsAndReloadTests {
    static let hmacSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    static let edPEM =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"

    static func rsaKey() throws -> (pem: String, key: _RSA.Signing.PrivateKey) {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        return (key.pemRepresentation, key)
    }

    /// Everything that looks like a secret or a signature.
    static func leaks(in text: String, secrets: [String]) -> [String] {
        var found = secrets.filter { !$0.isEmpty && text.contains($0) }.map { "secret \($0.prefix(6))…" }
        let patterns = [#"[0-9a-f]{64}"#, #"[A-Za-z0-9+/]{86}=="#, #"[A-Za-z0-9+/]{300,}={0,2}"#, "PRIVATE KEY"]
        for pattern in patterns where text.range(of: pattern, options: .regularExpression) != nil { found.append("pattern \(pattern)") }
        return found
    }

    @Test func noSecretEverAppearsThroughErrorsAndFaults() async throws {
        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.serverPingInterval = nil
        let simulator = ExchangeSimulator(configuration: simulatorConfiguration)
        let edKey = try Curve25519.Signing.PrivateKey(
            rawRepresentation: Array(Data(base64Encoded: "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g")!.suffix(32)))
        let rsa = try Self.rsaKey()
        simulator.addAccount(
            SimulatedAccount(
                apiKey: "HMACKEY000000001", key: .hmac(secret: Self.hmacSecret),
                positions: [SimulatedPosition(symbol: "BTCUSDT", amount: 1, entryPrice: 60_000)]))
        simulator.addAccount(SimulatedAccount(apiKey: "EDKEY00000000001", key: .ed25519(publicKey: edKey.publicKey)))
        var rsaAccount = SimulatedAccount(apiKey: "RSAKEY0000000001", key: .rsa(publicKey: rsa.key.publicKey))
        rsaAccount.restrictions.flags["enableWithdrawals"] = true
        simulator.addAccount(rsaAccount)
        // The exchange holds a different secret for this one: every request fails with −1022.
        simulator.addAccount(SimulatedAccount(apiKey: "BADSIGKEY0000001", key: .hmac(secret: "the-exchange-has-another-secret")))
        try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {

            let secretFile = try ConfigErrorTests.write(Self.hmacSecret)
            let edFile = try ConfigErrorTests.write(Self.edPEM)
            let rsaFile = try ConfigErrorTests.write(rsa.pem)
            let config = try ConfigErrorTests.write(
                """
                binance:
                  ws_url: \(simulator.url)
                  stream_url: \(simulator.streamURL)
                  rest_url: \(simulator.restURL)
                  spot_rest_url: \(simulator.restURL)
                poll:
                  interval: 1s
                weight:
                  max_share: 0.9
                accounts:
                  - {name: hmac, api_key: HMACKEY000000001, secret_file: \(secretFile)}
                  - {name: ed, api_key: EDKEY00000000001, private_key_file: \(edFile)}
                  - {name: rsa, api_key: RSAKEY0000000001, private_key_file: \(rsaFile)}
                  - {name: badsig, api_key: BADSIGKEY0000001, secret_file: \(secretFile)}
                """)
            let port = freePort()
            let exporter = try ExporterProcess(arguments: [
                "--config.file", config, "--web.listen-address", "127.0.0.1:\(port)", "--log.level", "debug",
            ])
            try await withCleanup({ _ = await exporter.stop() }) {
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        let e = Exposition((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? "")
                        return e.value("binance_futures_up", ["account": "ed"]) == 1
                            && e.value("binance_futures_up", ["account": "rsa"]) == 1
                    }, "\(exporter.stderr)")
                // Listen keys are secrets too: remember them while the streams are up.
                #expect(
                    await eventually(timeout: .seconds(10)) {
                        let e = Exposition((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? "")
                        return e.value("binance_futures_user_stream_connected", ["account": "rsa"]) == 1
                    })
                let listenKeys = ["HMACKEY000000001", "EDKEY00000000001", "RSAKEY0000000001"].compactMap { simulator.listenKey(apiKey: $0) }
                #expect(listenKeys.count >= 2)
                // Faults: clock skew (−1021), a garbage frame, a dropped connection, a revoked key.
                simulator.updateFaults { $0.clockSkewMilliseconds = -4000 }
                simulator.broadcast(text: "garbage \(Self.hmacSecret.prefix(0))")
                try await Task.sleep(for: .seconds(2))
                simulator.dropAllConnections()
                simulator.revokeKey("EDKEY00000000001")
                try await Task.sleep(for: .seconds(3))

                var outputs: [(String, String)] = []
                outputs.append(("/metrics", try await RawHTTPClient.get(port: port, path: "/metrics").text))
                outputs.append(("/", try await RawHTTPClient.get(port: port, path: "/").text))
                let check = try await ExporterProcess.run(["check-config", "--config.file", config, "--log.level", "debug"])
                outputs.append(("check-config", check.stdout + check.stderr))
                #expect(check.stdout.contains("rsa: WARNING: this key can move money out (withdrawals)"), "\(check.stdout)")
                #expect(check.stdout.contains("hmac: OK (cannot move money or trade; IP-restricted)"), "\(check.stdout)")
                let badFile = try ConfigErrorTests.write("accounts:\n  - {name: x, api_key: K, secret: \(Self.hmacSecret), bogus: 1}\n")
                let bad = try await ExporterProcess.run(["check-config", "--config.file", badFile])
                outputs.append(("config error", bad.stdout + bad.stderr))
                _ = await exporter.stop()
                outputs.append(("stderr", exporter.stderr))
                outputs.append(("stdout", exporter.stdout))

                let metrics = Exposition(outputs[0].1)
                #expect(metrics.value("binance_futures_poll_errors_total", ["account": "badsig", "code": "-1022"]) == 1)
                #expect(metrics.value("binance_futures_account_stopped", ["account": "ed", "reason": "credentials_rejected"]) == 1)
                #expect(exporter.stderr.contains("level=debug"), "debug logging was on")
                #expect(exporter.stderr.contains("-1021"), "the skew fault happened")
                for (name, text) in outputs {
                    #expect(
                        Self.leaks(
                            in: text, secrets: [Self.hmacSecret, "MC4CAQAw", String(rsa.pem.split(separator: "\n")[1])] + listenKeys
                        )
                        .isEmpty,
                        "\(name) leaks: \(Self.leaks(in: text, secrets: [Self.hmacSecret]))")
                }
            }
        }
    }

    @Test func sighupReloadsAccountsAndRejectsInvalidConfig() async throws {
        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.serverPingInterval = nil
        let simulator = ExchangeSimulator(configuration: simulatorConfiguration)
        for key in ["KEYA000000000001", "KEYB000000000001", "KEYC000000000001"] {
            simulator.addAccount(SimulatedAccount(apiKey: key, key: .hmac(secret: "secret-\(key)")))
        }
        try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            func account(_ name: String, _ key: String) -> String { "  - {name: \(name), api_key: \(key), secret: secret-\(key)}\n" }
            let header = "binance:\n  ws_url: \(simulator.url)\npoll:\n  interval: 1s\nweight:\n  max_share: 0.9\naccounts:\n"
            let config = try ConfigErrorTests.write(header + account("a", "KEYA000000000001") + account("b", "KEYB000000000001"))
            let port = freePort()
            let exporter = try ExporterProcess(arguments: ["--config.file", config, "--web.listen-address", "127.0.0.1:\(port)"])
            try await withCleanup({ _ = await exporter.stop() }) {
                func metrics() async -> Exposition { Exposition((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? "") }
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        let e = await metrics()
                        return e.value("binance_futures_up", ["account": "a"]) == 1 && e.value("binance_futures_up", ["account": "b"]) == 1
                    })
                let handshakesBefore = simulator.stats.handshakes

                // Remove a, keep b unchanged, add c.
                try (header + account("b", "KEYB000000000001") + account("c", "KEYC000000000001")).write(
                    toFile: config, atomically: true, encoding: .utf8)
                exporter.signal(SIGHUP)
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        let e = await metrics()
                        return e.value("binance_futures_up", ["account": "c"]) == 1 && e.series("binance_futures_up").count == 2
                    }, "\(exporter.stderr)")
                var e = await metrics()
                #expect(!e.text.contains("account=\"a\""))
                #expect(e.value("binance_futures_config_last_reload_successful") == 1)
                #expect(simulator.stats.handshakes == handshakesBefore + 1, "only c connected; b kept its connection")

                // An invalid file is rejected; b and c keep running.
                try (header + "  - {name: b, bogus: 1}\n").write(toFile: config, atomically: true, encoding: .utf8)
                exporter.signal(SIGHUP)
                #expect(
                    await eventually(timeout: .seconds(10)) { await metrics().value("binance_futures_config_last_reload_successful") == 0 })
                try await Task.sleep(for: .seconds(2))
                e = await metrics()
                #expect(e.value("binance_futures_up", ["account": "b"]) == 1)
                #expect(e.value("binance_futures_up", ["account": "c"]) == 1)
                #expect(exporter.stderr.contains("configuration reload failed"))
            }
        }
    }
}
