import Foundation
import NIOCore
import Testing

@testable import ExporterCore

/// What a publish renders follows what clients read: a Prometheus 3 reads OpenMetrics only, and
/// with the mark feed there is a publish every second.
@Suite struct ScrapeCacheTests {
    static func assembler(_ value: Double) -> ExpositionAssembler {
        ExpositionAssembler(fragments: [
            ExpositionAssembler.Fragment([
                MetricFamily(name: "bfe_test_value", help: "A value.", samples: [Sample([("account", "a")], value)])
            ])
        ])
    }

    @Test func aPrometheus3ScrapingMakesPublishesRenderOpenMetricsAndNotText() throws {
        let cache = ScrapeCache()
        cache.publish(Self.assembler(1))
        #expect(cache.builtFormats() == [.text], "before any scrape: text, the default")

        let first = cache.response(format: .openMetrics, gzip: true)
        #expect(first.gzipped)
        #expect(try Gzip.decompress(Array(first.body.readableBytesView)).count > 0)
        cache.publish(Self.assembler(2))
        #expect(cache.builtFormats() == [.openMetrics], "only what was read lately is rendered at publish")

        // Someone curls the text format: rendered on demand, the current values, and from then
        // on at every publish too.
        let text = String(buffer: cache.body(format: .text, gzip: false).buffer)
        #expect(text.contains("bfe_test_value{account=\"a\"} 2"))
        cache.publish(Self.assembler(3))
        #expect(cache.builtFormats() == [.text, .openMetrics])
        #expect(String(buffer: cache.body(format: .openMetrics, gzip: false).buffer).contains("bfe_test_value{account=\"a\"} 3"))
    }

    @Test func aFormatNobodyReadsForTheWindowIsNoLongerRenderedAtPublish() throws {
        let cache = ScrapeCache(eagerWindow: .milliseconds(50))
        cache.publish(Self.assembler(1))
        _ = cache.response(format: .openMetrics, gzip: false)
        cache.publish(Self.assembler(2))
        #expect(cache.builtFormats() == [.openMetrics])
        Thread.sleep(forTimeInterval: 0.1)
        cache.publish(Self.assembler(3))
        #expect(cache.builtFormats() == [.text], "nobody read anything lately: back to the default")
        // Still served, and current, when asked for again.
        #expect(String(buffer: cache.body(format: .openMetrics, gzip: false).buffer).hasSuffix("# EOF\n"))
        #expect(String(buffer: cache.body(format: .openMetrics, gzip: false).buffer).contains("} 3"))
    }
}
