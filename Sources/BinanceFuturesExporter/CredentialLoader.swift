import BinanceWebSocketAPI
import Foundation

/// Reads API keys and secrets from files and environment variables, and checks permissions.
/// Errors name the account and the field, never the content.
struct CredentialLoader {
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Collected warnings (secret files readable by group/others).
    private(set) var warnings: [String] = []

    mutating func load(_ entry: AccountEntry, file: String?) throws -> APICredentials {
        let field = "accounts[\(entry.name)]"
        guard let apiKeySource = entry.apiKey else {
            throw ConfigError(file: file, line: entry.line, field: "\(field).api_key", problem: "missing")
        }
        let apiKey = try read(apiKeySource, field: "\(field).api_key", file: file, line: entry.line, secret: false)
        guard !apiKey.isEmpty, apiKey.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ConfigError(file: file, line: entry.line, field: "\(field).api_key", problem: "empty or contains whitespace")
        }
        let signer: RequestSigner
        if let secret = entry.secret {
            let text = try read(secret, field: "\(field).secret", file: file, line: entry.line, secret: true)
            do {
                signer = try RequestSigner.hmac(secret: text)
            } catch {
                throw ConfigError(file: file, line: entry.line, field: "\(field).secret", problem: "\(error)")
            }
        } else {
            let source: SecretSource =
                entry.privateKeyFile.map { .file($0) } ?? entry.privateKeyEnv.map { .environment($0) } ?? .inline("")
            let pem = try read(source, field: "\(field).private_key_file", file: file, line: entry.line, secret: true)
            do {
                signer = try RequestSigner.privateKey(pem: pem)
            } catch {
                throw ConfigError(file: file, line: entry.line, field: "\(field).private_key_file", problem: "\(error)")
            }
        }
        return APICredentials(apiKey: apiKey, signer: signer)
    }

    private mutating func read(_ source: SecretSource, field: String, file: String?, line: Int?, secret: Bool) throws -> String {
        switch source {
        case .inline(let value):
            if secret && !value.isEmpty {
                warnings.append("\(field): secret written inline in the config file; prefer a *_file or *_env setting")
            }
            return value.trimmingCharacters(in: .whitespacesAndNewlines)
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigError(file: file, line: line, field: field, problem: "environment variable \(name) is not set or empty")
            }
            return value.trimmingCharacters(in: .whitespacesAndNewlines)
        case .file(let path):
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ConfigError(file: file, line: line, field: field, problem: "cannot read \(path): \(Self.reason(error))")
            }
            // The file's own mode, not a symlink's (always 777): Kubernetes mounts a Secret's
            // keys as symlinks into a hidden directory.
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if secret, let attributes = try? FileManager.default.attributesOfItem(atPath: target),
                let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0
            {
                warnings.append(
                    "\(field): \(path) is readable by group or others (mode \(String(mode.intValue & 0o777, radix: 8))); run chmod 600")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: file, line: line, field: field, problem: "\(path) is not UTF-8 text")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        return "unreadable"
    }
}
