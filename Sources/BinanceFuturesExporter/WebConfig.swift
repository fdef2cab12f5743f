import ExporterCore
import Foundation
import NIOSSL
import Yams

/// The exporter-toolkit web config file: `tls_server_config`, `http_server_config` and
/// `basic_auth_users`. Every setting is either honoured or refused with a one-line
/// `file:line: field` error: a TLS restriction that is accepted and dropped would let the operator
/// believe something untrue about their endpoint.
struct WebConfig {
    var tls: NIOSSLContext?
    var users: BasicAuthUsers = [:]
    var headers: [(name: String, value: String)] = []
    var warnings: [String] = []

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
        if let http = top["http_server_config"] {
            config.headers = try HTTPServerSettings.parse(http, reader: reader)
        }
        if let tlsNode = top["tls_server_config"] {
            let (context, warnings) = try TLSServerSettings.parse(tlsNode, reader: reader, path: path)
            config.tls = context
            config.warnings += warnings
        }
        return config
    }
}

/// `http_server_config`: `headers` are added to every response; HTTP/2 is not served.
enum HTTPServerSettings {
    /// The headers exporter-toolkit allows, with the values it allows (nil: any value).
    static let allowedHeaders: [String: [String]?] = [
        "Strict-Transport-Security": nil,
        "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["deny", "sameorigin"],
        "X-XSS-Protection": nil,
        "Content-Security-Policy": nil,
    ]

    static func parse(_ node: Node, reader: NodeReader) throws -> [(name: String, value: String)] {
        let http = try reader.mapping(node, field: "http_server_config", allowed: ["http2", "headers"])
        if let http2 = http["http2"], try reader.bool(http2, field: "http_server_config.http2") {
            throw reader.error(http2, field: "http_server_config.http2", "HTTP/2 is not served (HTTP/1.1 only); set false or remove")
        }
        guard let headersNode = http["headers"] else { return [] }
        guard case .mapping(let mapping) = headersNode else {
            throw reader.error(headersNode, field: "http_server_config.headers", "expected a mapping")
        }
        var headers: [(name: String, value: String)] = []
        for (key, valueNode) in mapping {
            let name = key.string ?? ""
            let field = "http_server_config.headers.\(name)"
            guard let allowed = allowedHeaders[name] else {
                throw reader.error(
                    key, field: field, "not an allowed header (\(allowedHeaders.keys.sorted().joined(separator: ", ")))")
            }
            let value = try reader.string(valueNode, field: field)
            guard !value.isEmpty, !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw reader.error(valueNode, field: field, "expected a non-empty single-line value")
            }
            if let allowed, !allowed.contains(value.lowercased()) {
                throw reader.error(valueNode, field: field, "expected one of: \(allowed.joined(separator: ", "))")
            }
            headers.append((name, value))
        }
        return headers.sorted { $0.name < $1.name }
    }
}

/// `tls_server_config` with exporter-toolkit's names and meanings, mapped onto NIOSSL.
enum TLSServerSettings {
    static let versionNames = ["TLS10", "TLS11", "TLS12", "TLS13"]
    static let versions: [String: TLSVersion] = ["TLS10": .tlsv1, "TLS11": .tlsv11, "TLS12": .tlsv12, "TLS13": .tlsv13]
    static let curves: [String: NIOTLSCurve] = [
        "CurveP256": .secp256r1, "CurveP384": .secp384r1, "CurveP521": .secp521r1, "X25519": .x25519,
        "X25519MLKEM768": .x25519_MLKEM768,
    ]
    /// Go's names (crypto/tls) of the TLS 1.2 suites BoringSSL implements. TLS 1.3 suites are not
    /// configurable, in Go as in BoringSSL.
    static let cipherSuites: [String: NIOTLSCipher] = [
        "TLS_RSA_WITH_AES_128_CBC_SHA": .TLS_RSA_WITH_AES_128_CBC_SHA,
        "TLS_RSA_WITH_AES_256_CBC_SHA": .TLS_RSA_WITH_AES_256_CBC_SHA,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": .TLS_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": .TLS_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    static func parse(_ tlsNode: Node, reader: NodeReader, path: String) throws -> (NIOSSLContext, [String]) {
        var warnings: [String] = []
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

        // Client certificates, with exporter-toolkit's meanings.
        let authNode = tls["client_auth_type"]
        let authType = try authNode.map { try reader.string($0, field: "tls_server_config.client_auth_type") }
        var caFile: String?
        if let caNode = tls["client_ca_file"] {
            let file = try reader.string(caNode, field: "tls_server_config.client_ca_file")
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw reader.error(caNode, field: "tls_server_config.client_ca_file", "cannot read \(file)")
            }
            caFile = file
        }
        let requireCA = { (mode: String) throws in
            if caFile == nil {
                throw reader.error(authNode ?? tlsNode, field: "tls_server_config.client_ca_file", "required by \(mode)")
            }
        }
        switch authType {
        case nil where caFile != nil:
            // This exporter's first release verified client certificates whenever a CA was given;
            // kept so existing configs stay as strict as they were (exporter-toolkit refuses it).
            configuration.certificateVerification = .noHostnameVerification
            warnings.append(
                "\(path): tls_server_config.client_auth_type is not set; with client_ca_file this means RequireAndVerifyClientCert (set it explicitly)"
            )
        case nil, "NoClientCert":
            configuration.certificateVerification = .none
            if caFile != nil {
                warnings.append(
                    "\(path): tls_server_config.client_ca_file is ignored: client_auth_type NoClientCert asks for no client certificate")
                caFile = nil
            }
        case "VerifyClientCertIfGiven":
            try requireCA("VerifyClientCertIfGiven")
            configuration.certificateVerification = .optionalVerification
        case "RequireAndVerifyClientCert":
            try requireCA("RequireAndVerifyClientCert")
            configuration.certificateVerification = .noHostnameVerification
        case "RequestClientCert", "RequireAnyClientCert", "RequireClientCert":
            throw reader.error(
                authNode ?? tlsNode, field: "tls_server_config.client_auth_type",
                "\(authType ?? "") is not supported (NIOSSL cannot ask for a certificate without verifying it); use VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            )
        default:
            throw reader.error(
                authNode ?? tlsNode, field: "tls_server_config.client_auth_type",
                "expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert")
        }
        if let caFile { configuration.trustRoots = .file(caFile) }

        var minimum = "TLS12"
        if let minNode = tls["min_version"] { minimum = try version(minNode, "min_version", reader) }
        configuration.minimumTLSVersion = versions[minimum]!
        if let maxNode = tls["max_version"] {
            let maximum = try version(maxNode, "max_version", reader)
            guard versionNames.firstIndex(of: maximum)! >= versionNames.firstIndex(of: minimum)! else {
                throw reader.error(maxNode, field: "tls_server_config.max_version", "lower than min_version")
            }
            configuration.maximumTLSVersion = versions[maximum]!
        }
        if let suitesNode = tls["cipher_suites"] {
            let names = try list(suitesNode, "cipher_suites", reader)
            var suites: [NIOTLSCipher] = []
            for name in names {
                guard let suite = cipherSuites[name] else {
                    throw reader.error(
                        suitesNode, field: "tls_server_config.cipher_suites",
                        "\(name) is not a configurable TLS 1.2 suite (TLS 1.3 suites cannot be chosen; supported: \(cipherSuites.keys.sorted().joined(separator: ", ")))"
                    )
                }
                suites.append(suite)
            }
            configuration.cipherSuiteValues = suites
        }
        if let curvesNode = tls["curve_preferences"] {
            configuration.curves = try list(curvesNode, "curve_preferences", reader).map { name in
                guard let curve = curves[name] else {
                    throw reader.error(
                        curvesNode, field: "tls_server_config.curve_preferences",
                        "\(name) is not supported (expected \(curves.keys.sorted().joined(separator: ", ")))")
                }
                return curve
            }
        }
        if let preferNode = tls["prefer_server_cipher_suites"] {
            throw reader.error(
                preferNode, field: "tls_server_config.prefer_server_cipher_suites",
                "not supported: the TLS stack (NIOSSL) cannot set whose cipher order wins (Go ignores it too since 1.18); remove it")
        }
        do {
            return (try NIOSSLContext(configuration: configuration), warnings)
        } catch {
            throw reader.error(tlsNode, field: "tls_server_config", "TLS setup failed: \(error)")
        }
    }

    /// The version's name, validated.
    static func version(_ node: Node, _ field: String, _ reader: NodeReader) throws -> String {
        let name = try reader.string(node, field: "tls_server_config.\(field)")
        guard versions[name] != nil else {
            throw reader.error(node, field: "tls_server_config.\(field)", "expected TLS10, TLS11, TLS12 or TLS13")
        }
        return name
    }

    static func list(_ node: Node, _ field: String, _ reader: NodeReader) throws -> [String] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            throw reader.error(node, field: "tls_server_config.\(field)", "expected a non-empty list")
        }
        return try sequence.map { try reader.string($0, field: "tls_server_config.\(field)") }
    }
}
