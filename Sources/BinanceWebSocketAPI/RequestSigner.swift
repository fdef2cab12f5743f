import Crypto
import Foundation
import _CryptoExtras

/// The three key types Binance accepts for signed requests.
public enum KeyType: String, Sendable, CaseIterable {
    case hmac = "HMAC"
    case ed25519 = "Ed25519"
    case rsa = "RSA"

    /// Only Ed25519 keys may authenticate a whole connection with `session.logon`.
    public var supportsSessionLogon: Bool { self == .ed25519 }
}

/// Why key material could not be loaded. Never carries key bytes.
public enum KeyLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptySecret
    case notPEM
    case unsupportedKey(String)
    case malformedKey(String)

    public var description: String {
        switch self {
        case .emptySecret: "the HMAC secret is empty"
        case .notPEM: "not a PEM file (expected -----BEGIN PRIVATE KEY-----)"
        case .unsupportedKey(let what): "unsupported private key: \(what)"
        case .malformedKey(let what): "malformed private key: \(what)"
        }
    }
}

/// Signs Binance request payloads. Holds the secret; its `description` and `debugDescription`
/// never show it, so a signer can be logged or interpolated into an error safely.
public struct RequestSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    enum Key: @unchecked Sendable {
        case hmac(SymmetricKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let key: Key

    public var keyType: KeyType {
        switch key {
        case .hmac: .hmac
        case .ed25519: .ed25519
        case .rsa: .rsa
        }
    }

    public static func hmac(secret: String) throws(KeyLoadError) -> RequestSigner {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .emptySecret }
        return RequestSigner(key: .hmac(SymmetricKey(data: Array(trimmed.utf8))))
    }

    /// Loads a PKCS#8 PEM private key and detects whether it is Ed25519 or RSA.
    public static func privateKey(pem: String) throws(KeyLoadError) -> RequestSigner {
        guard let der = PEM.decodePrivateKey(pem) else { throw .notPEM }
        if let seed = PEM.ed25519Seed(fromPKCS8: der) {
            do {
                return RequestSigner(key: .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed)))
            } catch {
                throw .malformedKey("Ed25519 seed rejected")
            }
        }
        if PEM.isRSA(der) || pem.contains("BEGIN RSA PRIVATE KEY") {
            do {
                let key = try _RSA.Signing.PrivateKey(derRepresentation: der)
                return RequestSigner(key: .rsa(key))
            } catch {
                throw .malformedKey("RSA key could not be parsed")
            }
        }
        throw .unsupportedKey("only Ed25519 and RSA PKCS#8 keys are supported")
    }

    /// Whether `other` holds the same key material (compared in constant time where it is a
    /// secret). A reload restarts an account whose key file changed even when the API key id and
    /// key type stayed the same; nothing secret has to be kept outside the signer to tell.
    public func usesSameKey(as other: RequestSigner) -> Bool {
        switch (key, other.key) {
        case (.hmac(let a), .hmac(let b)): a == b
        case (.ed25519(let a), .ed25519(let b)): a.publicKey.rawRepresentation == b.publicKey.rawRepresentation
        case (.rsa(let a), .rsa(let b)): a.publicKey.derRepresentation == b.publicKey.derRepresentation
        default: false
        }
    }

    /// Signs the UTF-8 bytes of `payload`: lowercase hex for HMAC-SHA256, base64 for
    /// Ed25519 and RSA PKCS#1 v1.5 / SHA-256.
    public func sign(_ payload: String) throws -> String {
        let message = Array(payload.utf8)
        switch key {
        case .hmac(let secret):
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: secret)
            return Hex.lowercase(Array(mac))
        case .ed25519(let privateKey):
            return Data(try privateKey.signature(for: message)).base64EncodedString()
        case .rsa(let privateKey):
            let signature = try privateKey.signature(for: message, padding: .insecurePKCS1v1_5)
            return signature.rawRepresentation.base64EncodedString()
        }
    }

    public var description: String { "RequestSigner(\(keyType.rawValue), secret redacted)" }
    public var debugDescription: String { description }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func lowercase(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

enum PEM {
    /// The body of the first `PRIVATE KEY` block, base64-decoded.
    static func decodePrivateKey(_ pem: String) -> [UInt8]? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN") && $0.contains("PRIVATE KEY") }),
            let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END") })
        else { return nil }
        let body = lines[(begin + 1)..<end].joined()
        guard let data = Data(base64Encoded: body), !data.isEmpty else { return nil }
        return Array(data)
    }

    /// PKCS#8 for Ed25519 is a fixed 48-byte structure: the OID 1.3.101.112 and an OCTET STRING
    /// wrapping the 32-byte seed.
    static func ed25519Seed(fromPKCS8 der: [UInt8]) -> [UInt8]? {
        let prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        guard der.count == 48, Array(der.prefix(16)) == prefix else { return nil }
        return Array(der.suffix(32))
    }

    /// rsaEncryption OID 1.2.840.113549.1.1.1 appears in PKCS#8 RSA keys.
    static func isRSA(_ der: [UInt8]) -> Bool {
        let oid: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
        guard der.count > oid.count else { return false }
        for start in 0...(min(der.count, 64) - oid.count) where Array(der[start..<(start + oid.count)]) == oid {
            return true
        }
        return false
    }
}

/// An API key plus the signer for its secret. The key id itself is not secret but is shown only
/// by its first 8 characters, as Binance's own guidance suggests.
public struct APICredentials: Sendable, CustomStringConvertible {
    public let apiKey: String
    public let signer: RequestSigner

    public init(apiKey: String, signer: RequestSigner) {
        self.apiKey = apiKey
        self.signer = signer
    }

    public var redactedAPIKey: String { String(apiKey.prefix(8)) + "…" }
    public var description: String { "APICredentials(apiKey: \(redactedAPIKey), \(signer))" }
}
