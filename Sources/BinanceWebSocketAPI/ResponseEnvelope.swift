/// A classified inbound text frame (binance-ws-api.md §2.5).
public enum InboundMessage: Sendable {
    /// The answer to a request (`id` normalised to a string) or a session-level error (`id` nil).
    case response(ResponseEnvelope)
    /// An unsolicited connection event such as `serverShutdown`.
    case event(type: String, time: Int64?)
    /// Valid JSON that is neither.
    case unknown
}

public struct ResponseEnvelope: Sendable {
    public var id: String?
    public var status: Int
    public var result: JSONValue?
    public var error: (code: Int, message: String, retryAfter: Int64?, serverTime: Int64?)?
    public var rateLimit: RateLimitStatus?

    func apiError(method: String) -> APIError? {
        guard status != 200 || error != nil else { return nil }
        return APIError(
            method: method, status: status, code: error?.code ?? 0, message: error?.message ?? "HTTP-like status \(status)",
            retryAfter: error?.retryAfter, serverTime: error?.serverTime, rateLimit: rateLimit)
    }
}

enum EnvelopeClassifier {
    static func classify(_ value: JSONValue) throws(DecodeError) -> InboundMessage {
        guard case .object(let object) = value else { return .unknown }
        if let event = object["event"] {
            let reader = try FieldReader(event, path: "event")
            return .event(type: try reader.optionalString("e") ?? "", time: try reader.optionalInt64("E"))
        }
        guard object["status"] != nil else { return .unknown }
        let frame = try FieldReader(value, path: "frame")
        let id: String?
        switch object["id"] {
        case .string(let text): id = text
        case .number(let text): id = text
        default: id = nil
        }
        var envelope = ResponseEnvelope(id: id, status: Int(try frame.int64("status")), result: object["result"])
        if let errorValue = object["error"], errorValue != .null {
            let error = try FieldReader(errorValue, path: "error")
            var retryAfter: Int64?
            var serverTime: Int64?
            if let data = error.object["data"], case .object = data {
                let dataReader = try FieldReader(data, path: "error.data")
                retryAfter = try dataReader.optionalInt64("retryAfter")
                serverTime = try dataReader.optionalInt64("serverTime")
            }
            let message = try error.optionalString("msg") ?? ""
            if retryAfter == nil, envelope.status == 418 { retryAfter = Self.banEnd(from: message) }
            envelope.error = (Int(try error.int64("code")), message, retryAfter, serverTime)
        }
        if case .array(let limits) = object["rateLimits"] {
            for (index, entry) in limits.enumerated() {
                let reader = try FieldReader(entry, path: "rateLimits[\(index)]")
                guard try reader.optionalString("rateLimitType") == "REQUEST_WEIGHT" else { continue }
                envelope.rateLimit = RateLimitStatus(limit: try reader.int64("limit"), count: try reader.int64("count"))
            }
        }
        return .response(envelope)
    }

    /// "Way too many requests; IP banned until 1770123456789." → 1770123456789.
    static func banEnd(from message: String) -> Int64? {
        guard let range = message.range(of: "until ") else { return nil }
        let digits = message[range.upperBound...].prefix { $0.isNumber }
        return Int64(digits)
    }
}

extension InboundMessage {
    /// Parses and classifies one inbound text frame — what the connection does for every frame.
    public static func decode(frame bytes: some Collection<UInt8>) throws -> InboundMessage {
        try EnvelopeClassifier.classify(try JSONParser.parse(bytes))
    }
}
