/// A connection that reads its WebSocket transport with `TransportReader`.
protocol TransportReading: Actor {
    /// A text frame made ready for the connection; made off the actor (a parse of a large frame
    /// must not hold the connection while requests are sent).
    associatedtype Frame: Sendable
    nonisolated static func prepare(_ bytes: [UInt8]) -> Frame
    func receive(_ frame: Frame, size: Int) async
    /// A frame the protocol does not allow (binary).
    func receiveUnexpected(_ what: String) async
    /// The transport closed (or its events ended: `.connectionLost`).
    func transportClosed(_ reason: CloseReason) async
}

/// The one reader task every connection type shares: frames go to the connection in arrival
/// order, a close ends it, and the connection is held weakly, so one nobody uses can go away.
/// `beside` runs alongside the reading (the WebSocket API's deadline sweep) and ends with it.
enum TransportReader {
    private struct Weak<Connection: AnyObject>: @unchecked Sendable {
        weak var value: Connection?
    }

    static func start<Connection: TransportReading>(
        _ events: AsyncStream<TransportEvent>, for connection: Connection, beside: (@Sendable () async -> Void)? = nil
    ) -> Task<Void, Never> {
        let target = Weak(value: connection)
        return Task {
            await withDiscardingTaskGroup { group in
                if let beside { group.addTask { await beside() } }
                for await event in events {
                    switch event {
                    case .text(let bytes):
                        let frame = Connection.prepare(bytes)
                        await target.value?.receive(frame, size: bytes.count)
                    case .unexpectedFrame(let what):
                        await target.value?.receiveUnexpected(what)
                    case .closed(let reason):
                        await target.value?.transportClosed(reason)
                    }
                    if target.value == nil { break }
                }
                await target.value?.transportClosed(.connectionLost)
                group.cancelAll()
            }
        }
    }
}
