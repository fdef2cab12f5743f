import Testing

@testable import BinanceWebSocketAPI

/// Mark price rows as the two hosts send them: fstream's array carries both venues' symbols
/// (`st`), and a COIN-M pair's stream carries its dated contracts, which have no funding.
@Suite("Mark price rows")
struct MarkRowDecodingTests {
    static func rows(_ text: String) throws -> [JSONValue] {
        guard case .array(let rows) = try JSONParser.parse(Array(text.utf8)) else { return [] }
        return rows
    }

    @Test("a dated contract's empty funding rate and zero funding time are absent, not a broken frame")
    func datedContract() throws {
        let rows = try Self.rows(
            #"""
            [{"e":"markPriceUpdate","E":1,"s":"BTCUSD_PERP","p":"64145.5","P":"64151.9","i":"64139.0","r":"0.00010000","T":1796313600000,"st":2},
             {"e":"markPriceUpdate","E":1,"s":"BTCUSD_261225","p":"64428.7","P":"64435.2","i":"64422.3","r":"","T":0,"st":2}]
            """#)
        let updates = try MarketStreamConnection.decode(rows, rowTag: 2)
        #expect(updates.map(\.symbol) == ["BTCUSD_PERP", "BTCUSD_261225"])
        #expect(updates[1].markPrice == 64428.7)
        #expect(updates[1].fundingRate == nil)
        #expect(updates[1].nextFundingTime == nil)
        #expect(updates[0].fundingRate == 0.0001)
    }

    @Test("each venue drops the other venue's tagged rows; untagged rows (before the migration) are the host's own")
    func rowTags() throws {
        let rows = try Self.rows(
            #"[{"s":"BTCUSDT","p":"1","E":1,"st":1},{"s":"BTCUSD_PERP","p":"2","E":1,"st":2},{"s":"ETHUSDT","p":"3","E":1}]"#)
        #expect(try MarketStreamConnection.decode(rows, rowTag: 1).map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
        #expect(try MarketStreamConnection.decode(rows, rowTag: 2).map(\.symbol) == ["BTCUSD_PERP", "ETHUSDT"])
        #expect(throws: DecodeError.self) { try MarketStreamConnection.decode(try Self.rows(#"[{"s":"X","p":"1","r":"abc"}]"#)) }
    }
}
