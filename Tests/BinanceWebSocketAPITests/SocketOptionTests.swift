import TestSupport
import Testing

@testable import BinanceWebSocketAPI

/// The exchange connection must be possible for an unprivileged process: `TCP_NODELAY` at TCP
/// level, never `SO_DEBUG` (the same number at `SOL_SOCKET` level, which only root may set — as
/// uid 10001 every connect failed with EACCES). Read back from the kernel, so root sees it too.
@Suite struct TransportSocketOptionTests {
    @Test func clientSocketSetsNoDelayAndNothingPrivileged() async throws {
        let harness = try await SimulatorHarness.start()
        let connection = try await harness.connect(.hmac)
        let reading = try await readSocketOptions(of: connection.transport.channel)
        #expect(reading.soDebug == 0, "SO_DEBUG needs CAP_NET_ADMIN: a non-root process cannot connect")
        #expect(reading.tcpNoDelay != 0)
        #expect(try await connection.accountStatus(.v2).value.assets.isEmpty == false)
        await connection.close()
        await harness.simulator.stop()
    }
}
