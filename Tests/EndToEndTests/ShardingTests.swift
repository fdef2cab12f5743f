import Testing

@testable import BinanceFuturesExporter

/// Every replica reads the same accounts and keeps its shard's: the assignment must be stable
/// across processes, move few accounts when the shard count changes, and `auto` must read a
/// StatefulSet pod's ordinal.
@Suite struct ShardingTests {
    static let accounts = (0..<2000).map { "sub-account-\($0)" }

    @Test("every account has exactly one shard, and the shards are about even")
    func partition() {
        for total in [1, 2, 3, 7] {
            var sizes = [Int](repeating: 0, count: total)
            for account in Self.accounts {
                let owners = (0..<total).filter { ShardSelection(shard: $0, total: total).owns(account) }
                #expect(owners.count == 1)
                sizes[owners[0]] += 1
            }
            let even = Double(Self.accounts.count) / Double(total)
            #expect(sizes.allSatisfy { abs(Double($0) - even) < even * 0.15 }, "\(total) shards: \(sizes)")
        }
    }

    @Test("from M to M+1 shards about 1/(M+1) of the accounts move, all to the new shard")
    func fewMoves() {
        for total in [1, 2, 4, 9] {
            var moved = 0
            for account in Self.accounts {
                let before = ShardSelection.shard(of: account, total: total)
                let after = ShardSelection.shard(of: account, total: total + 1)
                if before != after {
                    moved += 1
                    #expect(after == total, "\(account) moved between shards that stay")
                }
            }
            let expected = Double(Self.accounts.count) / Double(total + 1)
            #expect(abs(Double(moved) - expected) < expected * 0.2, "\(total)→\(total + 1): \(moved) moved")
        }
    }

    @Test("the assignment is fixed: FNV-1a and jump hash give the same shard in every process")
    func stable() {
        #expect(ShardSelection.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(ShardSelection.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(ShardSelection.jumpHash(0, buckets: 1) == 0)
        // Known values of the reference implementation (Lamping and Veach) for key 256.
        #expect((1...10).map { ShardSelection.jumpHash(256, buckets: $0) } == (1...10).map { Self.referenceJump(256, $0) })
    }

    /// The paper's C++ code, transcribed with wrapping arithmetic, as an independent check.
    static func referenceJump(_ key: UInt64, _ buckets: Int32) -> Int {
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(1 << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }

    @Test("--shard auto takes the StatefulSet ordinal; bad values are clear errors")
    func resolve() throws {
        #expect(
            try ShardSelection.resolve(shard: "auto", total: 3, hostName: { "binance-futures-exporter-2" }) == .init(shard: 2, total: 3))
        #expect(try ShardSelection.resolve(shard: nil, total: nil, hostName: { "x" }) == .single)
        #expect(try ShardSelection.resolve(shard: "1", total: 2, hostName: { "x" }) == .init(shard: 1, total: 2))
        #expect(throws: ConfigError.self) { try ShardSelection.resolve(shard: "auto", total: 2, hostName: { "laptop" }) }
        #expect(throws: ConfigError.self) { try ShardSelection.resolve(shard: "auto", total: 2, hostName: { "exporter-5" }) }
        #expect(throws: ConfigError.self) { try ShardSelection.resolve(shard: "-1", total: 2, hostName: { "x" }) }
        #expect(throws: ConfigError.self) { try ShardSelection.resolve(shard: "0", total: 0, hostName: { "x" }) }
    }
}
