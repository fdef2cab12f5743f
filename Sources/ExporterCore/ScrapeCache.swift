import NIOConcurrencyHelpers
import NIOCore

/// The pre-built responses a scrape serves. Readers on any event loop take a `ByteBuffer`
/// (a reference-counted view, no copy) under a short lock; nothing is rendered, compressed or
/// formatted per scrape. OpenMetrics is rendered at publish time once any client has asked for
/// it (Prometheus 3 always does); the very first OpenMetrics scrape of a generation renders it
/// once, on demand.
public final class ScrapeCache: Sendable {
    /// One format's responses; `gzip` is nil only if compression failed.
    struct Variant {
        var plain: PreparedResponse
        var gzip: PreparedResponse?

        init(_ body: [UInt8], format: ExpositionFormat) {
            plain = PreparedResponse(body: body, contentType: format.contentType, gzipped: false)
            gzip = (try? Gzip.compress(body, level: Gzip.scrapeLevel)).map {
                PreparedResponse(body: $0, contentType: format.contentType, gzipped: true)
            }
        }

        func pick(gzip wanted: Bool) -> PreparedResponse { wanted ? gzip ?? plain : plain }
    }

    struct Bodies {
        var generation = 0
        var openMetricsSource: ExpositionAssembler?
        var text = Variant([], format: .text)
        var openMetrics: Variant?
        var openMetricsWanted = false
    }

    private let bodies = NIOLockedValueBox(Bodies())
    private let ready = NIOLockedValueBox(false)

    public init() {}

    /// Installs a new snapshot. Rendering and compression happen here, outside the lock.
    func publish(_ assembler: ExpositionAssembler) {
        let text = Variant(assembler.render(format: .text), format: .text)
        let openMetrics =
            bodies.withLockedValue { $0.openMetricsWanted }
            ? Variant(assembler.render(format: .openMetrics), format: .openMetrics) : nil
        bodies.withLockedValue { bodies in
            bodies.generation += 1
            bodies.openMetricsSource = assembler
            bodies.text = text
            bodies.openMetrics = openMetrics
        }
    }

    /// The whole response for a scrape: gzip-compressed only when asked for and built.
    public func response(format: ExpositionFormat, gzip: Bool) -> PreparedResponse {
        switch format {
        case .text:
            return bodies.withLockedValue { $0.text.pick(gzip: gzip) }
        case .openMetrics:
            let (generation, source, built) = bodies.withLockedValue { b in
                b.openMetricsWanted = true
                return (b.generation, b.openMetricsSource, b.openMetrics)
            }
            if let built { return built.pick(gzip: gzip) }
            let variant = Variant(source?.render(format: .openMetrics) ?? Array("# EOF\n".utf8), format: .openMetrics)
            bodies.withLockedValue { b in
                if b.generation == generation { b.openMetrics = variant }
            }
            return variant.pick(gzip: gzip)
        }
    }

    /// The body alone, and whether it is gzip-compressed.
    public func body(format: ExpositionFormat, gzip: Bool) -> (buffer: ByteBuffer, gzipped: Bool) {
        let response = response(format: format, gzip: gzip)
        return (response.body, response.gzipped)
    }

    /// `/-/ready`: every account has finished its first poll attempt.
    public var isReady: Bool { ready.withLockedValue { $0 } }
    func setReady(_ value: Bool) { ready.withLockedValue { $0 = value } }
}
