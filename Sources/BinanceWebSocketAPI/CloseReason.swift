import NIOWebSocket

/// Why a connection ended. A closed set, stated where it is known (the frame handler), so the
/// owner can decide how to reconnect without reading text.
public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    /// The server sent a close frame (1001 going away, 1008 policy violation, …), code if any.
    case closeFrame(code: UInt16?)
    /// The server did not answer a keep-alive ping in time.
    case missedPong
    /// TCP ended without a close frame.
    case connectionLost
    /// A socket or TLS error ended it.
    case transportError(String)
    /// Writing a request failed.
    case sendFailed(String)
    /// We closed it.
    case closedByClient

    public var description: String {
        switch self {
        case .closeFrame(let code): "close frame \(code.map(String.init) ?? "without code")"
        case .missedPong: "missed pong"
        case .connectionLost: "connection lost"
        case .transportError(let error): "transport error: \(error)"
        case .sendFailed(let error): "send failed: \(error)"
        case .closedByClient: "closed by client"
        }
    }
}
