import NIOCore
import NIOHTTP1

/// A complete `200 OK` scrape response — status line, headers, blank line, body — in one
/// buffer, built when a body is published (off the event loop). A scrape on a kept-alive
/// HTTP/1.1 connection, which is every scrape Prometheus makes, is then one write of it.
public struct PreparedResponse: Sendable {
    /// The whole response.
    public let bytes: ByteBuffer
    /// Where the body starts in `bytes`.
    let bodyOffset: Int
    public let contentType: String
    public let gzipped: Bool

    init(body: some Collection<UInt8>, contentType: String, gzipped: Bool) {
        var head = ResponseHeadWriter(version: .http1_1, status: .ok)
        Self.addHeaders(contentType: contentType, length: body.count, gzipped: gzipped, to: &head)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.bytes.count + 2 + body.count)
        buffer.writeBytes(head.bytes)
        buffer.writeBytes(ResponseHeadWriter.crlf)
        bodyOffset = buffer.readableBytes
        buffer.writeBytes(body)
        self.bytes = buffer
        self.contentType = contentType
        self.gzipped = gzipped
    }

    /// The body alone: a view into `bytes`, no copy.
    public var body: ByteBuffer { bytes.getSlice(at: bytes.readerIndex + bodyOffset, length: bytes.readableBytes - bodyOffset)! }

    /// This response's own headers, for a head built per request (HEAD, HTTP/1.0, a closing
    /// connection, configured extra headers) in front of the same body.
    func addHeaders(to writer: inout ResponseHeadWriter) {
        Self.addHeaders(contentType: contentType, length: bytes.readableBytes - bodyOffset, gzipped: gzipped, to: &writer)
    }

    /// The one definition of a scrape response's headers, prepared or built per request.
    private static func addHeaders(contentType: String, length: Int, gzipped: Bool, to writer: inout ResponseHeadWriter) {
        writer.add("Content-Type", contentType)
        writer.add("Content-Length", length)
        writer.add("Vary", "Accept-Encoding")
        if gzipped { writer.add("Content-Encoding", "gzip") }
    }
}

/// Writes an HTTP/1.x response head as bytes. Names and values come from our code or from the
/// web config, which refuses CR and LF in values; `add` drops any header that still contains
/// them rather than let it split the response.
struct ResponseHeadWriter {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    private(set) var bytes: [UInt8] = []

    init(version: HTTPVersion, status: HTTPResponseStatus) {
        bytes.reserveCapacity(256)
        append(version.major == 1 && version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        append(String(status.code))
        bytes.append(0x20)
        append(status.reasonPhrase)
        bytes.append(contentsOf: Self.crlf)
    }

    mutating func add(_ name: String, _ value: String) {
        guard !name.utf8.contains(where: Self.isLineBreak), !value.utf8.contains(where: Self.isLineBreak) else { return }
        append(name)
        bytes.append(contentsOf: [0x3A, 0x20])
        append(value)
        bytes.append(contentsOf: Self.crlf)
    }

    mutating func add(_ name: String, _ value: Int) { add(name, String(value)) }

    /// The head with its terminating blank line, ready to write.
    func finished() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 2)
        buffer.writeBytes(bytes)
        buffer.writeBytes(Self.crlf)
        return buffer
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    private static func isLineBreak(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A }
}
