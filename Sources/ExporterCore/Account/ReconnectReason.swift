import BinanceWebSocketAPI

/// Why an account's connection was (re)opened: the `reason` label of
/// `binance_futures_websocket_reconnects_total`. The label values are stated here, in the
/// layer that owns Prometheus names, and nowhere else.
public enum ReconnectReason: String, Sendable, Equatable, CaseIterable {
    case maxAge = "max_age"
    case serverShutdown = "server_shutdown"
    case closeFrame = "close_frame"
    case missedPong = "missed_pong"
    case clientClose = "client_close"
    case connectionLost = "connection_lost"
    case error

    init(_ close: CloseReason) {
        switch close {
        case .closeFrame: self = .closeFrame
        case .missedPong: self = .missedPong
        case .closedByClient: self = .clientClose
        case .connectionLost, .transportError, .sendFailed: self = .connectionLost
        }
    }
}

extension BinanceClientError {
    /// The `code` label of `binance_futures_poll_errors_total`: the Binance error code, or
    /// `transport`, `timeout`, `decode`.
    var errorCodeLabel: String {
        switch self {
        case .api(let error): String(error.code)
        case .handshakeRejected(let status, _): status == 418 || status == 429 ? "-1003" : "transport"
        // Configuration problems are reported with transport failures: the documented label set.
        case .transport, .configuration, .connectionClosed, .cancelled: "transport"
        case .timeout: "timeout"
        case .decode: "decode"
        }
    }
}
