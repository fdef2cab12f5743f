import BinanceSimulator
import BinanceWebSocketAPI
import Foundation
import Testing

@testable import ExporterCore

/// Per-account fragments assembled must equal a full render of the same state.
@Suite struct AssemblyTests {
    static func data(hedge: Bool) throws -> AccountData {
        let simulator = ExchangeSimulator()
        simulator.addAccount(
            SimulatedAccount(
                apiKey: "K", key: .hmac(secret: "s"), multiAssetsMargin: hedge, hedgeMode: hedge, wallets: ["USDT": 100, "BTC": 0.1],
                positions: [SimulatedPosition(symbol: "BTCUSDT", side: hedge ? "LONG" : "BOTH", amount: 1, entryPrice: 60_000)]))
        guard
            case .response(let status) = try InboundMessage.decode(
                frame: Array(simulator.responseFrame(apiKey: "K", method: "account.status")!.utf8)),
            case .response(let positions) = try InboundMessage.decode(
                frame: Array(simulator.responseFrame(apiKey: "K", method: "v2/account.position")!.utf8))
        else { throw CocoaError(.coderReadCorrupt) }
        return AccountData(
            status: try ResultDecoder.accountStatus(status.result!, version: .v1),
            positionDetails: try ResultDecoder.positions(positions.result!),
            polledAt: 0)
    }

    @Test func readinessNeedsAccountsThatAllPolledOnce() async {
        let registry = MetricsRegistry(build: BuildInfo(version: "v", revision: "r"), includeProcessMetrics: false)
        await registry.renderNow()
        #expect(!registry.cache.isReady, "no accounts known yet: not ready")
        await registry.register(account: "a", pollIntervalSeconds: 15)
        await registry.register(account: "b", pollIntervalSeconds: 15)
        await registry.apply(account: "a", .skipped)
        await registry.renderNow()
        #expect(!registry.cache.isReady)
        await registry.apply(account: "b", .skipped)
        await registry.renderNow()
        #expect(registry.cache.isReady)
    }

    @Test func assembledBodyEqualsFullRender() async throws {
        let registry = MetricsRegistry(build: BuildInfo(version: "v", revision: "r"), includeProcessMetrics: false, now: { 100 })
        // Names chosen so that naive string order and byte order or prefix handling could differ.
        for (index, name) in ["b", "a-b", "a", "A", "a_b", "ab"].enumerated() {
            await registry.register(account: name, pollIntervalSeconds: 15)
            let data = try Self.data(hedge: index % 2 == 0)
            await registry.apply(
                account: name,
                [
                    .succeeded(data, at: 99, duration: 0.1), .error(code: "-1021"), .error(code: "-1021"),
                    .failed(code: "timeout", duration: 0.2), .succeeded(data, at: 99, duration: 0.1),
                ])
        }
        await registry.renderNow()
        let families = await registry.families()
        #expect(
            String(buffer: registry.cache.body(format: .text, gzip: false).buffer)
                == String(decoding: ExpositionEncoder.render(families, format: .text), as: UTF8.self))
        #expect(
            String(buffer: registry.cache.body(format: .openMetrics, gzip: false).buffer)
                == String(decoding: ExpositionEncoder.render(families, format: .openMetrics), as: UTF8.self))
        // Only the changed account is re-rendered, and the result still matches.
        await registry.apply(account: "a", .spent(10))
        await registry.renderNow()
        let after = await registry.families()
        #expect(
            String(buffer: registry.cache.body(format: .text, gzip: false).buffer)
                == String(decoding: ExpositionEncoder.render(after, format: .text), as: UTF8.self))
        let gzip = registry.cache.body(format: .text, gzip: true)
        #expect(gzip.gzipped)
        #expect(try Gzip.decompress(Array(gzip.buffer.readableBytesView)) == ExpositionEncoder.render(after, format: .text))
    }
}
