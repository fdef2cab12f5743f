import Foundation
import Testing

@testable import BinanceWebSocketAPI

func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return Array(try Data(contentsOf: url))
}

func envelope(_ name: String) throws -> ResponseEnvelope {
    guard case .response(let envelope) = try EnvelopeClassifier.classify(try JSONParser.parse(try fixture(name))) else {
        Issue.record("not a response")
        throw DecodeError(path: "", problem: "not a response")
    }
    return envelope
}

/// The seed's two `account.status` examples and v2 payloads decode to exact values.
@Suite struct FixtureDecodingTests {
    @Test func seedSingleAssetExample() throws {
        let env = try envelope("account_status_v1_single_asset.json")
        #expect(env.id == "605a6d20-6588-4cb9-afa0-b0ab087507ba")
        #expect(env.rateLimit == RateLimitStatus(limit: 2400, count: 20))
        let status = try ResultDecoder.accountStatus(try #require(env.result), version: .v1)
        #expect(status.flags == AccountFlags(feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, multiAssetsMargin: false))
        #expect(status.totals?.walletBalance == 23.72469206)
        #expect(status.totals?.marginBalance == 23.72469206)
        #expect(status.totals?.maxWithdrawAmount == 23.72469206)
        #expect(status.assets.map(\.asset) == ["USDT", "BUSD"])
        #expect(status.assets[0].availableBalance == 126.72469206)
        #expect(status.assets[1].walletBalance == 103.12345678)
        #expect(status.assets[0].marginAvailable == true)
        #expect(status.assets[0].updateTime == 1_625_474_304_765)
        let row = try #require(status.positions.first)
        #expect(row.symbol == "BTCUSDT")
        #expect(row.leverage == 100)
        #expect(row.isolated == true)
        #expect(row.maxNotional == 250_000)
        #expect(row.breakEvenPrice == nil)
        #expect(!row.isOpen)
    }

    @Test func seedMultiAssetsExample() throws {
        let env = try envelope("account_status_v1_multi_assets.json")
        let status = try ResultDecoder.accountStatus(try #require(env.result), version: .v1)
        #expect(status.flags?.multiAssetsMargin == true)
        #expect(status.totals?.walletBalance == 126.72469206)
        #expect(status.assets[0].availableBalance == 23.72469206)
        #expect(status.positions[0].breakEvenPrice == 0)
    }

    @Test func v2StatusWithHedgeRowsAndUnknownFields() throws {
        let env = try envelope("account_status_v2_hedge.json")
        #expect(env.rateLimit == RateLimitStatus(limit: 2400, count: 35), "REQUEST_WEIGHT is looked up by type, not index")
        let status = try ResultDecoder.accountStatus(try #require(env.result), version: .v2)
        #expect(status.flags == nil)
        #expect(status.positions.count == 2)
        #expect(status.positions[1].positionSide == "SHORT")
        #expect(status.positions[1].positionAmount == -0.1)
        #expect(status.positions[1].notional == -6424.655)
        #expect(status.positions[0].leverage == nil)
        #expect(status.assets[0].marginAvailable == nil)
    }

    @Test func v2Positions() throws {
        let env = try envelope("account_position_v2.json")
        let rows = try ResultDecoder.positions(try #require(env.result))
        #expect(rows.count == 2)
        #expect(rows[0].markPrice == 0.4104759)
        #expect(rows[0].adl == 2)
        #expect(rows[1].liquidationPrice == 3883.75)
        #expect(rows[1].isolatedWallet == 247.15)
        #expect(rows[1].marginAsset == "USDT")
    }

    @Test func v1PositionsWithStringBoolean() throws {
        let rows = try ResultDecoder.positions(try #require(try envelope("account_position_v1.json").result))
        #expect(rows[0].isAutoAddMargin == false)
        #expect(rows[0].marginType == "isolated")
        #expect(rows[0].maxNotionalValue == 20_000_000)
    }

    @Test func missingFieldIsNamed() throws {
        var text = String(decoding: try fixture("account_status_v2_hedge.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"positionAmt\":\"-0.100\",", with: "")
        let env = try #require(
            {
                if case .response(let e) = try EnvelopeClassifier.classify(try JSONParser.parse(text)) { return e }; return nil
            }())
        #expect(throws: DecodeError(path: "result.positions[1].positionAmt", problem: "missing")) {
            try ResultDecoder.accountStatus(try #require(env.result), version: .v2)
        }
    }

    @Test(arguments: ["\"NaN\"", "\"inf\"", "\"0x1p3\"", "\"\"", "\"1.2.3\"", "true", "\"12abc\""])
    func malformedDecimalIsNamedNotTrapped(value: String) throws {
        let text =
            #"{"id":"1","status":200,"result":[{"symbol":"X","positionSide":"BOTH","positionAmt":\#(value),"entryPrice":"1","markPrice":"1","unRealizedProfit":"0","liquidationPrice":"0","updateTime":0}]}"#
        guard case .response(let env) = try EnvelopeClassifier.classify(try JSONParser.parse(text)) else {
            Issue.record("not a response")
            return
        }
        #expect(throws: DecodeError.self) { try ResultDecoder.positions(try #require(env.result)) }
        do {
            _ = try ResultDecoder.positions(try #require(env.result))
        } catch let error as DecodeError {
            #expect(error.path == "result[0].positionAmt")
        }
    }

    @Test func errorEnvelopeCarriesRateLimitData() throws {
        let text =
            #"{"id":"9","status":429,"error":{"code":-1003,"msg":"Too many requests","data":{"serverTime":1770000000000,"retryAfter":1770000060000}},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":2401}]}"#
        guard case .response(let env) = try EnvelopeClassifier.classify(try JSONParser.parse(text)) else {
            Issue.record("not a response")
            return
        }
        let error = try #require(env.apiError(method: "v2/account.status"))
        #expect(error.isRateLimited)
        #expect(error.retryAfter == 1_770_000_060_000)
        #expect(error.serverTime == 1_770_000_000_000)
        #expect(error.rateLimit?.count == 2401)
    }

    @Test func banTimeParsedFromMessageWhenDataMissing() throws {
        let text =
            #"{"id":"9","status":418,"error":{"code":-1003,"msg":"Way too many requests; IP banned until 1770123456789. Please use the websocket for live updates to avoid bans."}}"#
        guard case .response(let env) = try EnvelopeClassifier.classify(try JSONParser.parse(text)) else {
            Issue.record("not a response")
            return
        }
        #expect(env.apiError(method: "m")?.retryAfter == 1_770_123_456_789)
        #expect(env.apiError(method: "m")?.isBanned == true)
    }

    @Test func eventsAndNullIdsAreClassified() throws {
        guard
            case .event(let type, let time) = try EnvelopeClassifier.classify(
                try JSONParser.parse(#"{"event":{"e":"serverShutdown","E":1770123456789}}"#))
        else {
            Issue.record("not an event")
            return
        }
        #expect(type == "serverShutdown")
        #expect(time == 1_770_123_456_789)
        guard
            case .response(let env) = try EnvelopeClassifier.classify(
                try JSONParser.parse(
                    #"{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#))
        else {
            Issue.record("not a response")
            return
        }
        #expect(env.id == nil)
        #expect(env.apiError(method: "session")?.isCredentialProblem == true)
    }
}

@Suite struct JSONParserTests {
    @Test func parsesEscapesAndUnicode() throws {
        let value = try JSONParser.parse(#"{"a":"x\"y\\z\n\u00e9\ud83d\ude00","b":[1,-2.5e3,true,false,null],"c":{}}"#)
        #expect(value["a"] == .string("x\"y\\z\né😀"))
        #expect(value["b"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(value["c"] == .object(JSONObject()))
    }

    @Test(arguments: [
        "", "{", "{\"a\":", "{\"a\":1,}", "[1,2", "\"abc", "{\"a\" 1}", "01", "-", "1.", "1e", "tru", "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\x\"}", "[1] x", "\u{0}", "{\"a\":\"\u{1}\"}",
    ])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func truncatedFixtureFailsCleanly() throws {
        let bytes = try fixture("account_status_v1_single_asset.json")
        for cut in stride(from: 1, to: bytes.count, by: 97) {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes.prefix(cut)) }
        }
    }
}
