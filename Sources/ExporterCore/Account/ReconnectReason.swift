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

/// The `code` label of `binance_futures_poll_errors_total`: a closed set, so the label values
/// are stated here once and a caller cannot misspell one.
public enum PollErrorCode: Sendable, Hashable {
    /// Binance answered with this error code.
    case binance(Int)
    case transport
    case timeout
    case decode

    /// The label value: the Binance code in decimal (`-1021`), or the case's name.
    public var label: String {
        switch self {
        case .binance(let code): String(code)
        case .transport: "transport"
        case .timeout: "timeout"
        case .decode: "decode"
        }
    }
}

extension BinanceClientError {
    /// What a failed poll is counted as.
    var errorCode: PollErrorCode {
        switch self {
        case .api(let error): .binance(error.code)
        case .handshakeRejected(let status, _): status == 418 || status == 429 ? .binance(APIError.tooManyRequestsCode) : .transport
        // Configuration problems are reported with transport failures: the documented label set.
        case .transport, .configuration, .connectionClosed, .cancelled: .transport
        case .timeout: .timeout
        case .decode: .decode
        }
    }

    /// `errorCode`'s label.
    var errorCodeLabel: String { errorCode.label }
}
