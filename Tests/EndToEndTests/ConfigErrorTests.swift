import Foundation
import TestSupport
import Testing

/// Bad configuration: one line naming file, line and field; exit code 2; nothing started.
@Suite struct ConfigErrorTests {
    static func write(_ text: String, mode: Int = 0o600) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bfe-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    static let ed25519PEM =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"

    @Test(arguments: [
        ("binance:\n  ws_url: wss://x\n  bogus: 1\n", ":3: binance.bogus: unknown key"),
        (
            "accounts:\n  - name: a\n    api_key: K\n    secret: S\n  - name: a\n    api_key: K\n    secret: S\n",
            ":5: accounts[1].name: duplicate account name \"a\""
        ),
        ("poll:\n  interval: 15x\n", ":2: poll.interval: invalid duration \"15x\""),
        (
            "accounts:\n  - name: a\n    api_key: K\n    secret_file: /nonexistent/secret\n",
            ":2: accounts[a].secret: cannot read /nonexistent/secret"
        ),
        (
            "accounts:\n  - name: a\n    api_key_env: BFE_TEST_UNSET_VARIABLE\n    secret: S\n",
            "accounts[a].api_key: environment variable BFE_TEST_UNSET_VARIABLE is not set"
        ),
        ("accounts:\n  - name: a\n    api_key: K\n", ":2: accounts[0].secret: missing"),
        ("accounts: [\n", "yaml"),
        ("weight:\n  max_share: 3\n", ":2: weight.max_share: expected a number between 0 and 1"),
        // Binance runs no Portfolio Margin testnet: a PM account on the testnet is refused at start.
        (
            "binance:\n  testnet: true\naccounts:\n  - name: pm\n    api_key: K\n    secret: S\n    venue: portfolio-margin\n",
            "accounts.pm.venue: Binance runs no Portfolio Margin testnet"
        ),
        (
            "accounts:\n  - name: pm\n    api_key: K\n    secret: S\n    venue: portfolio-margin\n    account_method: v2/account.status\n",
            ":5: accounts[0].account_method: Portfolio Margin has no v2 account methods; use v1"
        ),
        (
            "accounts:\n  - name: x\n    api_key: K\n    secret: S\n    venue: spot\n",
            "unknown venue \"spot\" (one of: usd-m, coin-m, portfolio-margin)"
        ),
    ])
    func invalidConfigExitsWithTwo(yaml: String, expected: String) async throws {
        let path = try Self.write(yaml)
        let result = try await ExporterProcess.run(["check-config", "--config.file", path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.stderr)")
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }

    @Test func malformedPEMIsNamed() async throws {
        let pem = try Self.write("-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n")
        let config = try Self.write("accounts:\n  - name: ed\n    api_key: K\n    private_key_file: \(pem)\n")
        let result = try await ExporterProcess.run(["--config.file", config])
        #expect(result.status == 2)
        #expect(result.stderr.contains("accounts[ed].private_key_file"))
    }

    @Test func badFlagsExitWithTwo() async throws {
        for arguments in [
            ["--demo", "--poll.interval", "soon"], ["--demo", "--binance.ws-url", "http://x"], ["--demo", "--log.level", "loud"],
            ["--demo", "--web.listen-address", "nonsense"],
        ] {
            let result = try await ExporterProcess.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func noAccountsIsAClearError() async throws {
        let result = try await ExporterProcess.run([])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no accounts configured"))
    }

    @Test func portInUseExitsWithTwo() async throws {
        let port = freePort()
        let first = try ExporterProcess(arguments: ["--demo", "--web.listen-address", "127.0.0.1:\(port)"])
        try await withCleanup({ _ = await first.stop() }) {
            #expect(
                await eventually(timeout: .seconds(30)) { (try? await RawHTTPClient.get(port: port, path: "/-/healthy"))?.status == 200 })
            let second = try await ExporterProcess.run(["--demo", "--web.listen-address", "127.0.0.1:\(port)"])
            #expect(second.status == 2)
            #expect(second.stderr.contains("cannot listen on 127.0.0.1:\(port)"))
        }
    }

    @Test("a secret mounted as Kubernetes mounts a Secret (a symlink to a 0600 file) is not reported as world-readable")
    func symlinkedSecretIsJudgedByItsTarget() async throws {
        let secret = try Self.write("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j\n", mode: 0o600)
        let link = secret + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: secret)
        let config = try Self.write(
            """
            accounts:
              - name: main
                api_key: vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A
                secret_file: \(link)
            """)
        let result = try await ExporterProcess.run(
            ["check-config", "--config.file", config, "--binance.spot-rest-url", "http://127.0.0.1:9"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("readable by group or others"), "\(result.stdout)")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        let loose = try await ExporterProcess.run(
            ["check-config", "--config.file", config, "--binance.spot-rest-url", "http://127.0.0.1:9"])
        #expect(loose.stdout.contains("mode 644"), "the target's mode is what counts")
    }

    @Test func checkConfigSummarisesAndWarnsAboutLooseSecretFiles() async throws {
        let secret = try Self.write("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j\n", mode: 0o644)
        let pem = try Self.write(Self.ed25519PEM)
        let config = try Self.write(
            """
            poll:
              interval: 30s
            accounts:
              - name: main
                api_key: vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A
                secret_file: \(secret)
              - name: hedge-bot
                api_key_env: BFE_TEST_HEDGE_KEY
                private_key_file: \(pem)
                interval: 1m
            """)
        let result = try await ExporterProcess.run(
            ["check-config", "--config.file", config, "--binance.spot-rest-url", "http://127.0.0.1:9"],
            environment: ["BFE_TEST_HEDGE_KEY": "HEDGEKEY12345678"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("main: key vmPUZE6m… (HMAC), every 30.0s"))
        #expect(result.stdout.contains("hedge-bot: key HEDGEKEY… (Ed25519, session.logon), every 60.0s"))
        #expect(result.stdout.contains("readable by group or others"))
        #expect(
            result.stdout.contains("main: not checked (transport error: connect failed"), "an unreachable exchange is reported, not fatal")
        #expect(!result.stdout.contains("NhqPtmdS"))
        #expect(!result.stdout.contains("MC4CAQAw"))
    }

    @Test func environmentSingleAccountMode() async throws {
        let result = try await ExporterProcess.run(
            ["check-config", "--binance.spot-rest-url", "http://127.0.0.1:9"],
            environment: ["BINANCE_API_KEY": "ENVKEY0123456789", "BINANCE_API_SECRET": "top-secret-value"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("default: key ENVKEY01… (HMAC)"))
        #expect(!result.stdout.contains("top-secret-value"))
    }
}
