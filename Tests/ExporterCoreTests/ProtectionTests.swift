import Testing

@testable import BinanceWebSocketAPI
@testable import ExporterCore

/// The question a trader asks before going to sleep: would this position be closed by a stop
/// before it is liquidated, and for how much of it? Situations, in plain numbers.
@Suite("Position protection")
struct ProtectionTests {
    static func algo(
        _ id: Int64, _ symbol: String = "BTCUSDT", side: String = "SELL", positionSide: String = "BOTH", type: String = "STOP_MARKET",
        quantity: Double = 0, trigger: Double?, reduceOnly: Bool = true, closePosition: Bool = false
    ) -> OpenOrder {
        OpenOrder(
            service: .algo, id: id, symbol: symbol, side: side, positionSide: positionSide, type: type, quantity: quantity,
            triggerPrice: trigger, reduceOnly: reduceOnly, closePosition: closePosition, updateTime: 1)
    }

    static let long = Protection.Position(symbol: "BTCUSDT", positionSide: "BOTH", amount: 0.5, markPrice: 60_000)
    static let short = Protection.Position(symbol: "BTCUSDT", positionSide: "BOTH", amount: -2, markPrice: 60_000)

    static func one(_ position: Protection.Position, _ orders: [OpenOrder]) throws -> PositionProtection {
        try #require(Protection.evaluate([position], orders: orders).first)
    }

    @Test("A long with no orders is unprotected: both ratios 0, no stop price")
    func unprotected() throws {
        let result = try Self.one(Self.long, [])
        #expect(result.stopLoss == 0)
        #expect(result.takeProfit == 0)
        #expect(result.stopPrice == nil)
    }

    @Test("A close-position stop below the mark covers the whole long; a take profit above it is the other kind")
    func closePositionStopAndTakeProfit() throws {
        let result = try Self.one(
            Self.long,
            [
                Self.algo(1, trigger: 57_000, reduceOnly: false, closePosition: true),
                Self.algo(2, type: "TAKE_PROFIT_MARKET", quantity: 0.25, trigger: 66_000),
            ])
        #expect(result.stopLoss == 1)
        #expect(result.takeProfit == 0.5)
        #expect(result.stopPrice == 57_000)
    }

    @Test("Two partial stops add up, capped at the whole position; the stop nearest the mark is the one exported")
    func partialStopsAddUp() throws {
        let half = try Self.one(Self.long, [Self.algo(1, quantity: 0.25, trigger: 55_000)])
        #expect(half.stopLoss == 0.5)
        let more = try Self.one(Self.long, [Self.algo(1, quantity: 0.25, trigger: 55_000), Self.algo(2, quantity: 0.5, trigger: 58_000)])
        #expect(more.stopLoss == 1)
        #expect(more.stopPrice == 58_000)
    }

    @Test("Orders that would open, not close, protect nothing: same side, not reduce-only in one-way mode, other symbol")
    func openingOrdersDoNotProtect() throws {
        let result = try Self.one(
            Self.long,
            [
                Self.algo(1, side: "BUY", quantity: 0.5, trigger: 57_000),
                Self.algo(2, quantity: 0.5, trigger: 57_000, reduceOnly: false),
                Self.algo(3, "ETHUSDT", quantity: 0.5, trigger: 57_000),
                OpenOrder(
                    service: .plain, id: 4, symbol: "BTCUSDT", side: "SELL", positionSide: "BOTH", type: "LIMIT", quantity: 0.5,
                    triggerPrice: nil, reduceOnly: true, closePosition: false, updateTime: 1),
            ])
        #expect(result.stopLoss == 0)
        #expect(result.takeProfit == 0)
    }

    @Test("A short is mirrored: its stop is a BUY above the mark, its take profit a BUY below")
    func shortMirrored() throws {
        let result = try Self.one(
            Self.short,
            [
                Self.algo(1, side: "BUY", quantity: 2, trigger: 63_000), Self.algo(2, side: "BUY", quantity: 1, trigger: 61_000),
                Self.algo(3, side: "BUY", type: "TAKE_PROFIT_MARKET", quantity: 1, trigger: 50_000),
            ])
        #expect(result.stopLoss == 1)
        #expect(result.takeProfit == 0.5)
        #expect(result.stopPrice == 61_000)
    }

    @Test("Hedge mode: each leg on its own, by position side (reduce-only is not sent there)")
    func hedgeLegs() throws {
        let longLeg = Protection.Position(symbol: "BTCUSDT", positionSide: "LONG", amount: 1, markPrice: 60_000)
        let shortLeg = Protection.Position(symbol: "BTCUSDT", positionSide: "SHORT", amount: -1, markPrice: 60_000)
        let orders = [
            Self.algo(1, positionSide: "LONG", quantity: 1, trigger: 58_000, reduceOnly: false),
            Self.algo(2, side: "BUY", positionSide: "SHORT", quantity: 0.4, trigger: 62_000, reduceOnly: false),
        ]
        let results = Protection.evaluate([longLeg, shortLeg], orders: orders)
        #expect(results.map(\.positionSide) == ["LONG", "SHORT"])
        #expect(results.map(\.stopLoss) == [1, 0.4])
        #expect(results.map(\.stopPrice) == [58_000, 62_000])
    }

    @Test("A trailing stop is a stop loss wherever its activation price is; a plain (legacy) stop order counts too")
    func trailingAndPlainStops() throws {
        let result = try Self.one(
            Self.long,
            [
                Self.algo(1, type: "TRAILING_STOP_MARKET", quantity: 0.25, trigger: 65_000),
                OpenOrder(
                    service: .plain, id: 2, symbol: "BTCUSDT", side: "SELL", positionSide: "BOTH", type: "STOP_MARKET", quantity: 0.25,
                    triggerPrice: 59_000, reduceOnly: true, closePosition: false, updateTime: 1),
            ])
        #expect(result.stopLoss == 1)
        #expect(result.takeProfit == 0)
    }

    @Test("Without a mark the order type decides, and the highest stop of a long fires first")
    func noMark() throws {
        var long = Self.long
        long.markPrice = nil
        let result = try Self.one(
            long,
            [
                Self.algo(1, quantity: 0.25, trigger: 50_000), Self.algo(2, quantity: 0.25, trigger: 55_000),
                Self.algo(3, type: "TAKE_PROFIT", quantity: 0.5, trigger: 70_000),
            ])
        #expect(result.stopLoss == 1)
        #expect(result.takeProfit == 1)
        #expect(result.stopPrice == 55_000)
    }

    @Test("A closed position (amount 0) is not evaluated")
    func closedPosition() {
        var closed = Self.long
        closed.amount = 0
        #expect(Protection.evaluate([closed], orders: [Self.algo(1, quantity: 1, trigger: 1)]).isEmpty)
    }
}

/// The order book: events keep it current; a REST snapshot corrects what the stream lost without
/// undoing what the stream reported while the snapshot was being read.
@Suite("Order book")
struct OrderBookTests {
    static func event(_ status: String, id: Int64, symbol: String = "BTCUSDT") -> UserDataEvent {
        .algoUpdate(AlgoUpdate(eventTime: 1, status: status, order: ProtectionTests.algo(id, symbol, quantity: 1, trigger: 50_000)))
    }

    @Test("Unknown until the first snapshot, whatever the stream said")
    func unknownUntilRead() {
        var book = OrderBook()
        book.apply(Self.event("NEW", id: 1), now: 10)
        #expect(!book.isKnown)
        book.reconcile(OrderSnapshot(symbols: nil, services: [.plain, .algo], orders: [], startedAt: 20))
        #expect(book.isKnown)
        #expect(book.openOrders.isEmpty)
    }

    @Test("A stop cancelled while the stream was down disappears at the next read; one placed then appears")
    func snapshotCorrects() {
        var book = OrderBook()
        book.reconcile(
            OrderSnapshot(
                symbols: nil, services: [.plain, .algo], orders: [ProtectionTests.algo(1, quantity: 1, trigger: 5)], startedAt: 0))
        let later = OrderSnapshot(
            symbols: ["BTCUSDT"], services: [.plain, .algo], orders: [ProtectionTests.algo(2, quantity: 1, trigger: 5)], startedAt: 50)
        book.reconcile(later)
        #expect(book.openOrders.map(\.id) == [2])
    }

    @Test("Events that arrived while the read was under way are applied again over it")
    func eventsDuringReadSurvive() {
        var book = OrderBook()
        book.reconcile(OrderSnapshot(symbols: nil, services: [.plain, .algo], orders: [], startedAt: 0))
        book.apply(Self.event("NEW", id: 7), now: 100)
        book.apply(Self.event("NEW", id: 8), now: 90)
        book.apply(Self.event("CANCELED", id: 8), now: 101)
        // Read from 99: it predates order 7 and the cancel of 8, but saw 8 still open.
        book.reconcile(
            OrderSnapshot(
                symbols: nil, services: [.plain, .algo], orders: [ProtectionTests.algo(8, quantity: 1, trigger: 5)], startedAt: 99))
        #expect(book.openOrders.map(\.id) == [7])
    }

    @Test("A per-symbol read leaves other symbols' orders alone")
    func perSymbolRead() {
        var book = OrderBook()
        book.reconcile(
            OrderSnapshot(
                symbols: nil, services: [.plain, .algo],
                orders: [ProtectionTests.algo(1, "ETHUSDT", quantity: 1, trigger: 5), ProtectionTests.algo(2, quantity: 1, trigger: 5)],
                startedAt: 0))
        book.reconcile(OrderSnapshot(symbols: ["BTCUSDT"], services: [.plain, .algo], orders: [], startedAt: 10))
        #expect(book.openOrders.map(\.id) == [1])
        #expect(book.countsBySymbolAndType == [OrderBook.SymbolType(symbol: "ETHUSDT", type: "stop_market"): 1])
    }
}
