import NIOConcurrencyHelpers
import NIOCore

/// The pre-rendered bodies a scrape serves. Readers on any event loop take a `ByteBuffer`
/// (a reference-counted view, no copy) under a short lock; nothing is rendered or compressed
/// per scrape. OpenMetrics bodies are rendered lazily, once per generation, on first request.
public final class ScrapeCache: Sendable {
    struct Bodies {
        var generation = 0
        var families: [MetricFamily] = []
        var text = ByteBuffer()
        var textGzip = ByteBuffer()
        var openMetrics: ByteBuffer?
        var openMetricsGzip: ByteBuffer?
    }

    private let bodies = NIOLockedValueBox(Bodies())
    private let ready = NIOLockedValueBox(false)

    public init() {}

    /// Installs a new snapshot. Rendering and compression happen here, outside the lock.
    func publish(_ families: [MetricFamily]) {
        let sorted = ExpositionEncoder.merge(families)
        let text = ExpositionEncoder.render(sorted, format: .text)
        let gzip = (try? Gzip.compress(text)) ?? []
        let textBuffer = ByteBuffer(bytes: text)
        let gzipBuffer = ByteBuffer(bytes: gzip)
        bodies.withLockedValue { bodies in
            bodies.generation += 1
            bodies.families = sorted
            bodies.text = textBuffer
            bodies.textGzip = gzipBuffer
            bodies.openMetrics = nil
            bodies.openMetricsGzip = nil
        }
    }

    /// The body for a scrape. `nil` gzip means the gzip body failed to build; callers fall back to plain.
    public func body(format: ExpositionFormat, gzip: Bool) -> ByteBuffer {
        switch format {
        case .text:
            return bodies.withLockedValue { gzip && $0.textGzip.readableBytes > 0 ? $0.textGzip : $0.text }
        case .openMetrics:
            let (generation, families, existing) = bodies.withLockedValue { b in
                (b.generation, b.families, gzip ? b.openMetricsGzip : b.openMetrics)
            }
            if let existing { return existing }
            let plain = ExpositionEncoder.render(families, format: .openMetrics)
            let plainBuffer = ByteBuffer(bytes: plain)
            let gzipBuffer = ByteBuffer(bytes: (try? Gzip.compress(plain)) ?? plain)
            bodies.withLockedValue { b in
                if b.generation == generation {
                    b.openMetrics = plainBuffer
                    b.openMetricsGzip = gzipBuffer
                }
            }
            return gzip ? gzipBuffer : plainBuffer
        }
    }

    public var generation: Int { bodies.withLockedValue { $0.generation } }

    /// `/-/ready`: every account has finished its first poll attempt.
    public var isReady: Bool { ready.withLockedValue { $0 } }
    func setReady(_ value: Bool) { ready.withLockedValue { $0 = value } }
}
