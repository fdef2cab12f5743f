import BinanceWebSocketAPI
import NIOConcurrencyHelpers

/// A clock that stands still until the test moves it: code under test sleeps on its
/// `wallClock`, and `advance(by:)` wakes every sleeper whose deadline passes, in deadline order,
/// letting each woken task run before the next deadline. Five minutes of reconciles take
/// microseconds, and nothing depends on how loaded the machine is.
public final class ManualClock: Sendable {
    private struct Sleeper {
        let id: UInt64
        let deadline: Int64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Int64
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// Sleeps cancelled before they registered.
        var cancelled: Set<UInt64> = []
    }

    private let state: NIOLockedValueBox<State>
    /// What must be idle before time moves on (see `track`).
    private let idleChecks = NIOLockedValueBox<[@Sendable () -> Bool]>([])

    /// Starts at `startMilliseconds` (Unix ms; the default is a minute boundary in 2027).
    public init(startMilliseconds: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 60_000) {
        state = NIOLockedValueBox(State(now: startMilliseconds))
    }

    public var now: Int64 { state.withLockedValue { $0.now } }

    /// The clock to inject.
    public var wallClock: WallClock {
        WallClock(
            nowMilliseconds: { [state] in state.withLockedValue { $0.now } },
            sleepUntil: { deadline in try await self.sleep(until: deadline) })
    }

    /// Tasks asleep on this clock now.
    public var sleepers: Int { state.withLockedValue { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until.
    public var nextDeadline: Int64? { state.withLockedValue { $0.sleepers.values.map(\.deadline).min() } }

    private func sleep(until deadline: Int64) async throws {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate = state.withLockedValue { state -> Result<Void, any Error>? in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(id: id, deadline: deadline, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let continuation = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
                if let sleeper = state.sleepers.removeValue(forKey: id) { return sleeper.continuation }
                state.cancelled.insert(id)
                return nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Time moves on only when `isIdle` holds (with every other tracked check): what a step
    /// caused happens at that step's time, however loaded the machine is.
    public func track(_ isIdle: @escaping @Sendable () -> Bool) { idleChecks.withLockedValue { $0.append(isIdle) } }

    private var tracked: Bool {
        let checks = idleChecks.withLockedValue { $0 }
        return checks.allSatisfy { $0() }
    }

    /// Moves time forward by `duration`, waking the sleepers whose deadlines pass one deadline at
    /// a time; after each, the woken tasks run until they are quiet again (see `settle`).
    public func advance(by duration: Duration) async {
        let (seconds, attoseconds) = duration.components
        await advance(to: now + seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Moves time forward to `target` (Unix ms); see `advance(by:)`.
    public func advance(to target: Int64) async {
        await settle()
        while true {
            let next = state.withLockedValue { state -> Sleeper? in
                guard
                    let earliest = state.sleepers.values.filter({ $0.deadline <= target }).min(by: {
                        ($0.deadline, $0.id) < ($1.deadline, $1.id)
                    })
                else {
                    state.now = max(state.now, target)
                    return nil
                }
                state.sleepers.removeValue(forKey: earliest.id)
                state.now = max(state.now, earliest.deadline)
                return earliest
            }
            guard let next else { break }
            let asleep = sleepers + 1
            next.continuation.resume()
            await settle(rearmed: asleep)
        }
        await settle()
    }

    /// Lets tasks that were just woken run: yields until every tracked check is idle and, when
    /// `rearmed` is given, that many tasks sleep again (a woken timer's owner sets its next one);
    /// else until no sleeper has come or gone for a while. Work that waits on sockets is not
    /// covered; in-memory work (actor hops, async streams) is.
    public func settle(rearmed: Int? = nil) async {
        var quiet = 0
        var last = state.withLockedValue { ($0.sleepers.count, $0.nextID) }
        for _ in 0..<200_000 {
            await Task.yield()
            let current = state.withLockedValue { ($0.sleepers.count, $0.nextID) }
            guard tracked else {
                quiet = 0
                continue
            }
            if let rearmed, current.0 >= rearmed, quiet >= 5 { return }
            if current == last {
                quiet += 1
                if quiet >= 500 { return }
            } else {
                quiet = 0
                last = current
            }
        }
    }

    /// Yields until `condition` holds (true) or a generous number of turns has passed (false).
    public func eventually(_ condition: @Sendable () async -> Bool) async -> Bool {
        for _ in 0..<50_000 {
            if await condition() { return true }
            await Task.yield()
        }
        return await condition()
    }
}
