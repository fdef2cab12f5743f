import BinanceWebSocketAPI

/// The life of one account's WebSocket API connection, as a value: a state and pure
/// transitions that say what to do next. The poller performs the actions (connect, rotate,
/// poll); unit tests drive the transitions without sockets or clocks. Times are local
/// milliseconds from the poller's injected clock.
struct ConnectionLifecycle: Sendable, Equatable {
    enum State: Sendable, Equatable {
        /// No connection. The next connect is counted as a reconnect for `reason` (nil: the
        /// first connect) and may not start before `retryAt` (backoff).
        case disconnected(reason: ReconnectReason?, retryAt: Int64)
        /// Open since `openedAt`. A pending `rotation` replaces it make-before-break: the old
        /// connection serves until the new one is ready.
        case connected(openedAt: Int64, rotation: ReconnectReason?)
        /// Binance rejected the key. Nothing more happens until a reload restarts the account.
        case stopped
    }

    /// What the poller must do before polling.
    enum Action: Sendable, Equatable {
        case useConnection
        case connect(reason: ReconnectReason?)
        case rotate(reason: ReconnectReason)
        case skip(PollSkip)
        case stop
    }

    private(set) var state: State = .disconnected(reason: nil, retryAt: 0)
    /// Binance closes connections after 24 h; rotate before.
    let maxAgeMilliseconds: Int64

    init(maxAgeSeconds: Double) { maxAgeMilliseconds = Int64(maxAgeSeconds * 1000) }

    /// A poll is due at `now`.
    mutating func pollDue(now: Int64) -> Action {
        switch state {
        case .stopped:
            return .stop
        case .disconnected(let reason, let retryAt):
            return now < retryAt ? .skip(.backoff) : .connect(reason: reason)
        case .connected(let openedAt, let rotation):
            if let rotation { return .rotate(reason: rotation) }
            guard now - openedAt <= maxAgeMilliseconds else {
                state = .connected(openedAt: openedAt, rotation: .maxAge)
                return .rotate(reason: .maxAge)
            }
            return .useConnection
        }
    }

    /// A connection is ready (first, reconnect, or a rotation's replacement).
    mutating func opened(now: Int64) {
        guard state != .stopped else { return }
        state = .connected(openedAt: now, rotation: nil)
    }

    /// Opening failed. Without a connection, wait until `retryAt`; with one (a failed
    /// rotation), keep it and try the rotation again at the next poll.
    mutating func openFailed(retryAt: Int64) {
        if case .disconnected(let reason, _) = state { state = .disconnected(reason: reason, retryAt: retryAt) }
    }

    /// Binance announced the end of the connection. Returns whether to rotate right away.
    mutating func serverShutdown() -> Bool {
        guard case .connected(let openedAt, _) = state else { return false }
        state = .connected(openedAt: openedAt, rotation: .serverShutdown)
        return true
    }

    /// The current connection closed under us: reconnect at the next poll, no backoff (the
    /// close said why; a refused connect brings the backoff).
    mutating func closed(_ reason: CloseReason) {
        guard case .connected = state else { return }
        state = .disconnected(reason: ReconnectReason(reason), retryAt: 0)
    }

    /// A request failed in a way that makes the connection suspect (timeout, transport) and the
    /// poller dropped it: reconnect no earlier than `retryAt`. A reason already known (the close
    /// that failed the request) is kept; otherwise the reconnect is counted as `error`.
    mutating func requestFailed(retryAt: Int64) {
        switch state {
        case .stopped: return
        case .disconnected(let reason, _): state = .disconnected(reason: reason ?? .error, retryAt: retryAt)
        case .connected: state = .disconnected(reason: .error, retryAt: retryAt)
        }
    }

    /// Binance rejected the key.
    mutating func credentialsRejected() { state = .stopped }

    var isStopped: Bool { state == .stopped }
    var isConnected: Bool { if case .connected = state { true } else { false } }
}

/// Why a due poll was not attempted. Not an error: nothing was sent.
enum PollSkip: Sendable, Equatable, CustomStringConvertible {
    /// The weight scheduler said no (own share, IP headroom, retry-after, ban).
    case deferred(DeferralReason)
    /// Waiting out the reconnect backoff.
    case backoff

    var description: String {
        switch self {
        case .deferred(let reason): "deferred (\(reason.rawValue))"
        case .backoff: "reconnect backoff"
        }
    }
}
