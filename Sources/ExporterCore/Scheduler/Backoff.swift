/// Exponential reconnect backoff with ±20 % jitter (1 s → 60 s), so a flapping network cannot
/// burn the IP's weight budget with handshakes. The random source is injectable for tests.
public struct Backoff: Sendable {
    public var initial: Double = 1
    public var maximum: Double = 60
    public var jitter: Double = 0.2
    public private(set) var failures = 0

    public init(initial: Double = 1, maximum: Double = 60, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// Records a failure and returns the delay before the next attempt.
    public mutating func nextDelay(random: @Sendable () -> Double) -> Double {
        let base = min(maximum, initial * Double(1 << min(failures, 30)))
        failures += 1
        let spread = base * jitter * (2 * random() - 1)
        return max(0, min(maximum * (1 + jitter), base + spread))
    }

    public mutating func reset() { failures = 0 }
}
