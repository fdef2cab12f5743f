import NIOCore

/// A lingering close, as nginx does it: an error often answers a request the client is still
/// sending (a body over the limit). Closing with its bytes unread makes the kernel send a reset,
/// which can destroy the answer before the client reads it. So end our side (the client reads
/// the answer, then end of stream), let what still arrives be discarded, and close when the
/// client does or after `time`. Where half-closing is not supported, close at once.
enum LingeringClose {
    /// How long an answered, failed request's connection may keep sending before it is closed.
    static let time = TimeAmount.seconds(2)

    static func start(_ channel: any Channel) {
        let halfClosed = channel.eventLoop.makePromise(of: Void.self)
        halfClosed.futureResult.whenComplete { result in
            switch result {
            case .success:
                channel.eventLoop.scheduleTask(in: time) { channel.close(promise: nil) }
            case .failure:
                channel.close(promise: nil)
            }
        }
        channel.close(mode: .output, promise: halfClosed)
    }
}
