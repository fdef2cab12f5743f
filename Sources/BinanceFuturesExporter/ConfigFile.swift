import BinanceWebSocketAPI
import ExporterCore
import Foundation
import Yams

/// Where a credential comes from in the config file.
enum SecretSource: Equatable {
    case inline(String)
    case file(String)
    case environment(String)
}

/// One `accounts[]` entry as written, before any file is read.
struct AccountEntry {
    var name: String
    var line: Int?
    var apiKey: SecretSource?
    var secret: SecretSource?
    var privateKeyFile: String?
    var privateKeyEnv: String?
    var interval: Double?
    var positionsDetail: Bool?
    var accountMethod: AccountMethodChoice?
    var userStream: Bool?
    /// `venue: usd-m | coin-m | portfolio-margin` (default usd-m).
    var venue: VenueID?
}

/// The YAML config file, validated strictly: unknown keys, wrong types and bad durations are
/// errors with the line number, before anything starts.
struct ConfigFile {
    var path: String
    var wsURL: String?
    var streamURL: String?
    var marketStreamURL: String?
    var reconcileInterval: Double?
    var restURL: String?
    var spotRestURL: String?
    var userStream: Bool?
    var testnet: Bool?
    var tlsCAFile: String?
    var sourceAddress: String?
    var interval: Double?
    var positionsDetail: Bool?
    var accountMethod: AccountMethodChoice?
    var maxShare: Double?
    var ipHeadroom: Double?
    var accounts: [AccountEntry] = []
    var coinmWsURL: String?
    var coinmStreamURL: String?
    var coinmRestURL: String?
    var pmRestURL: String?
    var pmStreamURL: String?

    static func load(path: String) throws -> ConfigFile {
        try parse(try readYAMLFile(path), path: path)
    }

    /// Reads and composes a YAML file; errors carry the file, the line and no content (a
    /// snippet of a config file may hold a secret).
    static func readYAMLFile(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, field: "file", problem: "cannot read: \(CredentialLoader.reason(error))")
        }
    }

    static func compose(_ text: String, path: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: path, line: Self.line(of: error), field: "yaml", problem: Self.summary(of: error))
        } catch {
            throw ConfigError(file: path, line: nil, field: "yaml", problem: "invalid YAML")
        }
    }

    static func parse(_ text: String, path: String) throws -> ConfigFile {
        let root = try compose(text, path: path)
        var config = ConfigFile(path: path)
        guard let root else { return config }
        let reader = NodeReader(path: path)
        let top = try reader.mapping(root, field: "(top level)", allowed: ["binance", "poll", "weight", "accounts", "user_stream"])
        config.userStream = try top["user_stream"].map { try reader.bool($0, field: "user_stream") }
        if let binance = top["binance"] {
            let section = try reader.mapping(
                binance, field: "binance",
                allowed: [
                    "ws_url", "stream_url", "market_stream_url", "rest_url", "spot_rest_url", "testnet", "tls_ca_file", "source_address",
                    "coinm_ws_url", "coinm_stream_url", "coinm_rest_url", "pm_rest_url", "pm_stream_url",
                ])
            config.pmRestURL = try section["pm_rest_url"].map { try reader.string($0, field: "binance.pm_rest_url") }
            config.pmStreamURL = try section["pm_stream_url"].map { try reader.string($0, field: "binance.pm_stream_url") }
            config.coinmWsURL = try section["coinm_ws_url"].map { try reader.string($0, field: "binance.coinm_ws_url") }
            config.coinmStreamURL = try section["coinm_stream_url"].map { try reader.string($0, field: "binance.coinm_stream_url") }
            config.coinmRestURL = try section["coinm_rest_url"].map { try reader.string($0, field: "binance.coinm_rest_url") }
            config.marketStreamURL = try section["market_stream_url"].map { try reader.string($0, field: "binance.market_stream_url") }
            config.restURL = try section["rest_url"].map { try reader.string($0, field: "binance.rest_url") }
            config.spotRestURL = try section["spot_rest_url"].map { try reader.string($0, field: "binance.spot_rest_url") }
            config.wsURL = try section["ws_url"].map { try reader.string($0, field: "binance.ws_url") }
            config.streamURL = try section["stream_url"].map { try reader.string($0, field: "binance.stream_url") }
            config.testnet = try section["testnet"].map { try reader.bool($0, field: "binance.testnet") }
            config.tlsCAFile = try section["tls_ca_file"].map { try reader.string($0, field: "binance.tls_ca_file") }
            config.sourceAddress = try section["source_address"].map { try reader.string($0, field: "binance.source_address") }
        }
        if let poll = top["poll"] {
            let section = try reader.mapping(
                poll, field: "poll", allowed: ["interval", "reconcile_interval", "positions_detail", "account_method"])
            config.reconcileInterval = try section["reconcile_interval"].map { try reader.duration($0, field: "poll.reconcile_interval") }
            config.interval = try section["interval"].map { try reader.duration($0, field: "poll.interval") }
            config.positionsDetail = try section["positions_detail"].map { try reader.bool($0, field: "poll.positions_detail") }
            config.accountMethod = try section["account_method"].map { try reader.accountMethod($0, field: "poll.account_method") }
        }
        if let weight = top["weight"] {
            let section = try reader.mapping(weight, field: "weight", allowed: ["max_share", "ip_headroom"])
            config.maxShare = try section["max_share"].map { try reader.fraction($0, field: "weight.max_share") }
            config.ipHeadroom = try section["ip_headroom"].map { try reader.fraction($0, field: "weight.ip_headroom") }
        }
        if let accounts = top["accounts"] {
            guard case .sequence(let list) = accounts else {
                throw reader.error(accounts, field: "accounts", "expected a list of accounts")
            }
            var seen: [String: Int?] = [:]
            for (index, node) in list.enumerated() {
                let field = "accounts[\(index)]"
                let entry = try reader.mapping(
                    node, field: field,
                    allowed: [
                        "name", "api_key", "api_key_file", "api_key_env", "secret", "secret_file", "secret_env",
                        "private_key_file", "private_key_env", "interval", "positions_detail", "account_method", "user_stream", "venue",
                    ])
                guard let nameNode = entry["name"] else { throw reader.error(node, field: "\(field).name", "missing") }
                let name = try reader.string(nameNode, field: "\(field).name")
                guard name.range(of: #"^[A-Za-z0-9_.:-]{1,64}$"#, options: .regularExpression) != nil else {
                    throw reader.error(nameNode, field: "\(field).name", "must be 1-64 characters of letters, digits, _ . : -")
                }
                if let previous = seen[name] {
                    throw reader.error(
                        nameNode, field: "\(field).name",
                        "duplicate account name \"\(name)\" (first at line \(previous.map(String.init) ?? "?"))")
                }
                seen[name] = nameNode.mark?.line
                var account = AccountEntry(name: name, line: node.mark?.line)
                account.apiKey = try reader.source(entry, prefix: "api_key", field: field)
                account.secret = try reader.source(entry, prefix: "secret", field: field)
                account.privateKeyFile = try entry["private_key_file"].map { try reader.string($0, field: "\(field).private_key_file") }
                account.privateKeyEnv = try entry["private_key_env"].map { try reader.string($0, field: "\(field).private_key_env") }
                account.interval = try entry["interval"].map { try reader.duration($0, field: "\(field).interval") }
                account.positionsDetail = try entry["positions_detail"].map { try reader.bool($0, field: "\(field).positions_detail") }
                account.accountMethod = try entry["account_method"].map { try reader.accountMethod($0, field: "\(field).account_method") }
                account.userStream = try entry["user_stream"].map { try reader.bool($0, field: "\(field).user_stream") }
                if let node = entry["venue"] {
                    let text = try reader.string(node, field: "\(field).venue")
                    guard let venue = VenueID(rawValue: text) else {
                        throw reader.error(
                            node, field: "\(field).venue",
                            "unknown venue \"\(text)\" (one of: \(VenueID.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    if venue != .usdM, account.accountMethod == .v2 {
                        throw reader.error(
                            node, field: "\(field).account_method",
                            "\(venue == .coinM ? "COIN-M" : "Portfolio Margin") has no v2 account methods; use v1")
                    }
                    account.venue = venue
                }
                if account.apiKey == nil {
                    throw reader.error(node, field: "\(field).api_key", "missing (set api_key_file, api_key_env or api_key)")
                }
                let keyCount = [account.secret != nil, account.privateKeyFile != nil, account.privateKeyEnv != nil].filter { $0 }.count
                if keyCount != 1 {
                    throw reader.error(
                        node, field: "\(field).secret",
                        keyCount == 0
                            ? "missing (set secret_file/secret_env for HMAC, or private_key_file for Ed25519/RSA)"
                            : "set exactly one of secret*, private_key_file, private_key_env")
                }
                config.accounts.append(account)
            }
        }
        return config
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    /// The problem text without the YAML snippet (which may contain secrets).
    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "invalid YAML"
        }
    }
}

/// Typed access to YAML nodes with errors that carry the node's line.
struct NodeReader {
    let path: String

    func error(_ node: Node, field: String, _ problem: String) -> ConfigError {
        ConfigError(file: path, line: node.mark?.line, field: field, problem: problem)
    }

    func mapping(_ node: Node, field: String, allowed: Set<String>) throws -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw error(node, field: field, "expected a mapping") }
        var out: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw error(key, field: field, "keys must be strings") }
            let qualified = field == "(top level)" ? name : "\(field).\(name)"
            guard allowed.contains(name) else {
                throw error(key, field: qualified, "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard out[name] == nil else { throw error(key, field: qualified, "duplicate key") }
            out[name] = value
        }
        return out
    }

    func string(_ node: Node, field: String) throws -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw error(node, field: field, "expected a non-empty string")
        }
        return scalar.string
    }

    func bool(_ node: Node, field: String) throws -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error(node, field: field, "expected true or false") }
        return value
    }

    func duration(_ node: Node, field: String) throws -> Double {
        let text = try string(node, field: field)
        switch PrometheusDuration.pollInterval(text) {
        case .success(let value): return value
        case .failure(let problem): throw error(node, field: field, problem.description)
        }
    }

    func fraction(_ node: Node, field: String) throws -> Double {
        guard case .scalar = node, let value = node.float, value > 0, value < 1 else {
            throw error(node, field: field, "expected a number between 0 and 1 (exclusive)")
        }
        return value
    }

    func accountMethod(_ node: Node, field: String) throws -> AccountMethodChoice {
        let text = try string(node, field: field)
        guard let method = AccountMethodChoice(flag: text) else { throw error(node, field: field, AccountMethodChoice.expected) }
        return method
    }

    /// `<prefix>`, `<prefix>_file` or `<prefix>_env`: at most one.
    func source(_ entry: [String: Node], prefix: String, field: String) throws -> SecretSource? {
        let options = [
            (prefix, { (s: String) in SecretSource.inline(s) }), (prefix + "_file", { SecretSource.file($0) }),
            (prefix + "_env", { SecretSource.environment($0) }),
        ]
        var found: SecretSource?
        for (key, make) in options {
            guard let node = entry[key] else { continue }
            if found != nil { throw error(node, field: "\(field).\(key)", "set only one of \(prefix), \(prefix)_file, \(prefix)_env") }
            found = make(try string(node, field: "\(field).\(key)"))
        }
        return found
    }
}
