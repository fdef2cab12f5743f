import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a connected socket says about the options that broke non-root deployments: `SO_DEBUG`
/// (privileged; set by mistake when `TCP_NODELAY`'s number was used at `SOL_SOCKET` level) and
/// `TCP_NODELAY` itself. Read back from the kernel, so a wrong level shows whoever runs the test.
public struct SocketOptionReading: Sendable, Equatable {
    public var soDebug: Int
    public var tcpNoDelay: Int
}

public func readSocketOptions(of channel: any Channel) async throws -> SocketOptionReading {
    let debug = ChannelOptions.Types.SocketOption(level: .init(rawValue: SOL_SOCKET), name: .init(rawValue: SO_DEBUG))
    let soDebug = try await channel.getOption(debug).get()
    let tcpNoDelay = try await channel.getOption(.tcpOption(.tcp_nodelay)).get()
    return SocketOptionReading(soDebug: soDebug, tcpNoDelay: tcpNoDelay)
}
