import BinanceWebSocketAPI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Why a poll was not attempted. Not an error: nothing was sent.
enum PollSkip: Error {
    case deferred(DeferralReason)
    case backoff
}

/// Polls one account on its own connection and publishes the results to the registry.
///
/// Every request first asks the shared `WeightScheduler`; a refused poll is skipped, not queued.
/// Connections are opened lazily, re-opened with exponential backoff, rotated before 24 h or on
/// `serverShutdown` (make-before-break), and the clock offset is re-measured on −1021. A key
/// Binance rejects stops this account with one clear log line; other accounts carry on.
public actor AccountPoller: Service {
    public nonisolated let account: AccountConfiguration
    private let environment: PollerEnvironment
    private let scheduler: WeightScheduler
    private let registry: MetricsRegistry
    private let logger: Logger
    private let group: any EventLoopGroup

    private var connection: BinanceConnection?
    private var monitor: Task<Void, Never>?
    private var rotateReason: String?
    private var disconnectReason: String?
    private var backoff: Backoff
    private var nextConnectAllowed: ContinuousClock.Instant?
    private var method: MethodVersion
    private var fallbackAllowed: Bool
    private var measuredWeight: [String: Int64] = [:]
    private var effectiveInterval: Double
    private var stopped = false
    private var lastClockSync: ContinuousClock.Instant?
    /// Set while a poll or a rotation runs. Actor methods interleave at every `await`; this keeps
    /// a `serverShutdown` rotation from swapping the connection under an in-flight poll.
    private var busy = false
    /// The last `rateLimits.count` this poller saw, with the local time of the answer.
    private var lastSeen: (time: Int64, count: Int64)?
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
        self.method = account.accountMethod == .v2 ? .v2 : .v1
        self.fallbackAllowed = account.accountMethod == .v1WithFallback
        self.effectiveInterval = account.intervalSeconds
    }

    /// True once Binance rejected this account's key: only a reload (SIGHUP) restarts it.
    public var isStopped: Bool { stopped }

    private var statusMethod: String { method == .v1 ? "account.status" : "v2/account.status" }

    /// Assumed weights until measured from `rateLimits.count`: v1 10 (the 2024 changelog), v2 5.
    private func weight(of method: String) -> Int64 {
        if let measured = measuredWeight[method] { return measured }
        switch method {
        case "account.status", "account.position", "account.balance": return 10
        case "session.status", "session.logon", "session.logout": return 2
        default: return 5
        }
    }

    /// Each request's deadline: the configured one, but never longer than the effective
    /// interval (at least 3 s), so a silent connection fails this poll before the next is due
    /// and a late timeout cannot knock down an account that has since recovered.
    private var requestDeadline: Duration {
        min(environment.connection.requestTimeout, .seconds(max(3, effectiveInterval)))
    }

    private var pollWeight: Int64 {
        weight(of: statusMethod) + (account.positionsDetail ? weight(of: "v2/account.position") : 0)
    }

    public func run() async throws {
        await registry.register(account: account.name, pollIntervalSeconds: account.intervalSeconds)
        await registry.update(account: account.name) { [method = statusMethod] in $0.health.accountMethod = method }
        await updateStretch()
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        await shutdown()
    }

    private func updateStretch() async {
        let demand = Double(pollWeight) * 60 / account.intervalSeconds
        let factor = await scheduler.register(account: account.name, weightPerMinute: demand)
        let interval = account.intervalSeconds * factor
        if interval != effectiveInterval {
            effectiveInterval = interval
            await registry.update(account: account.name) { $0.health.pollIntervalSeconds = interval }
        }
    }

    private func loop() async {
        let clock = ContinuousClock()
        try? await Task.sleep(for: .seconds(effectiveInterval * environment.staggerFraction))
        var next = clock.now
        while !Task.isCancelled && !stopped {
            await pollOnce()
            await updateStretch()
            next = next.advanced(by: .seconds(effectiveInterval))
            if next < clock.now { next = clock.now.advanced(by: .seconds(effectiveInterval)) }
            try? await Task.sleep(until: next, clock: clock)
        }
        // A stopped account keeps its self metrics until the process ends.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Runs `body` when no poll or rotation is running (they would interleave at awaits).
    private func exclusively(_ body: () async -> Void) async {
        while busy { try? await Task.sleep(for: .milliseconds(5)) }
        busy = true
        defer { busy = false }
        await body()
    }

    /// One poll now (the loop's step; also a test hook).
    public func pollOnce() async {
        await exclusively { await pollLocked() }
    }

    private func pollLocked() async {
        guard !stopped else { return }
        let started = ContinuousClock.now
        var used: BinanceConnection?
        do {
            let connection = try await ensureConnection()
            used = connection
            await connection.setRequestTimeout(requestDeadline)
            let data = try await fetch(connection)
            backoff.reset()
            let duration = (ContinuousClock.now - started).seconds
            let time = environment.clock.nowSeconds
            await registry.update(account: account.name) { view in
                view.data = data
                view.health.polls += 1
                view.health.lastPollSucceeded = true
                view.health.lastSuccess = time
                view.health.stopped = nil
                view.health.pollDurationSeconds = duration
                view.health.firstPollAttempted = true
            }
        } catch let skip as PollSkip {
            logger.debug("poll skipped", metadata: ["reason": "\(skip)"])
            await registry.update(account: account.name) { $0.health.firstPollAttempted = true }
        } catch let error as BinanceClientError {
            let duration = (ContinuousClock.now - started).seconds
            await handle(error, on: used)
            await registry.update(account: account.name) { view in
                view.health.polls += 1
                view.health.lastPollSucceeded = false
                view.health.errorsByCode[error.metricCode, default: 0] += 1
                view.health.pollDurationSeconds = duration
                view.health.firstPollAttempted = true
            }
        } catch {
            logger.error("unexpected poll failure", metadata: ["error": "\(error)"])
        }
    }

    // MARK: connection lifecycle

    private func ensureConnection() async throws -> BinanceConnection {
        if let connection, await !connection.isClosed {
            let age = Double(environment.clock.nowMilliseconds() - connection.connectedAt) / 1000
            if age > environment.maxConnectionAgeSeconds, rotateReason == nil { rotateReason = "max_age" }
            guard let reason = rotateReason else { return connection }
            // Make-before-break: the old connection serves until the new one is ready.
            do {
                let fresh = try await openConnection(reason: reason)
                rotateReason = nil
                await connection.close()
                return fresh
            } catch is PollSkip {
                return connection
            }
        }
        if let connection {
            self.connection = nil
            await connection.close()
        }
        if let nextConnectAllowed, ContinuousClock.now < nextConnectAllowed { throw PollSkip.backoff }
        let reason = disconnectReason
        return try await openConnection(reason: reason)
    }

    private func openConnection(reason: String?) async throws -> BinanceConnection {
        let keyType = account.credentials.signer.keyType
        let setupWeight: Int64 = 5 + 2 * Int64(environment.clockSyncSamples) + (keyType.supportsSessionLogon ? 2 : 0)
        if case .deferred(let why, _) = await scheduler.admit(weight: setupWeight) { throw PollSkip.deferred(why) }
        let fresh: BinanceConnection
        do {
            fresh = try await BinanceConnection.connect(
                configuration: environment.connection, credentials: account.credentials, clock: environment.clock,
                logger: logger, group: group)
        } catch {
            await addWeight(5)
            scheduleReconnect()
            if case .handshakeRejected(let status, let retryAfter) = error {
                let until = retryAfter.map { environment.clock.nowMilliseconds() + Int64($0) * 1000 }
                if status == 418 { await scheduler.banned(until: until) }
                if status == 429 { await scheduler.rateLimited(retryAfter: until) }
            }
            logger.warning("connect failed", metadata: ["error": "\(error)", "url": "\(environment.connection.url)"])
            throw error
        }
        await addWeight(5)
        await fresh.setRequestTimeout(requestDeadline)
        do {
            // The clock first: session.logon carries a signed timestamp.
            try await synchroniseClock(on: fresh)
            if keyType.supportsSessionLogon {
                let status = try await fresh.logon()
                await charge("session.logon", status.rateLimit)
            }
        } catch {
            await fresh.close()
            scheduleReconnect()
            throw error
        }
        if let old = connection, old !== fresh { monitor?.cancel() }
        connection = fresh
        disconnectReason = nil
        startMonitor(fresh)
        let label = reason
        await registry.update(account: account.name) { view in
            view.health.connected = true
            if let label { view.health.reconnectsByReason[label, default: 0] += 1 }
        }
        logger.info("connected", metadata: ["url": "\(environment.connection.url)", "reason": "\(reason ?? "initial")"])
        return fresh
    }

    private func synchroniseClock(on connection: BinanceConnection) async throws {
        let sync = try await connection.synchroniseClock(samples: environment.clockSyncSamples)
        lastClockSync = ContinuousClock.now
        offsetMilliseconds = sync.offset
        await addWeight(weight(of: "session.status") * Int64(environment.clockSyncSamples))
        await observed(sync.rateLimit)
        await scheduler.setClockOffset(milliseconds: sync.offset)
        let seconds = Double(sync.offset) / 1000
        await registry.update(account: account.name) { $0.health.clockOffsetSeconds = seconds }
    }

    private func scheduleReconnect() {
        let delay = backoff.nextDelay(random: environment.random)
        nextConnectAllowed = ContinuousClock.now.advanced(by: .seconds(delay))
    }

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
            rotateReason = "server_shutdown"
            // Rotate now rather than at the next poll (the old connection is about to go), but
            // after any in-flight poll on it has finished: make-before-break.
            await exclusively {
                guard !stopped, rotateReason != nil, connection != nil else { return }
                _ = try? await ensureConnection()
            }
        case .sessionError(let code, let message):
            let error = APIError(method: "session", status: 401, code: code, message: message)
            if error.isCredentialProblem { await stop(because: error) }
        case .protocolError(let what):
            logger.warning("malformed frame from Binance", metadata: ["problem": "\(what)"])
            await registry.update(account: account.name) { $0.health.errorsByCode["decode", default: 0] += 1 }
        case .closed(let reason):
            connection = nil
            disconnectReason = Self.reconnectReason(reason)
            await registry.update(account: account.name) { $0.health.connected = false }
            logger.info("connection closed", metadata: ["reason": "\(reason)"])
        }
    }

    static func reconnectReason(_ text: String) -> String {
        if text.contains("pong") { return "missed_pong" }
        if text.contains("close frame") { return "close_frame" }
        if text.contains("closed by client") { return "client_close" }
        return "connection_lost"
    }

    // MARK: polling

    private func fetch(_ connection: BinanceConnection) async throws -> AccountData {
        if case .deferred(let why, _) = await scheduler.admit(weight: pollWeight) { throw PollSkip.deferred(why) }
        if let lastClockSync, ContinuousClock.now - lastClockSync > .seconds(environment.clockResyncSeconds),
            case .admitted = await scheduler.admit(weight: weight(of: "session.status"))
        {
            try await synchroniseClock(on: connection)
        }
        let status = try await fetchStatus(connection)
        var details: [PositionDetail]?
        if account.positionsDetail {
            let positions = try await withResync(connection) { try await connection.positions(.v2) }
            await charge("v2/account.position", positions.rateLimit)
            details = positions.value
        }
        return AccountData(status: status.value, positionDetails: details, polledAt: environment.clock.nowSeconds)
    }

    private func fetchStatus(_ connection: BinanceConnection) async throws -> Response<AccountStatus> {
        let method = statusMethod
        let version = self.method
        do {
            let response = try await withResync(connection) { try await connection.accountStatus(version) }
            await charge(method, response.rateLimit)
            return response
        } catch BinanceClientError.api(let error) where error.isUnknownMethod && fallbackAllowed && version == .v1 {
            fallbackAllowed = false
            self.method = .v2
            logger.warning(
                "account.status is not available; falling back to v2/account.status (leverage, margin type and account flags will be absent)",
                metadata: ["code": "\(error.code)"])
            await registry.update(account: account.name) { $0.health.accountMethod = "v2/account.status" }
            let response = try await withResync(connection) { try await connection.accountStatus(.v2) }
            await charge("v2/account.status", response.rateLimit)
            return response
        }
    }

    /// Runs a signed call; on −1021 re-measures the clock offset and retries exactly once.
    private func withResync<T: Sendable>(
        _ connection: BinanceConnection, _ call: () async throws -> T
    ) async throws -> T {
        do {
            return try await call()
        } catch BinanceClientError.api(let error) where error.isInvalidTimestamp {
            await charge(error.method, error.rateLimit)
            logger.warning("timestamp rejected (-1021); re-measuring clock offset and retrying once")
            await registry.update(account: account.name) { $0.health.errorsByCode["-1021", default: 0] += 1 }
            guard case .admitted = await scheduler.admit(weight: weight(of: "session.status")) else {
                throw BinanceClientError.api(error)
            }
            try await synchroniseClock(on: connection)
            return try await call()
        }
    }

    /// Records a `rateLimits` answer for the scheduler and as the base for the next measurement.
    private func observed(_ rateLimit: RateLimitStatus?) async {
        await scheduler.observe(rateLimit)
        if let rateLimit { lastSeen = (environment.clock.nowMilliseconds(), rateLimit.count) }
    }

    /// Accounts an answered request. Binance's documented weights disagree (5 vs 10), so the
    /// real cost is learned from the change in `rateLimits.count` since the previous answer, when
    /// both fall well inside one calendar minute of exchange time. Other programs on the IP can
    /// only inflate a change, so the smallest observation wins.
    private func charge(_ method: String, _ rateLimit: RateLimitStatus?) async {
        let now = environment.clock.nowMilliseconds()
        if let rateLimit, let lastSeen, Self.sameWindow(lastSeen.time + offsetMilliseconds, now + offsetMilliseconds),
            rateLimit.count > lastSeen.count
        {
            let delta = rateLimit.count - lastSeen.count
            if delta <= 50, delta < measuredWeight[method] ?? Int64.max { measuredWeight[method] = delta }
        }
        await addWeight(weight(of: method))
        await observed(rateLimit)
    }

    /// Both instants lie in one calendar minute with 2 s to spare on each side, so a window
    /// reset between them (and clock-offset error) cannot make a change look smaller.
    static func sameWindow(_ a: Int64, _ b: Int64) -> Bool {
        let minute = (a - 2_000) / 60_000
        return minute == (a + 2_000) / 60_000 && minute == (b - 2_000) / 60_000 && minute == (b + 2_000) / 60_000
    }

    private func addWeight(_ weight: Int64) async {
        await registry.update(account: account.name) { $0.health.weightConsumed += UInt64(weight) }
    }

    /// `used` is the connection the failed request went over; only that one is closed.
    private func handle(_ error: BinanceClientError, on used: BinanceConnection?) async {
        switch error {
        case .api(let apiError):
            // Refused requests (429/418) cost nothing; any other answer was charged.
            if apiError.isRateLimited || apiError.isBanned {
                await observed(apiError.rateLimit)
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
            disconnectReason = "error"
            scheduleReconnect()
            await registry.update(account: account.name) { $0.health.connected = false }
        case .handshakeRejected, .decode, .cancelled:
            logger.warning("poll failed", metadata: ["error": "\(error)"])
        }
    }

    private func stop(because error: APIError) async {
        guard !stopped else { return }
        stopped = true
        logger.error(
            "Binance rejected this account's API key; polling stopped until the key is fixed and the exporter restarted or reloaded",
            metadata: ["code": "\(error.code)", "message": "\(error.message)"])
        await registry.update(account: account.name) { view in
            view.health.stopped = .credentialsRejected
            view.health.lastPollSucceeded = false
            view.health.connected = false
        }
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

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension WallClock {
    var nowSeconds: Double { Double(nowMilliseconds()) / 1000 }
}
