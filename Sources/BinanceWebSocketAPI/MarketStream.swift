import Logging
import NIOCore
import NIOPosix

/// One symbol's entry of the all-symbols mark price stream (`!markPrice@arr@1s`; fields as the official SDK's
/// `MarkPriceStreamForAllMarketResponseInner`: `e E s p i P r ap T st`).
public struct MarkPriceUpdate: Sendable, Equatable {
    public var symbol: String
    public var markPrice: Double
    public var indexPrice: Double?
    /// `r`: the current funding rate.
    public var fundingRate: Double?
    /// `T`: the next funding time (ms).
    public var nextFundingTime: Int64?
    public var eventTime: Int64
}

/// What the market stream connection reports.
public enum MarketStreamEvent: Sendable, Equatable {
    case markPrices([MarkPriceUpdate])
    case malformed(String)
    case closed(reason: CloseReason)
}

/// The public mark-price feed: one connection to `…/market/stream` subscribed to the venue's
/// all-symbols mark price stream (`FuturesVenue.MarketStream`), every symbol once a second, at
/// no request weight. Rows of another venue (a different `st`, which the market stream may carry
/// after Binance's migration) are dropped.
public actor MarketStreamConnection {
    /// USDⓈ-M's all-symbols mark price stream.
    public static var allMarkPrices: String { FuturesVenue.MarketStream.usdM.allMarkPrices }
    private let venue: FuturesVenue.MarketStream
    private let transport: WebSocketTransport
    private var readerTask: Task<Void, Never>?
    private var closedReason: CloseReason?
    private let continuation: AsyncStream<MarketStreamEvent>.Continuation
    public nonisolated let events: AsyncStream<MarketStreamEvent>
    public nonisolated let connectedAt: Int64

    /// Connects to `base` (the venue's market stream host, e.g. `wss://fstream.binance.com/market`)
    /// and subscribes to the mark price streams that carry `symbols` (the all-symbols stream on
    /// USDⓈ-M, whatever `symbols` holds; one stream per pair on COIN-M).
    public static func connect(
        base: WebSocketURL, venue: FuturesVenue.MarketStream = .usdM, symbols: Set<String> = [],
        transport configuration: TransportConfiguration, clock: WallClock = .system,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BinanceClientError) -> MarketStreamConnection {
        let transport = try await WebSocketTransport.connect(
            url: StreamLayout.combined.url(base: base), configuration: configuration, group: group)
        let connection = MarketStreamConnection(transport: transport, venue: venue, connectedAt: clock.nowMilliseconds())
        await connection.start()
        try await connection.subscribe(venue.streams(for: symbols))
        return connection
    }

    private var subscribed: Set<String> = []
    private var nextRequestID = 0

    /// Subscribes the streams not yet subscribed (a new pair held on COIN-M); nothing to send
    /// when every one already is.
    public func subscribe(_ streams: Set<String>) async throws(BinanceClientError) {
        let missing = streams.subtracting(subscribed).sorted()
        guard !missing.isEmpty else { return }
        nextRequestID += 1
        let subscribe =
            "{\"method\":\"SUBSCRIBE\",\"params\":[\(missing.map(JSONString.quote).joined(separator: ","))],\"id\":\(nextRequestID)}"
        subscribed.formUnion(missing)
        try await transport.send(text: subscribe)
    }

    private init(transport: WebSocketTransport, venue: FuturesVenue.MarketStream, connectedAt: Int64) {
        self.transport = transport
        self.venue = venue
        self.connectedAt = connectedAt
        (events, continuation) = AsyncStream.makeStream(of: MarketStreamEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    private func start() { readerTask = TransportReader.start(transport.events, for: self) }

    private func report(_ event: MarketStreamEvent) { continuation.yield(event) }

    private func receive(_ bytes: [UInt8]) {
        do {
            let value = try JSONParser.parse(bytes)
            guard case .object(let object) = value else { throw DecodeError(path: "frame", problem: "not an object") }
            if object["result"] != nil || object["id"] != nil { return }  // the SUBSCRIBE answer
            let data = object["data"] ?? value
            guard case .array(let rows) = data else { throw DecodeError(path: "data", problem: "expected an array") }
            report(.markPrices(try Self.decode(rows, rowTag: venue.rowTag)))
        } catch let error as DecodeError {
            report(.malformed(error.description))
        } catch {
            report(.malformed("not JSON (\(bytes.count) bytes)"))
        }
    }

    /// The rows of `rows` tagged `rowTag` (`st`; untagged rows count as this venue's).
    static func decode(_ rows: [JSONValue], rowTag: Int64 = FuturesVenue.MarketStream.usdM.rowTag) throws(DecodeError) -> [MarkPriceUpdate]
    {
        var out: [MarkPriceUpdate] = []
        out.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let reader = try FieldReader(row, path: "data[\(index)]")
            if let tag = try reader.optionalInt64("st"), tag != rowTag { continue }
            out.append(
                MarkPriceUpdate(
                    symbol: try reader.string("s"), markPrice: try reader.decimal("p"), indexPrice: try reader.optionalDecimal("i"),
                    fundingRate: try reader.optionalDecimalOrEmpty("r"),
                    nextFundingTime: try reader.optionalInt64("T").flatMap { $0 > 0 ? $0 : nil },
                    eventTime: try reader.optionalInt64("E") ?? 0))
        }
        return out
    }

    private func didClose(_ reason: CloseReason) {
        guard closedReason == nil else { return }
        closedReason = reason
        continuation.yield(.closed(reason: reason))
        continuation.finish()
    }

    public func close() async {
        await transport.close()
        didClose(.closedByClient)
        readerTask?.cancel()
    }
}

extension MarketStreamConnection: TransportReading {
    nonisolated static func prepare(_ bytes: [UInt8]) -> [UInt8] { bytes }
    func receive(_ frame: [UInt8], size: Int) { receive(frame) }
    func receiveUnexpected(_ what: String) { report(.malformed("unexpected \(what)")) }
    func transportClosed(_ reason: CloseReason) { didClose(reason) }
}
