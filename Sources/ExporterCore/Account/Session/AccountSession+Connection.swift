import BinanceWebSocketAPI

/// What the connection's lifecycle allows before a request.
enum Readiness {
    case ready(any AccountConnection)
    /// Not now; `until` (exchange ms) when the scheduler deferred the connect.
    case skipped(PollSkip, until: Int64?)
    /// Binance rejected the key.
    case stopped
}

extension AccountSession {
    /// Does what the lifecycle says before a request: use, open, or rotate the connection.
    func prepareConnection() async throws(BinanceClientError) -> Readiness {
        switch lifecycle.pollDue(now: now) {
        case .stop:
            return .stopped
        case .skip(let skip):
            return .skipped(skip, until: nil)
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
            case .deferred(let why, let until): return .skipped(.deferred(why), until: until)
            case .opened(let fresh): return .ready(fresh)
            }
        case .rotate(let reason):
            // Make-before-break: the old connection serves until the new one is ready.
            let old = connection
            switch try await open(reason: reason) {
            case .deferred:
                if let old { return .ready(old) }
                return .skipped(.backoff, until: nil)
            case .opened(let fresh):
                if let old, old !== fresh { await old.close() }
                return .ready(fresh)
            }
        }
    }

    private enum Opening {
        case opened(any AccountConnection)
        case deferred(DeferralReason, until: Int64)
    }

    private func open(reason: ReconnectReason?) async throws(BinanceClientError) -> Opening {
        // No session to log on to without a WebSocket API (Portfolio Margin signs every request).
        let logsOn = account.credentials.signer.keyType.supportsSessionLogon && account.venue.webSocketAPI != nil
        let handshakeWeight = account.venue.pollWeights.handshakeWeight
        let setupWeight =
            handshakeWeight + ledger.weight(of: .sessionStatus) * Int64(services.timing.clockSyncSamples)
            + (logsOn ? ledger.weight(of: .sessionLogon) : 0)
        if case .deferred(let why, let until) = await scheduler.admit(weight: setupWeight) {
            return .deferred(why, until: until)
        }
        let fresh: any AccountConnection
        do {
            fresh = try await services.connector.open(account.credentials, logger)
        } catch {
            await report(.spent(handshakeWeight))
            lifecycle.openFailed(retryAt: now + backoffDelay())
            await scheduler.absorb(error)
            logger.warning("connect failed", metadata: ["error": "\(error)", "url": "\(services.connector.url)"])
            throw error
        }
        await report(.spent(handshakeWeight))
        await fresh.setRequestTimeout(requestDeadline)
        do {
            // The clock first: session.logon carries a signed timestamp.
            try await synchroniseClock(on: fresh)
            if logsOn {
                let status = try await fresh.logon()
                await charge(.sessionLogon, status.rateLimit)
            }
        } catch {
            await fresh.close()
            lifecycle.openFailed(retryAt: now + backoffDelay())
            throw error
        }
        connection = fresh
        unmonitored.append(fresh)
        lifecycle.opened(now: now)
        await report(.connected(reason: reason))
        logger.info("connected", metadata: ["url": "\(services.connector.url)", "reason": "\(reason?.rawValue ?? "initial")"])
        return .opened(fresh)
    }

    func synchroniseClock(on connection: any AccountConnection) async throws(BinanceClientError) {
        let samples = services.timing.clockSyncSamples
        let sync = try await connection.synchroniseClock(samples: samples)
        lastClockSync = now
        offsetMilliseconds = sync.offset
        ledger.observe(sync.rateLimit, now: now)
        await scheduler.observe(sync.rateLimit)
        await scheduler.setClockOffset(milliseconds: sync.offset)
        await report(.spent(ledger.weight(of: .sessionStatus) * Int64(samples)), .clockOffset(seconds: Double(sync.offset) / 1000))
    }

    private func backoffDelay() -> Int64 { Int64(backoff.nextDelay(random: services.random) * 1000) }

    /// An event of a connection this session opened (possibly one it has since replaced).
    func handle(event: ConnectionEvent, from source: any AccountConnection) async {
        guard let current = connection, current === source else { return }
        switch event {
        case .serverShutdown:
            // Rotate now rather than at the next poll (the old connection is about to go): the
            // loop is serial, so any poll on it has finished. Make-before-break.
            guard lifecycle.serverShutdown() else { return }
            _ = try? await prepareConnection()
        case .sessionError(let code, let message):
            let error = APIError(method: "session", status: 401, code: code, message: message)
            if error.isCredentialProblem { await stop(because: error) }
        case .protocolError(let what):
            logger.warning("malformed frame from Binance", metadata: ["problem": "\(what)"])
            await report(.error(.decode))
        case .closed(let reason):
            connection = nil
            lifecycle.closed(reason)
            await report(.disconnected)
            logger.info("connection closed", metadata: ["reason": "\(reason)"])
        }
    }

    /// `used` is the connection the failed request went over; only that one is closed.
    func handle(_ error: BinanceClientError, on used: (any AccountConnection)?) async {
        switch error {
        case .api(let apiError):
            // Refused requests (429/418) cost nothing; any other answer was charged.
            if await scheduler.absorb(error) {
                ledger.observe(apiError.rateLimit, now: now)
                return
            }
            await charge(apiError.method, apiError.rateLimit)
            if apiError.isCredentialProblem {
                await stop(because: apiError)
            } else {
                logger.warning("poll failed", metadata: ["error": "\(apiError)"])
            }
        case .timeout, .transport, .connectionClosed:
            logger.warning("poll failed; reconnecting with backoff", metadata: ["error": "\(error)"])
            if let connection, connection === used {
                self.connection = nil
                // Closed under the request (missed pong, close frame): the close's reason is the
                // reconnect's, though its event is still queued behind this poll.
                if let reason = await connection.closeReason { lifecycle.closed(reason) }
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

    func stop(because error: APIError) async {
        guard !lifecycle.isStopped else { return }
        lifecycle.credentialsRejected()
        cadence.stop()
        logger.error(
            "Binance rejected this account's API key; polling stopped until the key is fixed and the exporter reloaded (SIGHUP) or restarted",
            metadata: [
                "code": "\(error.code)", "message": "\(error.message)", "venue": "\(account.venue.id.rawValue)",
                "likely_causes": "\(KeyRejection.likelyCauses(venue: account.venue.id))",
            ])
        await report(.stopped(.credentialsRejected))
        await scheduler.unregister(account: account.name)
        if let connection {
            self.connection = nil
            await connection.close()
        }
    }
}
