import BinanceWebSocketAPI

/// The user data stream side of a session: the listen key on the account's own WebSocket API
/// connection (weighed by the scheduler, in turn with polls), the hub subscription, gaps and the
/// income backfill that closes them, and the leverage brackets the live valuation needs.
extension AccountSession {
    /// Performs what the stream's lifecycle decided.
    func perform(_ actions: [UserStreamLifecycle.Action]) async {
        for action in actions {
            switch action {
            case .report(let event):
                await registry.apply(account: account.name, stream: event)
            case .setStreamHealthy(let healthy):
                if cadence.setStream(healthy: healthy) == .pollNow {
                    logger.info("a live feed failed; polling now and at the normal interval again")
                    await pollNow()
                }
            case .detach:
                await services.hub?.detach(account: account.name)
            case .pollNow:
                await pollNow()
            }
        }
    }

    func handle(_ signal: UserStreamSignal, at: Int64) async {
        guard stream != nil else { return }
        switch signal {
        case .subscribed:
            let actions = stream?.subscribedNow() ?? []
            if actions.contains(where: { if case .report(.subscribed(after: .some)) = $0 { true } else { false } }) { orderGapEnded() }
            await perform(actions)
        case .disconnected(let reason):
            await perform(stream?.disconnected(reason, now: at, wallets: wallets(before: at)) ?? [])
        case .keyRejected:
            await keyLost(.keyExpired, at: at)
        case .event, .malformed:
            break
        }
    }

    func keyLost(_ reason: UserStreamGapReason, at: Int64? = nil) async {
        let at = at ?? now
        await perform(stream?.keyLost(reason, now: at, wallets: wallets(before: at)) ?? [])
    }

    /// The wallets as they were when a gap began at `gapAt`, if this session can know them: a
    /// poll that ended after that (while the signal waited) may already hold what the gap hid,
    /// and comparing against it would skip a ledger read that is needed.
    private func wallets(before gapAt: Int64) -> [String: Double]? {
        if let lastPollEnded, lastPollEnded > gapAt { return nil }
        return wallets
    }

    /// `userDataStream.start`; on success the key is attached to the hub.
    func requestKey() async {
        if lifecycle.isStopped {
            stream?.halt()
            return
        }
        switch await listenKeyRequest(.userDataStreamStart) {
        case .key(let key):
            stream?.keyObtained(now: now)
            let input = self.input
            let events = streamEventInput
            let clock = services.clock
            await services.hub?.attach(account: account.name, key: key) { signal in
                switch signal {
                case .event, .malformed: events.yield(signal)
                case .subscribed, .disconnected, .keyRejected: input.yield(.stream(signal, at: clock.nowMilliseconds()))
                }
            }
        case .gone, .unavailable:
            stream?.keyUnavailable(now: now)
        case .deferred(let until):
            // Half a second into the next window at most: ahead of the polls deferred with it.
            stream?.keyUnavailable(now: now, retry: max(now + 10, until - offsetMilliseconds + Int64(services.random() * 500)))
        }
    }

    func pingKey() async {
        if lifecycle.isStopped {
            stream?.halt()
            return
        }
        switch await listenKeyRequest(.userDataStreamPing) {
        case .key:
            logger.debug("listen key extended")
        case .gone:
            logger.info("listen key no longer exists (-1125); obtaining a new one")
            await keyLost(.keyExpired)
        case .deferred:
            logger.debug("listen key ping deferred by the weight scheduler; will retry at the next ping")
        case .unavailable(let why):
            // The key lives 60 minutes and is pinged every 30: the next ping has time.
            logger.warning("listen key ping failed; will retry at the next ping", metadata: ["why": "\(why)"])
        }
    }

    /// `userDataStream.stop` on the open connection, if there is one; never opens one (it runs at
    /// shutdown). Best effort: an unstopped key expires by itself after 60 minutes.
    func stopListenKey() async {
        guard let connection, !lifecycle.isStopped,
            case .admitted = await scheduler.admit(weight: ledger.weight(of: .userDataStreamStop))
        else { return }
        if let rateLimit = try? await connection.stopUserDataStream() { await charge(.userDataStreamStop, rateLimit) }
    }

    private enum KeyAnswer {
        /// The key (a secret: never log it).
        case key(String)
        /// −1125: the key no longer exists.
        case gone
        case unavailable(String)
        /// The scheduler will admit it at this exchange time (ms).
        case deferred(until: Int64)
    }

    private func listenKeyRequest(_ method: BinanceMethod) async -> KeyAnswer {
        var used: (any AccountConnection)?
        do {
            let connection: any AccountConnection
            switch try await prepareConnection() {
            case .stopped: return .unavailable("account stopped")
            case .skipped(_, let until): return until.map { .deferred(until: $0) } ?? .unavailable("no connection yet")
            case .ready(let ready): connection = ready
            }
            used = connection
            if case .deferred(_, let until) = await scheduler.admit(weight: ledger.weight(of: method)) {
                return .deferred(until: until)
            }
            let response =
                method == .userDataStreamStart ? try await connection.startUserDataStream() : try await connection.pingUserDataStream()
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

    /// Counts what the stream missed from Binance's income ledger, from the start of the gap to
    /// a little after now.
    func readLedger(since: Int64) async {
        guard let rest else { return }
        let requestedAt = now
        let until = requestedAt + 5_000
        let income = IncomeLedger(client: rest, scheduler: scheduler)
        switch await income.fetch(from: since + offsetMilliseconds, to: until + offsetMilliseconds) {
        case .rows(let rows, let spent):
            await report(.spent(spent))
            await registry.apply(account: account.name, stream: .ledger(rows))
            await registry.apply(account: account.name, stream: .backfill(succeeded: true))
            logger.info("income backfilled from the ledger", metadata: ["rows": "\(rows.count)", "window_s": "\((until - since) / 1000)"])
            stream?.ledgerRead(now: now)
        case .retryLater(let why, let spent):
            await report(.spent(spent))
            await registry.apply(account: account.name, stream: .backfill(succeeded: false))
            logger.warning("income backfill failed; retrying", metadata: ["why": "\(why)"])
            stream?.ledgerReadFailed(now: now)
        case .refused(let why, let spent):
            await report(.spent(spent))
            await registry.apply(account: account.name, stream: .backfill(succeeded: false))
            logger.error(
                "Binance refused the income ledger; income missed during stream gaps will not be counted",
                metadata: ["why": "\(why)", "route": "\(rest.venue.rest.income.name)"])
            stream?.ledgerRefused()
        }
    }

    /// The venue's leverage brackets (`GET /fapi/v1/leverageBracket`, weight 1) through the scheduler; a few attempts, then the
    /// next hourly refresh (phase-aligned, so accounts started together do not read together).
    func refreshBrackets() async {
        guard let rest else { return }
        await refreshContractSizes(rest)
        let timing = services.timing
        let retry = now + timing.stream.backfillRetryMilliseconds
        let hourly = cadence.aligned(
            now + Int64(timing.bracketRefreshSeconds * 1000) / 2, interval: Int64(timing.bracketRefreshSeconds * 1000))
        bracketAttempt += 1
        let weight = rest.venue.rest.leverageBrackets.weight
        guard case .admitted = await scheduler.admit(weight: weight) else {
            bracketsDue = bracketAttempt < timing.bracketAttempts ? retry : hourly
            if bracketsDue == hourly { bracketAttempt = 0 }
            return
        }
        do {
            let response = try await rest.leverageBrackets(offsetMilliseconds: offsetMilliseconds)
            if let used = response.usedWeight { await scheduler.observe(usedWeight: used) }
            await report(.spent(weight), .brackets(response.value))
            bracketAttempt = 0
            bracketsDue = hourly
        } catch {
            await report(.spent(weight))
            await scheduler.absorb(error)
            if case .api(let apiError) = error, apiError.isCredentialProblem || apiError.status == 404 {
                logger.warning(
                    "cannot read leverage brackets; maintenance margin between polls uses the rate of the last poll",
                    metadata: ["error": "\(apiError)"])
                bracketAttempt = 0
                bracketsDue = nil
                return
            }
            logger.debug("leverage brackets not read; retrying", metadata: ["error": "\(error)"])
            bracketsDue = bracketAttempt < timing.bracketAttempts ? retry : hourly
            if bracketsDue == hourly { bracketAttempt = 0 }
        }
    }

    /// COIN-M: the USD value of each contract (`exchangeInfo`, weight 1), read with the brackets
    /// (hourly: dated contracts come and go). Without it the values of a COIN-M position stay the
    /// last poll's until the next one.
    private func refreshContractSizes(_ rest: any AccountREST) async {
        guard let route = rest.venue.rest.exchangeInfo, case .admitted = await scheduler.admit(weight: route.weight) else { return }
        do {
            let response = try await rest.contractSizes()
            if let used = response.usedWeight { await scheduler.observe(usedWeight: used) }
            await report(.spent(route.weight), .contractSizes(response.value))
        } catch {
            await report(.spent(route.weight))
            await scheduler.absorb(error)
            logger.warning("cannot read contract sizes; COIN-M values between polls stay the last poll's", metadata: ["error": "\(error)"])
        }
    }
}
