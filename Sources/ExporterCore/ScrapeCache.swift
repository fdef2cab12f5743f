import NIOConcurrencyHelpers
import NIOCore

/// The pre-rendered bodies a scrape serves. Readers on any event loop take a `ByteBuffer`
/// (a reference-counted view, no copy) under a short lock; nothing is rendered or compressed
/// per scrape. OpenMetrics bodies are rendered lazily, once per generation, on first request.
public final class ScrapeCache: Sendable {
    struct Bodies {
        var generation = 0
        var openMetricsSource: ExpositionAssembler?
        var text = ByteBuffer()
        var textGzip = ByteBuffer()
        var openMetrics: ByteBuffer?
        var openMetricsGzip: ByteBuffer?
    }

    private let bodies = NIOLockedValueBox(Bodies())
    private let ready = NIOLockedValueBox(false)

    public init() {}

    /// Installs a new snapshot. Rendering and compression happen here, outside the lock.
    func publish(_ assembler: ExpositionAssembler) {
        let text = assembler.render(format: .text)
        let gzip = (try? Gzip.compress(text, level: Gzip.scrapeLevel)) ?? []
        let textBuffer = ByteBuffer(bytes: text)
        let gzipBuffer = ByteBuffer(bytes: gzip)
        bodies.withLockedValue { bodies in
            bodies.generation += 1
            bodies.openMetricsSource = assembler
            bodies.text = textBuffer
            bodies.textGzip = gzipBuffer
            bodies.openMetrics = nil
            bodies.openMetricsGzip = nil
        }
    }

    /// The body for a scrape, and whether it is gzip-compressed (only when asked for and built).
    public func body(format: ExpositionFormat, gzip: Bool) -> (buffer: ByteBuffer, gzipped: Bool) {
        switch format {
        case .text:
            return bodies.withLockedValue { gzip && $0.textGzip.readableBytes > 0 ? ($0.textGzip, true) : ($0.text, false) }
        case .openMetrics:
            let (generation, source, plain, compressed) = bodies.withLockedValue { b in
                (b.generation, b.openMetricsSource, b.openMetrics, b.openMetricsGzip)
            }
            if let plain {
                if gzip, let compressed { return (compressed, true) }
                return (plain, false)
            }
            let rendered = source?.render(format: .openMetrics) ?? Array("# EOF\n".utf8)
            let plainBuffer = ByteBuffer(bytes: rendered)
            let gzipBuffer = (try? Gzip.compress(rendered, level: Gzip.scrapeLevel)).map { ByteBuffer(bytes: $0) }
            bodies.withLockedValue { b in
                if b.generation == generation {
                    b.openMetrics = plainBuffer
                    b.openMetricsGzip = gzipBuffer
                }
            }
            if gzip, let gzipBuffer { return (gzipBuffer, true) }
            return (plainBuffer, false)
        }
    }

    /// `/-/ready`: every account has finished its first poll attempt.
    public var isReady: Bool { ready.withLockedValue { $0 } }
    func setReady(_ value: Bool) { ready.withLockedValue { $0 = value } }
}
