import BinanceSimulator
import Foundation
import TestSupport
import Testing

/// An account Binance stopped (rejected key) must come back on SIGHUP once its owner has fixed
/// things — whether the key file changed (same API key id and type, new secret) or nothing in
/// the config changed at all (the key was re-enabled at Binance).
@Suite(.serialized) struct StoppedAccountReloadTests {
    @Test func sighupRestartsStoppedAccountsAfterTheKeyIsFixed() async throws {
        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.serverPingInterval = nil
        let simulator = ExchangeSimulator(configuration: simulatorConfiguration)
        simulator.addAccount(SimulatedAccount(apiKey: "FIXKEY0000000001", key: .hmac(secret: "the-right-secret")))
        simulator.addAccount(SimulatedAccount(apiKey: "REVKEY0000000001", key: .hmac(secret: "secret-rev")))
        try await simulator.start()
        try await withCleanup({ await simulator.stop() }) {
            let secretFile = try ConfigErrorTests.write("a-wrong-secret\n")
            let config = try ConfigErrorTests.write(
                "binance:\n  ws_url: \(simulator.url)\npoll:\n  interval: 1s\nweight:\n  max_share: 0.9\naccounts:\n"
                    + "  - {name: fixed, api_key: FIXKEY0000000001, secret_file: \(secretFile)}\n"
                    + "  - {name: revoked, api_key: REVKEY0000000001, secret: secret-rev}\n")
            let port = freePort()
            let exporter = try ExporterProcess(arguments: ["--config.file", config, "--web.listen-address", "127.0.0.1:\(port)"])
            try await withCleanup({ _ = await exporter.stop() }) {
                func metrics() async -> Exposition { Exposition((try? await RawHTTPClient.get(port: port, path: "/metrics"))?.text ?? "") }
                func stopped(_ account: String) async -> Double? {
                    await metrics().value("binance_futures_account_stopped", ["account": account, "reason": "credentials_rejected"])
                }

                // A wrong secret: −1022 stops the account; fixing the file and SIGHUP brings it back.
                #expect(await eventually(timeout: .seconds(20)) { await stopped("fixed") == 1 }, "\(exporter.stderr)")
                #expect(
                    await eventually(timeout: .seconds(10)) { await metrics().value("binance_futures_up", ["account": "revoked"]) == 1 })
                try "the-right-secret\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
                exporter.signal(SIGHUP)
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        let e = await metrics()
                        return e.value("binance_futures_up", ["account": "fixed"]) == 1
                            && e.value("binance_futures_account_stopped", ["account": "fixed", "reason": "credentials_rejected"]) == 0
                    }, "\(exporter.stderr)")

                // A key revoked at Binance (−2015), then re-enabled there: nothing in the config
                // changes, and SIGHUP restarts the stopped account anyway.
                simulator.revokeKey("REVKEY0000000001")
                #expect(await eventually(timeout: .seconds(20)) { await stopped("revoked") == 1 }, "\(exporter.stderr)")
                simulator.updateAccount(apiKey: "REVKEY0000000001") { $0.revoked = false }
                try await Task.sleep(for: .seconds(2))
                #expect(await stopped("revoked") == 1, "a stopped account stays stopped until told otherwise")
                exporter.signal(SIGHUP)
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        let e = await metrics()
                        return e.value("binance_futures_up", ["account": "revoked"]) == 1
                            && e.value("binance_futures_account_stopped", ["account": "revoked", "reason": "credentials_rejected"]) == 0
                    }, "\(exporter.stderr)")
                #expect(await metrics().value("binance_futures_up", ["account": "fixed"]) == 1, "the healthy account was left alone")
                #expect(!exporter.stderr.contains("the-right-secret") && !exporter.stderr.contains("a-wrong-secret"))
            }
        }
    }
}
