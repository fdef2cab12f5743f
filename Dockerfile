# syntax=docker/dockerfile:1
# Build: static Swift stdlib so the runtime image needs no Swift toolchain.
FROM swift:6.3 AS build
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.swift declares the test and benchmark targets too, so their folders must exist
# before SwiftPM loads the manifest.
COPY Package.swift .swift-format ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift package resolve
RUN swift build -c release --static-swift-stdlib --product binance-futures-exporter \
 && cp "$(swift build -c release --show-bin-path)/binance-futures-exporter" /binance-futures-exporter \
 && strip /binance-futures-exporter

# Runtime: CA certificates for wss://ws-fapi.binance.com, tzdata, zlib; non-root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata zlib1g libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin exporter
COPY --from=build /binance-futures-exporter /usr/local/bin/binance-futures-exporter
USER 10001:10001
EXPOSE 9911
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/binance-futures-exporter", "healthcheck", "--web.listen-address", "127.0.0.1:9911"]
ENTRYPOINT ["/usr/local/bin/binance-futures-exporter"]
CMD ["--config.file", "/etc/binance-futures-exporter/config.yml"]
