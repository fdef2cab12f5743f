import Foundation
import Testing

@testable import ExporterCore

func golden(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: nil))
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct EncoderTests {
    static let families: [MetricFamily] = [
        MetricFamily(
            name: "b_requests_total", help: "Requests \\ with\nnewline.", type: .counter,
            samples: [Sample([("code", "500")], 3), Sample([("code", "200")], 1027)]),
        MetricFamily(
            name: "a_value", help: "Values with \"quotes\".",
            samples: [
                Sample([("account", "z")], .infinity), Sample([("account", "a\"b\\c\nd")], -.infinity), Sample([("account", "m")], .nan),
                Sample([("account", "n")], 0.1), Sample([("account", "o")], 1e-7), Sample([("account", "p")], -42),
                Sample([("account", "q")], 23.72469206),
            ]),
        MetricFamily(name: "c_empty", help: "No samples: omitted."),
        MetricFamily(name: "a_value", help: "duplicate family merges", samples: [Sample([("account", "b")], 2)]),
    ]

    @Test func textFormatMatchesGolden() throws {
        let text = String(decoding: ExpositionEncoder.render(Self.families, format: .text), as: UTF8.self)
        #expect(text == (try golden("encoder.txt")))
    }

    @Test func openMetricsMatchesGolden() throws {
        let text = String(decoding: ExpositionEncoder.render(Self.families, format: .openMetrics), as: UTF8.self)
        #expect(text == (try golden("encoder.om.txt")))
        #expect(text.hasSuffix("# EOF\n"))
        #expect(text.contains("# TYPE b_requests counter\n"))
        #expect(text.contains("b_requests_total{code=\"200\"} 1027\n"))
    }

    @Test func outputIsDeterministicRegardlessOfInputOrder() {
        let shuffled = Self.families.reversed().map { family -> MetricFamily in
            var family = family
            family.samples.reverse()
            return family
        }
        let a = ExpositionEncoder.render(Self.families.filter { $0.help != "duplicate family merges" }, format: .text)
        let b = ExpositionEncoder.render(shuffled.filter { $0.help != "duplicate family merges" }, format: .text)
        #expect(a == b)
    }

    @Test(arguments: [
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (0, "0"), (-0.0, "0"), (1e15, "1000000000000000"),
        (1e300, "1e+300"), (123456789, "123456789"), (0.5, "0.5"),
    ])
    func valueFormatting(value: Double, expected: String) {
        #expect(ExpositionEncoder.formatValue(value) == expected)
    }

    @Test func gzipRoundTrip() throws {
        let body = ExpositionEncoder.render(Self.families, format: .text)
        let compressed = try Gzip.compress(body)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        #expect(try Gzip.decompress(compressed) == body)
        #expect(try Gzip.decompress(try Gzip.compress([])) == [])
        let big = [UInt8](repeating: 65, count: 3 << 20)
        #expect(try Gzip.decompress(try Gzip.compress(big)) == big)
    }

    @Test func gzipRejectsGarbage() {
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress([1, 2, 3, 4, 5]) }
    }
}

@Suite struct ContentNegotiationTests {
    @Test(arguments: [
        ("gzip", true), ("gzip, deflate, br", true), ("gzip;q=0", false), ("deflate", false), ("*", true), ("*;q=0", false),
        ("gzip;q=0, *", false), ("GZIP;Q=0.5", true), ("identity", false), ("", false),
    ])
    func gzipAcceptance(header: String, expected: Bool) {
        #expect(ContentNegotiation.acceptsGzip(header) == expected)
    }

    @Test func noHeaderMeansNoGzip() { #expect(!ContentNegotiation.acceptsGzip(nil)) }

    @Test func prometheus3PrefersOpenMetrics() {
        let prometheus3 =
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        #expect(ContentNegotiation.format(accept: prometheus3) == .openMetrics)
        #expect(ContentNegotiation.format(accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1") == .text)
        #expect(ContentNegotiation.format(accept: nil) == .text)
        #expect(ContentNegotiation.format(accept: "*/*") == .text)
        #expect(ContentNegotiation.format(accept: "application/openmetrics-text; version=1.0.0") == .openMetrics)
    }
}
