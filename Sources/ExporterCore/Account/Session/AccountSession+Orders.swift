import BinanceWebSocketAPI

/// The open-order side of a session: the two REST lists (plain and algo orders; the WebSocket API
/// has neither) read at the reconcile cadence and after every stream gap, so that an order event
/// the stream lost is corrected. The stream keeps the book current in between.
///
/// Cost: one call per list and symbol (weight 1 each) for the symbols with a position or a known
/// order, or one call per list for all symbols (weight 40 each) when that is cheaper; and one
/// all-symbol read every `fullOrderListSeconds` (the first within `fullOrderListSpreadSeconds` of
/// start, by the account's phase) to find orders on symbols the account holds no position in.
extension AccountSession {
    /// The interval between two reads: the reconcile interval while the account is followed live,
    /// else the poll interval, but never more often than once a minute.
    var orderListMilliseconds: Int64 {
        let seconds = max(60, cadence.reconcileMilliseconds.map { Double($0) / 1000 } ?? account.intervalSeconds)
        return Int64(seconds * 1000)
    }

    /// A poll succeeded with these positions: they decide which symbols the next read covers
    /// (and which pairs a per-pair mark feed follows); the first successful poll schedules the
    /// first read.
    func positionsPolled(_ data: AccountData) async {
        var symbols = Set(data.status.positions.filter { $0.positionAmount != 0 }.map(\.symbol))
        for detail in data.positionDetails ?? [] where detail.positionAmount != 0 { symbols.insert(detail.symbol) }
        await positionsChanged(symbols)
        if ordersDue == nil, orderListsEnabled {
            ordersDue = now
            let spread = Int64(services.timing.fullOrderListSpreadSeconds * 1000)
            fullOrderListDue = now + Int64(cadence.phase * Double(spread))
        }
    }

    /// The symbols the account holds positions in, from a poll or the stream.
    func positionsChanged(_ symbols: Set<String>) async {
        if symbols != positionSymbols, let feed = services.markFeed { await feed.track(account: account.name, symbols: symbols) }
        positionSymbols = symbols
    }

    /// A stream gap ended: whatever the stream missed is read again.
    func orderGapEnded() {
        if orderListsEnabled, ordersDue != nil { ordersDue = now }
    }

    /// Reads the lists (admitted by the scheduler as one request) and hands the snapshot to the registry. Stops for good (one log line, no
    /// order metrics) when the key may not read them or the venue lacks them.
    func readOrders() async {
        guard let rest, let lists = rest.venue.rest.orderLists else {
            ordersDue = nil
            return
        }
        let timing = services.timing
        let startedAt = Double(now) / 1000
        let perSymbol = lists.services.reduce(Int64(0)) { $0 + (lists.list($1)?.weightPerSymbol ?? 0) }
        let allSymbols = lists.services.reduce(Int64(0)) { $0 + (lists.list($1)?.weightAllSymbols ?? 0) }
        let symbols = positionSymbols.union(orderSymbols)
        let full = (fullOrderListDue.map { $0 <= now } ?? false) || perSymbol * Int64(symbols.count) >= allSymbols
        let targets: [String?] = full ? [nil] : symbols.sorted()
        // The whole read is admitted at once: a read deferred halfway would pay its first lists
        // again when it is retried.
        let weight = full ? allSymbols : perSymbol * Int64(targets.count)
        guard case .admitted = await scheduler.admit(weight: weight) else {
            ordersDue = now + timing.stream.backfillRetryMilliseconds
            return
        }
        var orders: [OpenOrder] = []
        for symbol in targets {
            for service in lists.services {
                switch await readList(rest, service, symbol: symbol) {
                case .orders(let read): orders += read
                case .retry:
                    ordersDue = now + timing.stream.backfillRetryMilliseconds
                    return
                case .refused:
                    ordersRefused = true
                    ordersDue = nil
                    fullOrderListDue = nil
                    return
                }
            }
        }
        orderSymbols = Set(orders.map(\.symbol))
        if full {
            fullOrderListDue = now + Int64(timing.fullOrderListSeconds * 1000)
        }
        await registry.apply(
            account: account.name,
            stream: .orders(
                OrderSnapshot(
                    symbols: full ? nil : Set(symbols), services: Set(lists.services), orders: orders, startedAt: startedAt)))
        let interval = orderListMilliseconds
        ordersDue = cadence.aligned(now + interval / 2, interval: interval)
        logger.debug("open orders read", metadata: ["orders": "\(orders.count)", "calls": "\(targets.count * lists.services.count)"])
    }

    private enum ListAnswer {
        case orders([OpenOrder])
        case retry
        case refused
    }

    private func readList(_ rest: any AccountREST, _ service: OrderService, symbol: String?) async -> ListAnswer {
        guard let list = rest.venue.rest.orderLists?.list(service) else { return .orders([]) }
        let weight = list.route(symbol: symbol).weight
        do {
            let response = try await rest.openOrders(service, symbol: symbol, offsetMilliseconds: offsetMilliseconds)
            if let used = response.usedWeight { await scheduler.observe(usedWeight: used) }
            await report(.spent(weight))
            return .orders(response.value)
        } catch {
            await report(.spent(weight))
            await scheduler.absorb(error)
            if case .api(let apiError) = error, apiError.isCredentialProblem || apiError.status == 404 {
                logger.warning(
                    "cannot read open orders; order counts and position protection are not exported for this account",
                    metadata: ["route": "GET \(list.path)", "error": "\(apiError)"])
                return .refused
            }
            logger.debug("open orders not read; retrying", metadata: ["route": "GET \(list.path)", "error": "\(error)"])
            return .retry
        }
    }

    /// The weight per minute the reads take in steady state, for the scheduler's shares.
    var orderDemandPerMinute: Double {
        guard orderListsEnabled, let lists = rest?.venue.rest.orderLists else { return 0 }
        let perSymbol = lists.services.reduce(Int64(0)) { $0 + (lists.list($1)?.weightPerSymbol ?? 0) }
        let allSymbols = lists.services.reduce(Int64(0)) { $0 + (lists.list($1)?.weightAllSymbols ?? 0) }
        let symbols = Int64(max(1, positionSymbols.union(orderSymbols).count))
        let read = Double(min(perSymbol * symbols, allSymbols)) * 60_000 / Double(orderListMilliseconds)
        return read + Double(allSymbols) * 60 / services.timing.fullOrderListSeconds
    }

    var orderListsEnabled: Bool { !ordersRefused && rest?.venue.rest.orderLists != nil }
}
