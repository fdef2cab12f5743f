#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock milliseconds and sleeping on them, injectable so that clock skew and every timing
/// rule (cadence, reconcile phases, deferrals, backfill retries, key renewal) is testable in
/// memory: a test passes a clock it advances by hand, and five minutes of reconciles take
/// microseconds. Production passes `.system`, which sleeps on the real clock.
public struct WallClock: Sendable {
    public let nowMilliseconds: @Sendable () -> Int64
    private let sleeper: @Sendable (_ deadline: Int64) async throws -> Void

    /// A clock that tells `nowMilliseconds` and sleeps in real time for the difference between
    /// `now` and a deadline (tests that only skew the time keep real sleeps).
    public init(nowMilliseconds: @escaping @Sendable () -> Int64) {
        self.nowMilliseconds = nowMilliseconds
        self.sleeper = { deadline in
            let wait = deadline - nowMilliseconds()
            if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) } else { try Task.checkCancellation() }
        }
    }

    /// A clock whose sleeps are served by `sleepUntil` (a manual test clock resumes them when the
    /// test advances time). `sleepUntil` must throw `CancellationError` when its task is cancelled.
    public init(
        nowMilliseconds: @escaping @Sendable () -> Int64, sleepUntil: @escaping @Sendable (_ deadline: Int64) async throws -> Void
    ) {
        self.nowMilliseconds = nowMilliseconds
        self.sleeper = sleepUntil
    }

    /// Suspends until the clock reads `deadline` (ms); throws `CancellationError` when cancelled.
    public func sleep(untilMilliseconds deadline: Int64) async throws { try await sleeper(deadline) }

    /// Suspends for `duration` of this clock's time; throws `CancellationError` when cancelled.
    public func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        try await sleeper(nowMilliseconds() + seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    public static let system = WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
