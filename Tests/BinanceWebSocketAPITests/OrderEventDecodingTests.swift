import Testing

@testable import BinanceWebSocketAPI

/// Order events as Binance sends them (fields as the official SDK's `AlgoUpdateO` and
/// `OrderTradeUpdateO` declare them), decoded into the open-order state protection reads.
@Suite("Order events")
struct OrderEventDecodingTests {
    static func decode(_ text: String) throws -> UserDataEvent {
        try UserDataEventDecoder.decode(try JSONParser.parse(Array(text.utf8)))
    }

    @Test("An armed algo stop is an open order; once triggered or cancelled it is not")
    func algoUpdate() throws {
        let frame = #"""
            {"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL",
            "o":"STOP_MARKET","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.50","X":"NEW","ai":"","ap":"0.00000","aq":"0.00000",
            "act":"0","tp":"590.000","p":"0","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":true,
            "tt":0,"gtd":0,"rm":"","ia":false}}
            """#
        guard case .algoUpdate(let update) = try Self.decode(frame) else {
            Issue.record("not an algo update")
            return
        }
        #expect(update.status == "NEW")
        #expect(update.eventTime == 1_750_515_742_303)
        let order = try #require(update.openOrder)
        #expect(order.service == .algo)
        #expect(order.id == 2_148_719)
        #expect(order.symbol == "BNBUSDT")
        #expect(order.side == "SELL")
        #expect(order.type == "STOP_MARKET")
        #expect(order.quantity == 0.5)
        #expect(order.triggerPrice == 590)
        #expect(order.reduceOnly)
        #expect(!order.closePosition)
        #expect(order.updateTime == 1_750_515_742_297)
        for status in ["TRIGGERING", "TRIGGERED", "FINISHED", "CANCELED", "EXPIRED", "REJECTED"] {
            let ended = try Self.decode(frame.replacingOccurrences(of: #""X":"NEW""#, with: #""X":"\#(status)""#))
            guard case .algoUpdate(let gone) = ended else { continue }
            #expect(gone.openOrder == nil, "\(status) must leave the book")
        }
    }

    @Test("ORDER_TRADE_UPDATE carries the stop price, reduce-only, close-position and what is left to fill")
    func orderTradeUpdate() throws {
        let frame = #"""
            {"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"LIMIT",
            "f":"GTC","q":"0.010","p":"70000","ap":"0","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":8886774,"l":"0.004","z":"0.004",
            "L":"70000","N":"USDT","n":"0.01","T":1568879465650,"t":1,"b":"0","a":"0","m":true,"R":true,"wt":"CONTRACT_PRICE",
            "ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}
            """#
        guard case .orderTradeUpdate(let update) = try Self.decode(frame) else {
            Issue.record("not an order update")
            return
        }
        let order = try #require(update.openOrder)
        #expect(order.service == .plain)
        #expect(order.id == 8_886_774)
        #expect(abs(order.quantity - 0.006) < 1e-12)
        #expect(order.triggerPrice == nil)
        #expect(order.reduceOnly)
        let filled = try Self.decode(frame.replacingOccurrences(of: "PARTIALLY_FILLED", with: "FILLED"))
        guard case .orderTradeUpdate(let done) = filled else { return }
        #expect(done.openOrder == nil)
        let stop = try Self.decode(
            frame.replacingOccurrences(of: #""sp":"0""#, with: #""sp":"65000.5""#).replacingOccurrences(
                of: #""cp":false"#, with: #""cp":true"#
            )
            .replacingOccurrences(of: #""X":"PARTIALLY_FILLED""#, with: #""X":"NEW""#))
        guard case .orderTradeUpdate(let stopUpdate) = stop else { return }
        #expect(stopUpdate.openOrder?.triggerPrice == 65000.5)
        #expect(stopUpdate.openOrder?.closePosition == true)
    }

    @Test("An algo update without its order object is a decode error, not a crash")
    func malformedAlgoUpdate() {
        #expect(throws: DecodeError.self) { try Self.decode(#"{"e":"ALGO_UPDATE","E":1}"#) }
        #expect(throws: DecodeError.self) {
            try Self.decode(#"{"e":"ALGO_UPDATE","E":1,"o":{"aid":"x","s":"A","S":"SELL","o":"STOP","X":"NEW"}}"#)
        }
    }
}
