import Crypto
import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers

/// Checks `Authorization: Basic` against bcrypt hashes (exporter-toolkit semantics).
///
/// bcrypt is deliberately slow, so a verified (user, password) pair is remembered by its
/// SHA-256 for the life of the process. Unknown users are checked against a dummy hash, so the
/// failure path costs the same whether or not the user exists.
public final class BasicAuthenticator: Sendable {
    private let users: BasicAuthUsers
    private let verified = NIOLockedValueBox<Set<String>>([])
    private static let dummyHash = Bcrypt.hash("binance-futures-exporter-dummy", cost: 10)

    public init(users: BasicAuthUsers) { self.users = users }

    public var isEnabled: Bool { !users.isEmpty }

    private struct Credentials {
        let user: String
        let password: String
        var digest: String {
            SHA256.hash(data: Data((user + "\u{0}" + password).utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }

    private static func parse(_ authorization: String?) -> Credentials? {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return nil }
        return Credentials(user: String(pair[..<colon]), password: String(pair[pair.index(after: colon)...]))
    }

    /// The answer when it is known without bcrypt (auth disabled, or a remembered success); nil otherwise.
    public func fastPath(authorization: String?) -> Bool? {
        guard isEnabled else { return true }
        guard let credentials = Self.parse(authorization) else { return nil }
        return verified.withLockedValue { $0.contains(credentials.digest) } ? true : nil
    }

    /// Full check. Blocking (bcrypt): call it off the event loop.
    public func check(authorization: String?) -> Bool {
        if let known = fastPath(authorization: authorization) { return known }
        guard let credentials = Self.parse(authorization) else {
            _ = Bcrypt.verify("invalid", hash: Self.dummyHash)
            return false
        }
        let known = users[credentials.user]
        let matches = Bcrypt.verify(credentials.password, hash: known ?? Self.dummyHash)
        guard matches, known != nil else { return false }
        let digest = credentials.digest
        verified.withLockedValue { _ = $0.insert(digest) }
        return true
    }
}
