/// Requests in flight on one connection, by id: the method, the deadline, and either the
/// waiting caller or — when the answer came before the caller started waiting — the outcome.
/// A value owned by the connection actor; every transition is a plain function.
struct PendingRequests {
    typealias Outcome = Result<ResponseEnvelope, BinanceClientError>

    private struct Entry {
        let method: String
        let deadline: ContinuousClock.Instant
        var waiter: CheckedContinuation<ResponseEnvelope, any Error>?
        var outcome: Outcome?
    }

    private var entries: [String: Entry] = [:]

    mutating func add(id: String, method: String, deadline: ContinuousClock.Instant) {
        entries[id] = Entry(method: method, deadline: deadline)
    }

    /// The caller starts waiting: resumes at once if the outcome is already known.
    mutating func wait(id: String, _ waiter: CheckedContinuation<ResponseEnvelope, any Error>) {
        guard var entry = entries[id] else {
            waiter.resume(throwing: BinanceClientError.cancelled)
            return
        }
        if let outcome = entry.outcome {
            entries.removeValue(forKey: id)
            waiter.resume(with: outcome.mapError { $0 as any Error })
        } else {
            entry.waiter = waiter
            entries[id] = entry
        }
    }

    /// Settles request `id` (once; later outcomes for it are ignored). Returns its method.
    @discardableResult
    mutating func finish(id: String, _ outcome: Outcome) -> String? {
        guard var entry = entries[id], entry.outcome == nil else { return nil }
        if let waiter = entry.waiter {
            entries.removeValue(forKey: id)
            waiter.resume(with: outcome.mapError { $0 as any Error })
        } else {
            entry.outcome = outcome
            entries[id] = entry
        }
        return entry.method
    }

    /// Ids still waiting for an answer.
    var unanswered: [(id: String, method: String)] {
        entries.filter { $0.value.outcome == nil }.map { ($0.key, $0.value.method) }
    }

    /// Fails every request past its deadline with `.timeout`; returns the earliest deadline left.
    mutating func expire(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        for (id, entry) in entries where entry.outcome == nil && entry.deadline <= now {
            finish(id: id, .failure(.timeout(method: entry.method)))
        }
        return entries.values.filter { $0.outcome == nil }.map(\.deadline).min()
    }

    /// Settles everything unanswered with the same outcome (a closed connection, a session error).
    mutating func finishAll(_ outcome: Outcome) {
        for (id, _) in unanswered { finish(id: id, outcome) }
    }
}
