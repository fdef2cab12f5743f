import BinanceWebSocketAPI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `userDataStream.start` obtains (or extends) the account's listen key; `.ping` extends it.
public enum ListenKeyOperation: Sendable {
    case start
    case ping
}

/// The outcome of a listen key request.
public enum ListenKeyResult: Sendable, Equatable {
    /// The key (a secret: never log it).
    case key(String)
    /// −1125: the key no longer exists; start a new one.
    case gone
    /// Not now (no connection, transport failure, rejected key): try later.
    case unavailable(String)
    /// The scheduler deferred it until this local time (ms): ask again then, at the start of the
    /// budget's next window, so a one-weight key request is not crowded out by polls.
    case deferred(untilLocalMilliseconds: Int64)
}

/// Polls one account on its own connection and reports what happened as `PollerEvent`s.
///
/// Every request first asks the shared `WeightScheduler`; a refused poll is skipped, not queued.
/// The connection's life (first connect, reconnect after backoff, rotation before 24 h or on
/// `serverShutdown`, stop on a rejected key) is decided by `ConnectionLifecycle`, a value with
/// pure transitions; this actor performs what it decides. The real cost of each method is
/// learnt by `WeightLedger`. All times come from the injected `environment.clock`.
public actor AccountPoller: Service {
    public nonisolated let account: AccountConfiguration
    private let environment: PollerEnvironment
    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private let group: any EventLoopGroup

    private var lifecycle: ConnectionLifecycle
    private var connection: BinanceConnection?
    /// Forwards the current connection's events to this actor; replaced with the connection.
    private var monitor: Task<Void, Never>?
    /// One poll or rotation at a time: they would interleave at every `await`.
    private var gate = PollGate()
    private var backoff: Backoff
    private var ledger = WeightLedger()
    private var version: MethodVersion
    private var fallbackAllowed: Bool
    private var effectiveInterval: Double
    private var lastClockSync: Int64?
    /// Set by the account's stream keeper: its listen key is subscribed.
    private var userStreamHealthy = false
    /// The last poll ran at the reconcile interval.
    private var reconciling = false
    /// Exchange ms when the scheduler will admit the poll it just deferred: the next attempt is
    /// then, not a whole (possibly stretched) interval later, so the budget has no idle gaps.
    private var deferredUntil: Int64?
    private var offsetMilliseconds: Int64 = 0

    public init(
        account: AccountConfiguration, environment: PollerEnvironment, scheduler: WeightScheduler, registry: MetricsRegistry,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.account = account
        self.environment = environment
        self.scheduler = scheduler
        self.registry = registry
        var logger = logger
        logger[metadataKey: "account"] = "\(account.name)"
        self.logger = logger
        self.group = group
        self.backoff = environment.backoff
        self.lifecycle = ConnectionLifecycle(maxAgeSeconds: environment.maxConnectionAgeSeconds)
        self.version = account.accountMethod == .v2 ? .v2 : .v1
        self.fallbackAllowed = account.accountMethod == .v1WithFallback
        self.effectiveInterval = account.intervalSeconds
    }

    /// True once Binance rejected this account's key: only a reload (SIGHUP) restarts it.
    public var isStopped: Bool { lifecycle.isStopped }

    private var now: Int64 { environment.clock.nowMilliseconds() }
    private var statusMethod: BinanceMethod { .accountStatus(version) }

    /// Each request's deadline: the configured one, but never longer than the effective
    /// interval (at least 3 s), so a silent connection fails this poll before the next is due
    /// and a late timeout cannot knock down an account that has since recovered.
    private var requestDeadline: Duration {
        min(environment.connection.requestTimeout, .seconds(max(3, effectiveInterval)))
    }

    private var pollWeight: Int64 {
        ledger.weight(of: statusMethod) + (account.positionsDetail ? ledger.weight(of: .accountPositionV2) : 0)
    }

    private func report(_ events: PollerEvent...) async { await registry.apply(account: account.name, events) }

    public func run() async throws {
        await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds)
        await report(.method(statusMethod.rawValue))
        await updateStretch()
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        await shutdown()
    }

    /// The account's stream keeper reports whether its listen key is subscribed.
    public func setUserStreamHealthy(_ healthy: Bool) { userStreamHealthy = healthy }

    /// Both feeds healthy: the values on `/metrics` are live, and a poll only reconciles.
    private func isLive() async -> Bool {
        guard environment.reconcileIntervalSeconds != nil, userStreamHealthy, let feed = environment.markFeed else { return false }
        return await feed.isHealthy
    }

    /// The interval in use: the reconcile interval while live (never shorter than the
    /// stretched normal one), else the normal interval stretched to fit the weight budget.
    private var currentInterval: Double {
        reconciling ? max(environment.reconcileIntervalSeconds ?? 0, effectiveInterval) : effectiveInterval
    }

    private func updateStretch() async {
        let base = reconciling ? max(environment.reconcileIntervalSeconds ?? 0, account.intervalSeconds) : account.intervalSeconds
        let demand = Double(pollWeight) * 60 / base
        let factor = await scheduler.register(account: account.name, weightPerMinute: demand)
        effectiveInterval = account.intervalSeconds * factor
        if currentInterval != reportedInterval {
            reportedInterval = currentInterval
            await report(.interval(currentInterval))
        }
    }

    /// The interval `binance_futures_poll_interval_seconds` shows.
    private var reportedInterval: Double?

    private func loop() async {
        try? await Task.sleep(for: .seconds(effectiveInterval * environment.staggerFraction))
        while !Task.isCancelled && !lifecycle.isStopped {
            let started = now
            deferredUntil = nil
            await pollOnce()
            if let until = deferredUntil {
                // Retry when the budget allows, spread over two seconds so that accounts
                // deferred together do not all ask at the same instant.
                let wait = until - (now + offsetMilliseconds) + Int64(environment.random() * 2000)
                try? await Task.sleep(for: .milliseconds(max(50, min(wait, Int64(currentInterval * 1000)))))
                continue
            }
            reconciling = await isLive()
            await updateStretch()
            // Wait for the next poll; a feed that fails meanwhile ends the wait at once, so
            // nothing stays as old as the reconcile interval without the feeds that made it live.
            while !Task.isCancelled && !lifecycle.isStopped {
                let live = await isLive()
                if reconciling && !live {
                    logger.info("a live feed failed; polling now and at the normal interval again")
                    reconciling = false
                    await updateStretch()
                    break
                }
                let due = started + Int64(currentInterval * 1000)
                if now >= due { break }
                try? await Task.sleep(for: .milliseconds(min(250, max(1, due - now))))
            }
        }
        // A stopped account keeps its self metrics until the process ends or a reload.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Runs `body` when no other poll or rotation runs; waiters are served in order.
    private func exclusively(_ body: () async -> Void) async {
        if !gate.tryEnter() {
            await withCheckedContinuation { gate.enqueue($0) }
        }
        await body()
        gate.leave()
    }

    /// One poll now (the loop's step; also a test hook).
    public func pollOnce() async {
        await exclusively { await poll() }
    }

    /// True once a poll was sent (answered or failed, not skipped): the account's own start-up
    /// comes before its stream's.
    public private(set) var hasPolled = false

    private func poll() async {
        let started = now
        var used: BinanceConnection?
        do {
            guard let ready = try await prepareConnection() else { return }
            let connection: BinanceConnection
            switch ready {
            case .skipped(let skip):
                logger.debug("poll skipped", metadata: ["reason": "\(skip)"])
                await report(.skipped)
                return
            case .ready(let current):
                connection = current
            }
            used = connection
            await connection.setRequestTimeout(requestDeadline)
            switch try await fetch(connection) {
            case .skipped(let skip):
                logger.debug("poll skipped", metadata: ["reason": "\(skip)"])
                await report(.skipped)
            case .fetched(let data):
                hasPolled = true
                backoff.reset()
                await report(.succeeded(data, at: Double(now) / 1000, duration: Double(now - started) / 1000))
            }
        } catch {
            hasPolled = true
            await handle(error, on: used)
            await report(.failed(code: error.errorCodeLabel, duration: Double(now - started) / 1000))
        }
    }

    // MARK: listen key (userDataStream.* on this account's connection)

    /// `userDataStream.start` or `.ping` on this account's connection, through the scheduler
    /// and in turn with polls. Returns the listen key.
    public func listenKey(_ operation: ListenKeyOperation) async -> ListenKeyResult {
        var result = ListenKeyResult.unavailable("not attempted")
        await exclusively { result = await listenKeyRequest(operation) }
        return result
    }

    /// `userDataStream.stop` on the open connection, if there is one; never opens one (it runs at
    /// shutdown). Best effort: an unstopped key expires by itself after 60 minutes.
    public func stopListenKey() async {
        guard let connection, !lifecycle.isStopped,
            case .admitted = await scheduler.admit(weight: ledger.weight(of: .userDataStreamStop))
        else { return }
        if let rateLimit = try? await connection.stopUserDataStream() { await charge(.userDataStreamStop, rateLimit) }
    }

    private func listenKeyRequest(_ operation: ListenKeyOperation) async -> ListenKeyResult {
        let method: BinanceMethod = operation == .start ? .userDataStreamStart : .userDataStreamPing
        var used: BinanceConnection?
        deferredUntil = nil
        do {
            guard let ready = try await prepareConnection() else { return .unavailable("account stopped") }
            guard case .ready(let connection) = ready else {
                if let deferredUntil { return .deferred(untilLocalMilliseconds: deferredUntil - offsetMilliseconds) }
                return .unavailable("no connection yet")
            }
            used = connection
            if case .deferred(_, let until) = await scheduler.admit(weight: ledger.weight(of: method)) {
                return .deferred(untilLocalMilliseconds: until - offsetMilliseconds)
            }
            let response =
                operation == .start ? try await connection.startUserDataStream() : try await connection.pingUserDataStream()
            await charge(method, response.rateLimit)
            return .key(response.value)
        } catch .api(let error) where error.code == -1125 {
            await charge(method, error.rateLimit)
            return .gone
        } catch {
            await handle(error, on: used)
            return .unavailable("\(error)")
        }
    }

    // MARK: connection lifecycle

    private enum Readiness {
        case ready(BinanceConnection)
        case skipped(PollSkip)
    }

    /// Does what the lifecycle says before a poll. Nil when the account is stopped.
    private func prepareConnection() async throws(BinanceClientError) -> Readiness? {
        switch lifecycle.pollDue(now: now) {
        case .stop:
            return nil
        case .skip(let skip):
            return .skipped(skip)
        case .useConnection:
            guard let connection else {
                lifecycle.closed(.connectionLost)
                return try await prepareConnection()
            }
            return .ready(connection)
        case .connect(let reason):
            if let stale = connection {
                connection = nil
                await stale.close()
            }
            switch try await open(reason: reason) {
            case .deferred(let why): return .skipped(.deferred(why))
            case .opened(let fresh): return .ready(fresh)
            }
        case .rotate(let reason):
            // Make-before-break: the old connection serves until the new one is ready.
            let old = connection
            switch try await open(reason: reason) {
            case .deferred:
                if let old { return .ready(old) }
                return .skipped(.backoff)
            case .opened(let fresh):
                if let old, old !== fresh { await old.close() }
                return .ready(fresh)
            }
        }
    }

    private enum Opening {
        case opened(BinanceConnection)
        case deferred(DeferralReason)
    }

    private func open(reason: ReconnectReason?) async throws(BinanceClientError) -> Opening {
        let keyType = account.credentials.signer.keyType
        let setupWeight =
            BinanceMethod.handshakeWeight + ledger.weight(of: .sessionStatus) * Int64(environment.clockSyncSamples)
            + (keyType.supportsSessionLogon ? ledger.weight(of: .sessionLogon) : 0)
        if case .deferred(let why, let until) = await scheduler.admit(weight: setupWeight) {
            deferredUntil = until
            return .deferred(why)
        }
        let fresh: BinanceConnection
        do {
            fresh = try await BinanceConnection.connect(
                configuration: environment.connection, credentials: account.credentials, clock: environment.clock,
                logger: logger, group: group)
        } catch {
            await report(.spent(BinanceMethod.handshakeWeight))
            lifecycle.openFailed(retryAt: now + backoffDelay())
            if case .handshakeRejected(let status, let retryAfter) = error {
                let until = retryAfter.map { now + Int64($0) * 1000 }
                if status == 418 { await scheduler.banned(until: until) }
                if status == 429 { await scheduler.rateLimited(retryAfter: until) }
            }
            logger.warning("connect failed", metadata: ["error": "\(error)", "url": "\(environment.connection.url)"])
            throw error
        }
        await report(.spent(BinanceMethod.handshakeWeight))
        await fresh.setRequestTimeout(requestDeadline)
        do {
            // The clock first: session.logon carries a signed timestamp.
            try await synchroniseClock(on: fresh)
            if keyType.supportsSessionLogon {
                let status = try await fresh.logon()
                await charge(.sessionLogon, status.rateLimit)
            }
        } catch {
            await fresh.close()
            lifecycle.openFailed(retryAt: now + backoffDelay())
            throw error
        }
        monitor?.cancel()
        connection = fresh
        lifecycle.opened(now: now)
        startMonitor(fresh)
        await report(.connected(reason: reason))
        logger.info("connected", metadata: ["url": "\(environment.connection.url)", "reason": "\(reason?.rawValue ?? "initial")"])
        return .opened(fresh)
    }

    private func synchroniseClock(on connection: BinanceConnection) async throws(BinanceClientError) {
        let sync = try await connection.synchroniseClock(samples: environment.clockSyncSamples)
        lastClockSync = now
        offsetMilliseconds = sync.offset
        ledger.observe(sync.rateLimit, now: now)
        await scheduler.observe(sync.rateLimit)
        await scheduler.setClockOffset(milliseconds: sync.offset)
        await report(
            .spent(ledger.weight(of: .sessionStatus) * Int64(environment.clockSyncSamples)),
            .clockOffset(seconds: Double(sync.offset) / 1000))
    }

    private func backoffDelay() -> Int64 { Int64(backoff.nextDelay(random: environment.random) * 1000) }

    private func startMonitor(_ connection: BinanceConnection) {
        monitor = Task { [weak self] in
            for await event in connection.events {
                await self?.handle(event: event, from: connection)
            }
        }
    }

    private func handle(event: ConnectionEvent, from source: BinanceConnection) async {
        guard source === connection else { return }
        switch event {
        case .serverShutdown:
            // Rotate now rather than at the next poll (the old connection is about to go), but
            // after any in-flight poll on it has finished: make-before-break.
            guard lifecycle.serverShutdown() else { return }
            await exclusively {
                guard case .ready = try? await prepareConnection() else { return }
            }
        case .sessionError(let code, let message):
            let error = APIError(method: "session", status: 401, code: code, message: message)
            if error.isCredentialProblem { await stop(because: error) }
        case .protocolError(let what):
            logger.warning("malformed frame from Binance", metadata: ["problem": "\(what)"])
            await report(.error(code: "decode"))
        case .closed(let reason):
            connection = nil
            lifecycle.closed(reason)
            await report(.disconnected)
            logger.info("connection closed", metadata: ["reason": "\(reason)"])
        }
    }

    // MARK: polling

    private enum Fetch {
        case fetched(AccountData)
        case skipped(PollSkip)
    }

    private func fetch(_ connection: BinanceConnection) async throws(BinanceClientError) -> Fetch {
        if case .deferred(let why, let until) = await scheduler.admit(weight: pollWeight) {
            deferredUntil = until
            return .skipped(.deferred(why))
        }
        if let lastClockSync, Double(now - lastClockSync) > environment.clockResyncSeconds * 1000,
            case .admitted = await scheduler.admit(weight: ledger.weight(of: .sessionStatus))
        {
            try await synchroniseClock(on: connection)
        }
        let status = try await fetchStatus(connection)
        var details: [PositionDetail]?
        if account.positionsDetail {
            let positions = try await withResync(connection) { () async throws(BinanceClientError) in
                try await connection.positions(.v2)
            }
            await charge(.accountPositionV2, positions.rateLimit)
            details = positions.value
        }
        return .fetched(AccountData(status: status.value, positionDetails: details, polledAt: Double(now) / 1000))
    }

    private func fetchStatus(_ connection: BinanceConnection) async throws(BinanceClientError) -> Response<AccountStatus> {
        let version = self.version
        do {
            let response = try await withResync(connection) { () async throws(BinanceClientError) in
                try await connection.accountStatus(version)
            }
            await charge(.accountStatus(version), response.rateLimit)
            return response
        } catch .api(let error) where error.isUnknownMethod && fallbackAllowed && version == .v1 {
            fallbackAllowed = false
            self.version = .v2
            logger.warning(
                "account.status is not available; falling back to v2/account.status (leverage, margin type and account flags will be absent)",
                metadata: ["code": "\(error.code)"])
            await report(.method(BinanceMethod.accountStatusV2.rawValue))
            let response = try await withResync(connection) { () async throws(BinanceClientError) in
                try await connection.accountStatus(.v2)
            }
            await charge(.accountStatusV2, response.rateLimit)
            return response
        }
    }

    /// Runs a signed call; on −1021 re-measures the clock offset and retries exactly once.
    private func withResync<T: Sendable>(
        _ connection: BinanceConnection, _ call: () async throws(BinanceClientError) -> T
    ) async throws(BinanceClientError) -> T {
        do {
            return try await call()
        } catch .api(let error) where error.isInvalidTimestamp {
            await charge(error.method, error.rateLimit)
            logger.warning("timestamp rejected (-1021); re-measuring clock offset and retrying once")
            await report(.error(code: "-1021"))
            guard case .admitted = await scheduler.admit(weight: ledger.weight(of: .sessionStatus)) else {
                throw .api(error)
            }
            try await synchroniseClock(on: connection)
            return try await call()
        }
    }

    /// Accounts an answered request: the ledger learns its real cost, the scheduler sees the
    /// IP-wide count, the account's consumed weight grows.
    private func charge(_ method: BinanceMethod, _ rateLimit: RateLimitStatus?) async {
        let weight = ledger.charge(method, rateLimit, now: now, offset: offsetMilliseconds)
        await scheduler.observe(rateLimit)
        await report(.spent(weight))
    }

    private func charge(_ methodName: String, _ rateLimit: RateLimitStatus?) async {
        if let method = BinanceMethod(rawValue: methodName) {
            await charge(method, rateLimit)
        } else {
            ledger.observe(rateLimit, now: now)
            await scheduler.observe(rateLimit)
        }
    }

    /// `used` is the connection the failed request went over; only that one is closed.
    private func handle(_ error: BinanceClientError, on used: BinanceConnection?) async {
        switch error {
        case .api(let apiError):
            // Refused requests (429/418) cost nothing; any other answer was charged.
            if apiError.isRateLimited || apiError.isBanned {
                ledger.observe(apiError.rateLimit, now: now)
                await scheduler.observe(apiError.rateLimit)
            } else {
                await charge(apiError.method, apiError.rateLimit)
            }
            if apiError.isBanned {
                await scheduler.banned(until: apiError.retryAfter)
            } else if apiError.isRateLimited {
                await scheduler.rateLimited(retryAfter: apiError.retryAfter)
            } else if apiError.isCredentialProblem {
                await stop(because: apiError)
            } else {
                logger.warning("poll failed", metadata: ["error": "\(apiError)"])
            }
        case .timeout, .transport, .connectionClosed:
            logger.warning("poll failed; reconnecting with backoff", metadata: ["error": "\(error)"])
            if let connection, connection === used {
                self.connection = nil
                monitor?.cancel()
                await connection.close()
            }
            // A failure on a connection that is no longer current (a failed rotation, an old
            // one) leaves the current connection alone.
            if connection == nil {
                lifecycle.requestFailed(retryAt: now + backoffDelay())
                await report(.disconnected)
            }
        case .handshakeRejected, .decode, .cancelled, .configuration:
            logger.warning("poll failed", metadata: ["error": "\(error)"])
        }
    }

    private func stop(because error: APIError) async {
        guard !lifecycle.isStopped else { return }
        lifecycle.credentialsRejected()
        logger.error(
            "Binance rejected this account's API key; polling stopped until the key is fixed and the exporter reloaded (SIGHUP) or restarted",
            metadata: ["code": "\(error.code)", "message": "\(error.message)"])
        await report(.stopped(.credentialsRejected))
        await scheduler.unregister(account: account.name)
        if let connection {
            self.connection = nil
            await connection.close()
        }
        monitor?.cancel()
    }

    private func shutdown() async {
        monitor?.cancel()
        if let connection {
            self.connection = nil
            await connection.close()
        }
        await scheduler.unregister(account: account.name)
    }
}
