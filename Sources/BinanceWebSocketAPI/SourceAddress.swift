import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--binance.source-address`: the local address every connection to Binance leaves from.
public enum SourceAddress {
    /// `bootstrap`, bound to `address` (port 0: any) when one is given.
    static func bootstrap(_ bootstrap: ClientBootstrap, from address: String?) throws -> ClientBootstrap {
        guard let address else { return bootstrap }
        return bootstrap.bind(to: try SocketAddress(ipAddress: address, port: 0))
    }

    /// Nil when `address` is an IP address of this host; else why not. Checked once at start, by
    /// binding a socket to it: a typo or an address of another host is an error before anything
    /// connects, not a stream of failed connections.
    public static func problem(_ address: String) -> String? {
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address, port: 0)
        } catch {
            return "not an IP address: \(address)"
        }
        let family: Int32
        switch socketAddress {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: return "not an IP address: \(address)"
        }
        #if canImport(Glibc)
            let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(family, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return "cannot open a socket to check \(address)" }
        defer { close(descriptor) }
        let result = socketAddress.withSockAddr { pointer, size in bind(descriptor, pointer, socklen_t(size)) }
        guard result == 0 else {
            let reason = errno == EADDRNOTAVAIL ? "not an address of this host" : String(cString: strerror(errno))
            return "\(address): \(reason)"
        }
        return nil
    }
}
