import Foundation
import NIOCore
import NIOPosix

/// Sends raw bytes to 127.0.0.1:port and collects everything until the server closes or the
/// timeout passes. Lets tests send malformed, oversized, pipelined or slow requests.
public enum RawHTTPClient {
    public static func exchange(port: Int, chunks: [[UInt8]], delayBetweenChunks: Duration = .zero, timeout: Duration = .seconds(5))
        async throws -> [UInt8]
    {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        for (index, chunk) in chunks.enumerated() {
            if index > 0, delayBetweenChunks > .zero { try? await Task.sleep(for: delayBetweenChunks) }
            if !channel.isActive { break }
            try? await channel.writeAndFlush(ByteBuffer(bytes: chunk))
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while channel.isActive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? await channel.close()
        return collector.bytes
    }

    public static func exchange(port: Int, request: String, timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        try await exchange(port: port, chunks: [Array(request.utf8)], timeout: timeout)
    }

    /// One GET with `Connection: close`; returns status, headers (lowercased names) and body.
    public static func get(port: Int, path: String, headers: [String: String] = [:], method: String = "GET") async throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        // Prometheus's default scrape timeout: a loaded CI machine can take seconds to answer.
        let raw = try await exchange(port: port, request: request, timeout: .seconds(10))
        return try HTTPResponse.parseFirst(raw)
    }

    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private let lock = NSLock()
        private var data: [UInt8] = []
        var bytes: [UInt8] { lock.withLock { data } }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            lock.withLock { self.data.append(contentsOf: buffer.readableBytesView) }
        }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }

    public struct ParseError: Error {}

    /// Parses the first response in `raw` (Content-Length framed, or body to end).
    public static func parseFirst(_ raw: [UInt8], isHead: Bool = false) throws -> HTTPResponse {
        try parseAll(raw, isHead: isHead).first ?? { throw ParseError() }()
    }

    public static func parseAll(_ raw: [UInt8], isHead: Bool = false) throws -> [HTTPResponse] {
        var responses: [HTTPResponse] = []
        var index = 0
        let separator: [UInt8] = [13, 10, 13, 10]
        while index < raw.count {
            guard let end = (index...(raw.count - 4)).first(where: { Array(raw[$0..<($0 + 4)]) == separator }) else { throw ParseError() }
            let head = String(decoding: raw[index..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = head[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ParseError() }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let bodyStart = end + 4
            let length = isHead ? 0 : (headers["content-length"].flatMap(Int.init) ?? (raw.count - bodyStart))
            let bodyEnd = min(raw.count, bodyStart + length)
            responses.append(HTTPResponse(status: status, headers: headers, body: Array(raw[bodyStart..<bodyEnd])))
            index = bodyEnd
        }
        return responses
    }
}
