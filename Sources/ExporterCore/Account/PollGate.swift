/// Lets one poll or rotation run at a time on an actor whose methods interleave at every
/// `await`, so a `serverShutdown` rotation cannot swap the connection under an in-flight poll.
/// Waiters queue in order and are resumed one by one: nothing spins.
struct PollGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Returns at once when free; otherwise the caller suspends on `waiter`.
    mutating func tryEnter() -> Bool {
        guard busy else {
            busy = true
            return true
        }
        return false
    }

    mutating func enqueue(_ waiter: CheckedContinuation<Void, Never>) { waiters.append(waiter) }

    /// Hands the gate to the next waiter, or frees it.
    mutating func leave() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
