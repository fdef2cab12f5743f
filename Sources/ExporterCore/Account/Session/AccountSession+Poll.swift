import BinanceWebSocketAPI

/// How a poll ended, for the cadence and the stream's backfill.
enum PollOutcome: Sendable, Equatable {
    case succeeded
    case failed
    case skipped
    /// The scheduler will admit it at this exchange time (ms).
    case deferred(until: Int64)
}

extension AccountSession {
    var statusMethod: BinanceMethod { .accountStatus(version) }

    /// Each request's deadline: the configured one, but never longer than the effective
    /// interval (at least 3 s), so a silent connection fails this poll before the next is due
    /// and a late timeout cannot knock down an account that has since recovered.
    var requestDeadline: Duration {
        min(services.timing.requestTimeout, .seconds(max(3, Double(cadence.effectiveMilliseconds) / 1000)))
    }

    var pollWeight: Int64 {
        ledger.weight(of: statusMethod) + (account.positionsDetail ? ledger.weight(of: positionMethod) : 0)
    }

    /// `v2/account.position` where the venue has it (USDⓈ-M), else `account.position` (COIN-M,
    /// and Portfolio Margin's position lists).
    var positionMethod: BinanceMethod {
        account.venue.pollWeights.methods.contains(.accountPositionV2) ? .accountPositionV2 : .accountPosition
    }

    /// Polls now and lets the cadence, the stream and the scheduler know how it went.
    func pollNow() async {
        let started = now
        logger.debug("poll", metadata: ["mode": "\(cadence.mode)", "retry": "\(cadence.retryAt.map { String($0) } ?? "-")"])
        cadence.started(at: started)
        let outcome = await poll()
        switch outcome {
        case .deferred(let until):
            // Retry when the budget allows, spread over two seconds so that accounts deferred
            // together do not all ask at the same instant.
            cadence.deferred(retry: until - offsetMilliseconds + Int64(services.random() * 2000), now: now)
        case .succeeded, .failed, .skipped:
            cadence.finished()
        }
        if outcome == .succeeded || outcome == .failed {
            if !hasPolled { stream?.firstPollSent(now: now) }
            hasPolled = true
        }
        if outcome == .succeeded {
            lastPollEnded = now
            stream?.polled(wallets: wallets, now: now)
        }
        await updateStretch()
    }

    /// The interval's stretch: every account's demand must fit the exporter's share.
    func updateStretch() async {
        // A stopped account demands nothing (stop() unregistered it): the others need not stretch.
        guard !lifecycle.isStopped else { return }
        let demand = Double(pollWeight) * 60 / cadence.demandIntervalSeconds + orderDemandPerMinute
        cadence.stretch = await scheduler.register(account: account.name, weightPerMinute: demand)
        if cadence.intervalSeconds != reportedInterval {
            reportedInterval = cadence.intervalSeconds
            await report(.interval(cadence.intervalSeconds))
        }
    }

    private func poll() async -> PollOutcome {
        let started = now
        var used: (any AccountConnection)?
        do {
            let connection: any AccountConnection
            switch try await prepareConnection() {
            case .stopped:
                return .skipped
            case .skipped(let skip, let until):
                logger.debug("poll skipped", metadata: ["reason": "\(skip)"])
                await report(.skipped)
                return until.map { .deferred(until: $0) } ?? .skipped
            case .ready(let current):
                connection = current
            }
            used = connection
            await connection.setRequestTimeout(requestDeadline)
            if case .deferred(let why, let until) = await scheduler.admit(weight: pollWeight) {
                logger.debug("poll skipped", metadata: ["reason": "\(PollSkip.deferred(why))"])
                await report(.skipped)
                return .deferred(until: until)
            }
            let data = try await fetch(connection)
            backoff.reset()
            wallets = Dictionary(data.status.assets.map { ($0.asset, $0.walletBalance) }) { first, _ in first }
            await positionsPolled(data)
            await report(.succeeded(data, at: Double(now) / 1000, duration: Double(now - started) / 1000))
            return .succeeded
        } catch {
            await handle(error, on: used)
            await report(.failed(error.errorCode, duration: Double(now - started) / 1000))
            return .failed
        }
    }

    private func fetch(_ connection: any AccountConnection) async throws(BinanceClientError) -> AccountData {
        if let lastClockSync, Double(now - lastClockSync) > services.timing.clockResyncSeconds * 1000,
            case .admitted = await scheduler.admit(weight: ledger.weight(of: .sessionStatus))
        {
            try await synchroniseClock(on: connection)
        }
        let status = try await fetchStatus(connection)
        var details: [PositionDetail]?
        if account.positionsDetail {
            let method = positionMethod
            let positions = try await withResync(connection) { () async throws(BinanceClientError) in
                try await connection.positionDetails(method == .accountPosition ? .v1 : .v2)
            }
            await charge(method, positions.rateLimit)
            details = positions.value
        }
        return AccountData(status: status.value, positionDetails: details, polledAt: Double(now) / 1000)
    }

    private func fetchStatus(_ connection: any AccountConnection) async throws(BinanceClientError) -> Response<AccountStatus> {
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
                "the account method is not available; falling back to its v2 (leverage, margin type and account flags will be absent)",
                metadata: [
                    "code": "\(error.code)", "method": "\(BinanceMethod.accountStatus.rawValue)",
                    "fallback": "\(BinanceMethod.accountStatusV2.rawValue)",
                ])
            await report(.method(BinanceMethod.accountStatusV2.rawValue))
            let response = try await withResync(connection) { () async throws(BinanceClientError) in
                try await connection.accountStatus(.v2)
            }
            await charge(.accountStatusV2, response.rateLimit)
            return response
        }
    }

    /// Runs a signed call; on −1021 re-measures the clock offset and retries exactly once.
    func withResync<T: Sendable>(
        _ connection: any AccountConnection, _ call: () async throws(BinanceClientError) -> T
    ) async throws(BinanceClientError) -> T {
        do {
            return try await call()
        } catch .api(let error) where error.isInvalidTimestamp {
            await charge(error.method, error.rateLimit)
            logger.warning("timestamp rejected (-1021); re-measuring clock offset and retrying once")
            await report(.error(.binance(APIError.invalidTimestampCode)))
            guard case .admitted = await scheduler.admit(weight: ledger.weight(of: .sessionStatus)) else {
                throw .api(error)
            }
            try await synchroniseClock(on: connection)
            return try await call()
        }
    }

    /// Accounts an answered request: the ledger learns its real cost, the scheduler sees the
    /// IP-wide count, the account's consumed weight grows.
    func charge(_ method: BinanceMethod, _ rateLimit: RateLimitStatus?) async {
        let weight = ledger.charge(method, rateLimit, now: now, offset: offsetMilliseconds)
        await scheduler.observe(rateLimit)
        await report(.spent(weight))
    }

    func charge(_ methodName: String, _ rateLimit: RateLimitStatus?) async {
        if let method = BinanceMethod(rawValue: methodName) {
            await charge(method, rateLimit)
        } else {
            ledger.observe(rateLimit, now: now)
            await scheduler.observe(rateLimit)
        }
    }
}
