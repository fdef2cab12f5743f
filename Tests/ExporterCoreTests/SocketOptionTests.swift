import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import ExporterCore

/// Every accepted scrape connection must be usable by an unprivileged process: `TCP_NODELAY` at
/// the TCP level, and nothing privileged such as `SO_DEBUG` (what `TCP_NODELAY`'s number means at
/// `SOL_SOCKET` level). As root the wrong level silently sets `SO_DEBUG`; as uid 10001 it fails
/// every accept — this test reads the options back, so it fails for root and non-root alike.
@Suite struct ListenerSocketOptionTests {
    @Test func acceptedConnectionsSetNoDelayAndNothingPrivileged() async throws {
        let (listener, _, port) = try await HTTPListenerTests.start()
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        #expect(await eventually { !listener.shared.openChannels.isEmpty })
        for accepted in listener.shared.openChannels {
            let reading = try await readSocketOptions(of: accepted)
            #expect(reading.soDebug == 0, "SO_DEBUG needs CAP_NET_ADMIN: a non-root process cannot accept")
            #expect(reading.tcpNoDelay != 0, "scrape responses should not wait for Nagle")
        }
        try await client.close()
        await listener.close()
        // The whole path still answers.
        let (again, _, port2) = try await HTTPListenerTests.start()
        #expect(try await RawHTTPClient.get(port: port2, path: "/-/healthy").status == 200)
        await again.close()
    }
}
