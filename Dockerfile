# syntax=docker/dockerfile:1
# Build: static Swift stdlib, so the runtime image needs no Swift toolchain.
# `podman build --build-context build=DIR` (scripts/container-image.sh) replaces this stage with
# a host-built binary of the same command; DIR then has the same layout as this stage.
FROM swift:6.3 AS build
ARG REVISION=""
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g-dev ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.swift declares the test and plugin targets too, so their folders must exist before
# SwiftPM loads the manifest. (The benchmarks are a package of their own, not needed here.)
COPY Package.swift .swift-format ./
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift package resolve
# BFE_REVISION: the build has no .git; the revision comes from `--build-arg REVISION=$(git rev-parse --short=12 HEAD)`.
RUN BFE_REVISION="$REVISION" swift build -c release --static-swift-stdlib --product binance-futures-exporter \
 && cp "$(swift build -c release --show-bin-path)/binance-futures-exporter" /binance-futures-exporter \
 && strip /binance-futures-exporter
COPY scripts/runtime-rootfs.sh /usr/local/bin/runtime-rootfs.sh
# The runtime's whole root filesystem: the binary, the CA bundle, the libraries it links, passwd.
RUN runtime-rootfs.sh /binance-futures-exporter /etc/ssl/certs/ca-certificates.crt /runtime

# Runtime: nothing but what the binary needs (scripts/runtime-rootfs.sh): no shell, no package
# manager, no Debian. The static Swift stdlib leaves glibc, libstdc++, libgcc_s and zlib to link
# dynamically; they come from the build stage, next to the binary they were linked against.
# No tzdata: the exporter works in UTC and Unix time only.
FROM scratch
ARG REVISION=""
LABEL org.opencontainers.image.title="binance-futures-exporter" \
      org.opencontainers.image.revision="$REVISION"
COPY --from=build /runtime/ /
USER 10001:10001
EXPOSE 9911
# Kept by Docker and by `podman build --format docker`; podman's default OCI format drops it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/binance-futures-exporter", "healthcheck", "--web.listen-address", "127.0.0.1:9911"]
ENTRYPOINT ["/usr/local/bin/binance-futures-exporter"]
CMD ["--config.file", "/etc/binance-futures-exporter/config.yml"]
