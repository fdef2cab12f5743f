import NIOConcurrencyHelpers
import NIOCore

/// The pre-built responses a scrape serves. Readers on any event loop take a `ByteBuffer`
/// (a reference-counted view, no copy) under a short lock; nothing is rendered, compressed or
/// formatted per scrape.
///
/// A publish renders and compresses the formats clients asked for in the last
/// `eagerWindow` (Prometheus 3 asks for OpenMetrics only, `curl` and Prometheus 2 for text),
/// and text while nobody has asked for anything yet. A format nobody asked for lately is
/// rendered once, on the first request of that generation. With the mark feed a publish
/// happens every second, so rendering only what is read halves that work for a Prometheus.
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
        var source: ExpositionAssembler?
        var text: Variant?
        var openMetrics: Variant?
        /// When each format was last asked for (uptime nanoseconds).
        var lastRequested: [ExpositionFormat: UInt64] = [:]

        subscript(format: ExpositionFormat) -> Variant? {
            get { format == .text ? text : openMetrics }
            set { if format == .text { text = newValue } else { openMetrics = newValue } }
        }
    }

    private let bodies = NIOLockedValueBox(Bodies())
    private let ready = NIOLockedValueBox(false)
    private let eagerWindow: UInt64

    /// - Parameter eagerWindow: how long after its last request a format is still rendered at
    ///   every publish.
    public init(eagerWindow: TimeAmount = .minutes(10)) {
        self.eagerWindow = UInt64(max(0, eagerWindow.nanoseconds))
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// The formats a publish renders: those asked for within the window, text if none.
    private func eagerFormats() -> [ExpositionFormat] {
        let now = Self.now()
        let recent = bodies.withLockedValue { $0.lastRequested }.filter { now &- $0.value <= eagerWindow }
        return recent.isEmpty ? [.text] : ExpositionFormat.allCases.filter { recent[$0] != nil }
    }

    /// Installs a new snapshot. Rendering and compression happen here, outside the lock.
    func publish(_ assembler: ExpositionAssembler) {
        var rendered = Bodies()
        for format in eagerFormats() { rendered[format] = Variant(assembler.render(format: format), format: format) }
        bodies.withLockedValue { bodies in
            bodies.generation += 1
            bodies.source = assembler
            bodies.text = rendered.text
            bodies.openMetrics = rendered.openMetrics
        }
    }

    /// The whole response for a scrape: gzip-compressed only when asked for and built.
    public func response(format: ExpositionFormat, gzip: Bool) -> PreparedResponse {
        let now = Self.now()
        let (generation, source, built) = bodies.withLockedValue { b in
            b.lastRequested[format] = now
            return (b.generation, b.source, b[format])
        }
        if let built { return built.pick(gzip: gzip) }
        let empty: [UInt8] = format == .openMetrics ? Array("# EOF\n".utf8) : []
        let variant = Variant(source?.render(format: format) ?? empty, format: format)
        bodies.withLockedValue { b in
            if b.generation == generation { b[format] = variant }
        }
        return variant.pick(gzip: gzip)
    }

    /// The body alone, and whether it is gzip-compressed.
    public func body(format: ExpositionFormat, gzip: Bool) -> (buffer: ByteBuffer, gzipped: Bool) {
        let response = response(format: format, gzip: gzip)
        return (response.body, response.gzipped)
    }

    /// The formats built for the current generation (tests: what a publish rendered).
    func builtFormats() -> Set<ExpositionFormat> {
        bodies.withLockedValue { b in Set(ExpositionFormat.allCases.filter { b[$0] != nil }) }
    }

    /// `/-/ready`: every account has finished its first poll attempt.
    public var isReady: Bool { ready.withLockedValue { $0 } }
    func setReady(_ value: Bool) { ready.withLockedValue { $0 = value } }
}
