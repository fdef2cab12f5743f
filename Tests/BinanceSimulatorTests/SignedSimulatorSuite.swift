import Crypto
import Foundation
import TestSupport
import Testing

@testable import BinanceSimulator

/// What the simulator suites that act as a client share: each suite signs with its own secret,
/// so the signing, the signed REST request, the WebSocket API request against the live state
/// and the JSON readers are written once here and cannot drift apart between suites.
protocol SignedSimulatorSuite {
    /// The HMAC secret of the suite's accounts.
    static var secret: String { get }
}

extension SignedSimulatorSuite {
    /// The hex HMAC-SHA256 of `payload`, as a client signs a request.
    static func sign(_ payload: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// A signed REST request through a real socket, as a REST client sends it: `query` with the
    /// `timestamp`, then the signature.
    static func signedRequest(
        port: Int, _ path: String, _ query: String, timestamp: Int64, apiKey: String, method: String = "GET"
    ) async throws -> HTTPResponse {
        let payload = (query.isEmpty ? "" : query + "&") + "timestamp=\(timestamp)"
        return try await RawHTTPClient.get(
            port: port, path: "\(path)?\(payload)&signature=\(sign(payload))", headers: ["X-MBX-APIKEY": apiKey], method: method)
    }

    /// A WebSocket API request answered against `simulator`'s live state, without a socket; its
    /// first frame as an object.
    static func answer(
        _ simulator: ExchangeSimulator, method: String, params: [String: Any], venue: SimulatedVenue, now: Int64
    ) throws -> [String: Any] {
        let text = String(
            decoding: try JSONSerialization.data(withJSONObject: ["id": "t", "method": method, "params": params]), as: UTF8.self)
        var session = SessionState(loggedOnKey: nil, connectedSince: 0, venue: venue)
        let outcome = simulator.state.withLockedValue { state in
            simulator.rules.handle(text: text, session: &session, state: &state, now: now)
        }
        return try object(outcome.frames[0])
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func array(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// A decimal string as a number; NaN for anything else, so that a comparison fails.
    static func number(_ value: Any?) -> Double { Double(value as? String ?? "nan") ?? .nan }
}
