#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which of the configured accounts this replica owns, kube-state-metrics style: every replica
/// reads the same config file, and an account belongs to shard `jumpHash(fnv1a(name), total)`.
/// Jump consistent hashing moves the fewest accounts when the shard count changes (from M to
/// M+1 shards about 1/(M+1) of them, and none between the shards that stay), and FNV-1a makes
/// the assignment the same in every process and on every platform (Swift's `Hasher` is seeded
/// per process).
struct ShardSelection: Sendable, Equatable {
    var shard: Int
    var total: Int

    static let single = ShardSelection(shard: 0, total: 1)

    /// `--shard N|auto` and `--total-shards M`. `auto` takes N from the trailing `-<ordinal>` of
    /// the host name, as a StatefulSet names its pods (`binance-futures-exporter-2`).
    static func resolve(shard text: String?, total: Int?, hostName: () -> String) throws -> ShardSelection {
        let total = total ?? 1
        guard total >= 1 else { throw ConfigError(file: nil, line: nil, field: "--total-shards", problem: "must be at least 1") }
        let shard: Int
        switch text {
        case nil:
            shard = 0
        case "auto":
            let name = hostName()
            guard let dash = name.lastIndex(of: "-"), let ordinal = Int(name[name.index(after: dash)...]), ordinal >= 0 else {
                throw ConfigError(
                    file: nil, line: nil, field: "--shard",
                    problem: "auto needs a host name ending in -<ordinal> (a StatefulSet pod's); got \"\(name)\"")
            }
            shard = ordinal
        case .some(let value):
            guard let number = Int(value), number >= 0 else {
                throw ConfigError(file: nil, line: nil, field: "--shard", problem: "must be a number from 0 or auto; got \"\(value)\"")
            }
            shard = number
        }
        guard shard < total else {
            throw ConfigError(
                file: nil, line: nil, field: "--shard",
                problem: "shard \(shard) does not exist with --total-shards \(total) (0…\(total - 1))")
        }
        return ShardSelection(shard: shard, total: total)
    }

    /// The host name (a StatefulSet pod's is its name), from the kernel.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func owns(_ account: String) -> Bool { Self.shard(of: account, total: total) == shard }

    static func shard(of account: String, total: Int) -> Int { jumpHash(fnv1a(account), buckets: total) }

    /// FNV-1a, 64 bits, of the UTF-8 bytes.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014).
    static func jumpHash(_ key: UInt64, buckets: Int) -> Int {
        var key = key
        var bucket: Int64 = -1
        var next: Int64 = 0
        while next < Int64(buckets) {
            bucket = next
            key = key &* 2_862_933_555_777_941_757 &+ 1
            next = Int64(Double(bucket + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(bucket)
    }
}
