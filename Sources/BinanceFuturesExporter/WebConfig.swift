import ExporterCore
import Foundation
import NIOSSL
import Yams

/// The exporter-toolkit web config file: `tls_server_config` and `basic_auth_users`.
struct WebConfig {
    var tls: NIOSSLContext?
    var users: BasicAuthUsers = [:]

    static func load(path: String) throws -> WebConfig {
        let root = try ConfigFile.compose(try ConfigFile.readYAMLFile(path), path: path)
        var config = WebConfig()
        guard let root else { return config }
        let reader = NodeReader(path: path)
        let top = try reader.mapping(root, field: "(top level)", allowed: ["tls_server_config", "basic_auth_users", "http_server_config"])
        if let users = top["basic_auth_users"] {
            guard case .mapping(let mapping) = users else { throw reader.error(users, field: "basic_auth_users", "expected a mapping") }
            for (key, value) in mapping {
                guard let user = key.string, !user.isEmpty else {
                    throw reader.error(key, field: "basic_auth_users", "user names must be strings")
                }
                let hash = try reader.string(value, field: "basic_auth_users.\(user)")
                guard hash.hasPrefix("$2"), hash.count == 60 else {
                    throw reader.error(value, field: "basic_auth_users.\(user)", "expected a bcrypt hash ($2a$/$2b$/$2y$, 60 characters)")
                }
                config.users[user] = hash
            }
        }
        if let tlsNode = top["tls_server_config"] {
            let tls = try reader.mapping(
                tlsNode, field: "tls_server_config",
                allowed: [
                    "cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version", "cipher_suites",
                    "prefer_server_cipher_suites", "curve_preferences",
                ])
            guard let certNode = tls["cert_file"], let keyNode = tls["key_file"] else {
                throw reader.error(tlsNode, field: "tls_server_config", "cert_file and key_file are both required")
            }
            let certFile = try reader.string(certNode, field: "tls_server_config.cert_file")
            let keyFile = try reader.string(keyNode, field: "tls_server_config.key_file")
            var configuration: TLSConfiguration
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certFile).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
                configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            } catch {
                throw reader.error(certNode, field: "tls_server_config.cert_file", "cannot load certificate or key: \(error)")
            }
            let authType = try tls["client_auth_type"].map { try reader.string($0, field: "tls_server_config.client_auth_type") }
            if let caNode = tls["client_ca_file"] {
                let caFile = try reader.string(caNode, field: "tls_server_config.client_ca_file")
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw reader.error(caNode, field: "tls_server_config.client_ca_file", "cannot read \(caFile)")
                }
                configuration.trustRoots = .file(caFile)
                configuration.certificateVerification = .noHostnameVerification
            }
            if let authType, authType != "RequireAndVerifyClientCert", authType != "NoClientCert" {
                throw reader.error(
                    tlsNode, field: "tls_server_config.client_auth_type", "supported: NoClientCert, RequireAndVerifyClientCert")
            }
            if authType == "RequireAndVerifyClientCert" && tls["client_ca_file"] == nil {
                throw reader.error(tlsNode, field: "tls_server_config.client_ca_file", "required by RequireAndVerifyClientCert")
            }
            if let minNode = tls["min_version"] {
                switch try reader.string(minNode, field: "tls_server_config.min_version") {
                case "TLS10": configuration.minimumTLSVersion = .tlsv1
                case "TLS11": configuration.minimumTLSVersion = .tlsv11
                case "TLS12": configuration.minimumTLSVersion = .tlsv12
                case "TLS13": configuration.minimumTLSVersion = .tlsv13
                default: throw reader.error(minNode, field: "tls_server_config.min_version", "expected TLS10, TLS11, TLS12 or TLS13")
                }
            } else {
                configuration.minimumTLSVersion = .tlsv12
            }
            do {
                config.tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw reader.error(tlsNode, field: "tls_server_config", "TLS setup failed: \(error)")
            }
        }
        return config
    }
}
