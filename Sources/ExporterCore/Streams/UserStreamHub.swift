import BinanceWebSocketAPI
import Logging
import NIOCore
import NIOPosix

/// What the hub tells one account about its listen key.
public enum UserStreamSignal: Sendable, Equatable {
    /// The key is subscribed on an open connection; events flow from now on.
    case subscribed
    /// An event for this account's key.
    case event(UserDataEvent)
    /// A frame for this account's key that could not be read.
    case malformed(String)
    /// The connection carrying the key is gone; the hub reconnects and resubscribes by itself.
    case disconnected(UserStreamGapReason)
    /// Binance refused the key (−1125): the account needs a new one.
    case keyRejected
}

/// Settings for the process's user stream connections.
public struct UserStreamSettings: Sendable {
    /// The stream base, e.g. `wss://fstream.binance.com/private`.
    public var base: WebSocketURL
    public var transport = TransportConfiguration()
    public var clock: WallClock = .system
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    public var backoff = Backoff()
    /// Rotate before Binance's 24 h limit, make-before-break.
    public var maxConnectionAgeSeconds: Double = 23 * 3600
    public var subscribeTimeout: Duration = .seconds(10)
    /// Listen keys per connection; beyond it another connection opens. Binance documents
    /// 1024 streams per market-stream connection and no number for user streams: this stays
    /// far below both.
    public var maxKeysPerConnection = 200
    /// `.combined`: keys subscribed on shared connections; `.perListenKey`: one connection per key
    /// at `<base>/ws/<listenKey>` (the PM user stream), its frames raw.
    public var layout: StreamLayout = .combined

    public init(base: WebSocketURL) { self.base = base }
}

/// The process's user data stream connections, shared by every account: each account's listen
/// key is one subscription on a combined `/private/stream` connection, so a hundred accounts
/// need one connection, not a hundred. The hub connects when the first key arrives, reconnects
/// with backoff (each attempt admitted by the weight scheduler, which holds it back during a
/// ban), resubscribes every key after a gap, and rotates connections before 24 h. It looks at
/// its state when something changes (a key attached, a connection closed) or when a retry or a
/// rotation falls due, not on a tick.
public actor UserStreamHub {
    private struct Subscriber {
        var key: String
        let sink: @Sendable (UserStreamSignal) -> Void
        /// The connection the key is subscribed on, once confirmed.
        var slot: Int?
    }

    private struct Slot {
        let connection: UserStreamConnection
        var keys: Set<String> = []
    }

    private let settings: UserStreamSettings
    private let scheduler: WeightScheduler
    private let logger: Logger
    private let group: any EventLoopGroup
    private var subscribers: [String: Subscriber] = [:]
    private var slots: [Int: Slot] = [:]
    private var nextSlot = 0
    private var backoff: Backoff
    private var retryAt: Int64 = 0
    private var stopped = false
    /// Set by `open` when a per-key handshake was refused as a client error (a dead key).
    private var refusedKey = false
    /// Wake-ups of `run`: something changed, or a retry or rotation fell due.
    private let (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    public init(
        settings: UserStreamSettings, scheduler: WeightScheduler, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.settings = settings
        self.scheduler = scheduler
        var logger = logger
        logger[metadataKey: "component"] = "user-stream"
        self.logger = logger
        self.group = group
        self.backoff = settings.backoff
    }

    private var now: Int64 { settings.clock.nowMilliseconds() }

    /// Subscribes `key` for `account` (replacing its previous key); `sink` hears everything
    /// about it. The hub wakes and subscribes it at once (or when its retry falls due).
    public func attach(account: String, key: String, sink: @escaping @Sendable (UserStreamSignal) -> Void) async {
        await detach(account: account)
        subscribers[account] = Subscriber(key: key, sink: sink, slot: nil)
        wakeup.yield()
    }

    /// Removes the account's key from its connection.
    public func detach(account: String) async {
        guard let old = subscribers.removeValue(forKey: account) else { return }
        if settings.layout == .perListenKey, let index = old.slot, let slot = slots.removeValue(forKey: index) {
            await slot.connection.close()
            return
        }
        if let index = old.slot, var slot = slots[index] {
            slot.keys.remove(old.key)
            slots[index] = slot
            try? await slot.connection.unsubscribe([old.key], timeout: settings.subscribeTimeout)
        }
    }

    /// Connections open now, and the keys each carries (tests and the debug log).
    public var connectionKeyCounts: [Int] { slots.values.map(\.keys.count) }

    /// Until cancelled: keeps every attached key subscribed. Each connection's events are read
    /// by a child task of this call.
    public func run() async {
        let wakeup = self.wakeup
        let clock = settings.clock
        await withDiscardingTaskGroup { group in
            var timerAt: Int64?
            wakeup.yield()
            for await _ in wakeups {
                if Task.isCancelled || stopped { break }
                for fresh in await step() {
                    group.addTask { await self.read(fresh.connection, slot: fresh.slot) }
                }
                guard let next = nextDeadline() else { continue }
                if let pending = timerAt, pending > now, pending <= next { continue }
                timerAt = next
                group.addTask {
                    do { try await clock.sleep(untilMilliseconds: next) } catch { return }
                    wakeup.yield()
                }
            }
            for slot in slots.values { await slot.connection.close() }
            slots.removeAll()
            group.cancelAll()
        }
    }

    /// When the hub must look again by itself: a reconnect or subscription retry while keys
    /// wait, or the next connection's rotation.
    private func nextDeadline() -> Int64? {
        var due = slots.values.map { $0.connection.connectedAt + Int64(settings.maxConnectionAgeSeconds * 1000) + 1 }
        if subscribers.values.contains(where: { $0.slot == nil }) { due.append(max(retryAt, now + 1000)) }
        return due.min()
    }

    /// Ends `run` and closes the connections.
    public func shutdown() {
        stopped = true
        wakeup.yield()
    }

    /// One look at the state: rotates old connections, connects when keys wait, subscribes them.
    /// Returns the connections it opened, for `run` to read.
    private func step() async -> [(connection: UserStreamConnection, slot: Int)] {
        var opened: [(UserStreamConnection, Int)] = []
        // Rotation: a fresh connection takes over the old one's keys before it closes.
        for (index, slot) in slots where Double(now - slot.connection.connectedAt) > settings.maxConnectionAgeSeconds * 1000 {
            let moving = subscribers.filter { $0.value.slot == index }.map(\.key)
            if settings.layout == .perListenKey, moving.isEmpty {
                // Nobody's key any more: nothing to carry over.
                slots.removeValue(forKey: index)
                await slot.connection.close()
                continue
            }
            guard let fresh = await open(listenKey: moving.first.flatMap { subscribers[$0]?.key }) else { break }
            opened.append((fresh.connection, fresh.slot))
            if settings.layout == .perListenKey {
                confirm(moving, keys: moving.compactMap { subscribers[$0]?.key }, on: fresh.slot)
            } else {
                await subscribe(moving, on: fresh.slot, after: .maxAge)
            }
            slots.removeValue(forKey: index)
            logger.info("user stream connection rotated before the 24 h limit", metadata: ["keys": "\(moving.count)"])
            await slot.connection.close()
        }
        let waiting = subscribers.filter { $0.value.slot == nil }.map(\.key).sorted()
        guard !waiting.isEmpty, now >= retryAt else { return opened }
        if settings.layout == .perListenKey {
            // One connection per key, the key in its URL: connected is subscribed.
            for account in waiting {
                guard let key = subscribers[account]?.key else { continue }
                refusedKey = false
                guard let fresh = await open(listenKey: key) else {
                    // A refused key is that account's problem (it needs a new one), not the others'.
                    if refusedKey, let subscriber = subscribers[account], subscriber.key == key {
                        subscribers[account]?.slot = -1
                        subscriber.sink(.keyRejected)
                        continue
                    }
                    break
                }
                opened.append((fresh.connection, fresh.slot))
                if subscribers[account]?.key == key {
                    confirm([account], keys: [key], on: fresh.slot)
                    backoff.reset()
                } else {
                    // The account detached or replaced its key while this connected.
                    slots.removeValue(forKey: fresh.slot)
                    await fresh.connection.close()
                }
            }
            return opened
        }
        var remaining = waiting[...]
        while !remaining.isEmpty {
            let target: Int
            if let index = slots.first(where: { $0.value.keys.count < settings.maxKeysPerConnection })?.key {
                target = index
            } else if let fresh = await open() {
                opened.append((fresh.connection, fresh.slot))
                target = fresh.slot
            } else {
                break
            }
            let room = settings.maxKeysPerConnection - (slots[target]?.keys.count ?? 0)
            let batch = Array(remaining.prefix(room))
            remaining = remaining.dropFirst(batch.count)
            await subscribe(batch, on: target, after: nil)
        }
        return opened
    }

    /// A new connection: the combined endpoint, or (`.perListenKey`) the one of `listenKey`.
    private func open(listenKey: String? = nil) async -> (connection: UserStreamConnection, slot: Int)? {
        if case .deferred(let why, _) = await scheduler.admit(weight: BinanceMethod.streamHandshakeWeight) {
            logger.debug("user stream connection deferred", metadata: ["reason": "\(why.rawValue)"])
            retryAt = now + 1000
            return nil
        }
        do {
            let connection =
                settings.layout == .perListenKey
                ? try await UserStreamConnection.connect(
                    url: StreamLayout.perListenKey.url(base: settings.base, listenKey: listenKey ?? ""), transport: settings.transport,
                    clock: settings.clock, logger: logger, group: group)
                : try await UserStreamConnection.connect(
                    base: settings.base, transport: settings.transport, clock: settings.clock, logger: logger, group: group)
            let index = nextSlot
            nextSlot += 1
            slots[index] = Slot(connection: connection)
            // A per-key URL holds the listen key, a secret: the base only.
            let shown =
                settings.layout == .perListenKey
                ? "\(settings.base)/ws/<listenKey>" : "\(UserStreamConnection.streamURL(base: settings.base))"
            logger.info("user stream connected", metadata: ["url": "\(shown)"])
            return (connection, index)
        } catch {
            if case .handshakeRejected(let status, let retryAfter) = error {
                let until = retryAfter.map { now + Int64($0) * 1000 }
                if status == 418 { await scheduler.banned(until: until) }
                if status == 429 { await scheduler.rateLimited(retryAfter: until) }
                // A per-key connection refused (400, 404): the key is dead; no backoff for the others.
                if settings.layout == .perListenKey, (400..<500).contains(status), status != 418, status != 429 {
                    refusedKey = true
                    logger.info("user stream refused a listen key; the account obtains a new one", metadata: ["status": "\(status)"])
                    return nil
                }
            }
            let delay = backoff.nextDelay(random: settings.random)
            retryAt = now + Int64(delay * 1000)
            logger.warning(
                "user stream connect failed; retrying with backoff",
                metadata: ["error": "\(error)", "retry_in_s": "\(Int(delay.rounded()))"])
            return nil
        }
    }

    /// Subscribes the accounts' keys on a connection; a batch Binance refuses is retried key by
    /// key, so one bad key cannot keep the others off the stream.
    private func subscribe(_ accounts: [String], on index: Int, after gap: UserStreamGapReason?) async {
        guard let connection = slots[index]?.connection, !accounts.isEmpty else { return }
        let keys = accounts.compactMap { subscribers[$0]?.key }
        do {
            try await connection.subscribe(keys, timeout: settings.subscribeTimeout)
            confirm(accounts, keys: keys, on: index)
            backoff.reset()
        } catch .api where accounts.count > 1 {
            for account in accounts { await subscribe([account], on: index, after: gap) }
        } catch .api {
            // −1125 and kin: the account must fetch a new key; it will attach it again.
            if let account = accounts.first, let subscriber = subscribers[account], keys.first == subscriber.key {
                subscribers[account]?.slot = -1
                subscriber.sink(.keyRejected)
            }
        } catch {
            logger.warning("user stream subscribe failed", metadata: ["error": "\(error)"])
        }
    }

    private func confirm(_ accounts: [String], keys: [String], on index: Int) {
        for (account, key) in zip(accounts, keys) {
            // The account may have replaced its key meanwhile: that one waits for the next tick.
            guard let subscriber = subscribers[account], subscriber.key == key else { continue }
            subscribers[account]?.slot = index
            slots[index]?.keys.insert(key)
            subscriber.sink(.subscribed)
        }
    }

    /// Reads one connection's events until it closes, routing each to the account of its key.
    private func read(_ connection: UserStreamConnection, slot index: Int) async {
        for await event in connection.events {
            switch event {
            case .event(let stream, let payload):
                route(stream, slot: index) { $0(.event(payload)) }
            case .malformed(let stream, let problem):
                logger.warning("malformed user stream frame skipped; connection kept", metadata: ["problem": "\(problem)"])
                if let stream {
                    route(stream, slot: index) { $0(.malformed(problem)) }
                } else if settings.layout == .perListenKey {
                    route("", slot: index) { $0(.malformed(problem)) }
                }
            case .closed(let reason):
                closed(index, connection: connection, reason: reason)
            }
        }
    }

    private func route(_ stream: String, slot index: Int, _ deliver: (@Sendable (UserStreamSignal) -> Void) -> Void) {
        // A raw frame on a connection of one key belongs to that key's account.
        if stream.isEmpty, settings.layout == .perListenKey {
            for subscriber in subscribers.values where subscriber.slot == index { deliver(subscriber.sink) }
            return
        }
        // A raw frame (no stream name) can only belong to the single subscriber.
        if stream.isEmpty {
            if subscribers.count == 1, let only = subscribers.values.first { deliver(only.sink) }
            return
        }
        for subscriber in subscribers.values where subscriber.key == stream { deliver(subscriber.sink) }
    }

    private func closed(_ index: Int, connection: UserStreamConnection, reason: CloseReason) {
        guard let slot = slots[index], slot.connection === connection else { return }
        slots.removeValue(forKey: index)
        let gap = UserStreamGapReason(reason)
        if reason != .closedByClient {
            logger.warning("user stream connection closed; reconnecting", metadata: ["reason": "\(reason)", "keys": "\(slot.keys.count)"])
            retryAt = max(retryAt, now + Int64(backoff.nextDelay(random: settings.random) * 1000))
        }
        for (account, subscriber) in subscribers where subscriber.slot == index {
            subscribers[account]?.slot = nil
            subscriber.sink(.disconnected(gap))
        }
        wakeup.yield()
    }
}
