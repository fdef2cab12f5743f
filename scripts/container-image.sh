#!/usr/bin/env bash
# Builds the container image from the Dockerfile and runs it the way users deploy it: as the
# image's own unprivileged user, in demo mode. Uses Debian's podman (no Docker engine and no
# registry on these machines):
#   - the runtime image is FROM scratch: its root filesystem (binary, CA bundle, linked
#     libraries, passwd) is assembled by scripts/runtime-rootfs.sh, so no base image is needed;
#   - the Dockerfile's `swift:6.3` build stage is replaced, through `--build-context build=DIR`,
#     by a binary built on the host with the stage's own command (same toolchain);
#   - checks: uid != 0, /-/ready, /metrics with gzip and every demo account up, the revision in
#     build_info, the `healthcheck` subcommand inside the container, HEALTHCHECK kept in the
#     image, SIGTERM -> exit 0, and the image size.
# Needs root and: podman runc curl (Debian). Usage: scripts/container-image.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

image=localhost/binance-futures-exporter:test
name=bfe-image-test-$$
# The image's HEALTHCHECK probes 127.0.0.1:9911, the default port; host network, loopback only.
port=9911
keep=false
[ "${1:-}" = "--keep" ] && keep=true

# crun refuses this machine's cgroups, and the default ulimits cannot be set here.
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
podman=(podman --cgroup-manager=cgroupfs --runtime runc)

container_cleanup() {
  "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true
  $keep || "${podman[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  cleanup
}
trap container_cleanup EXIT

fail() { echo "container-image: FAIL: $*" >&2; "${podman[@]}" logs "$name" 2>&1 | tail -n 30 >&2 || true; exit 1; }

echo "== static release binary (the Dockerfile's build command)"
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BFE_REVISION="$revision" swift build -c release --static-swift-stdlib --product binance-futures-exporter 2>&1 | tail -n 2
context="$work/build-context"
mkdir -p "$context"
cp "$(swift build -c release --show-bin-path)/binance-futures-exporter" "$context/binance-futures-exporter"
strip "$context/binance-futures-exporter"
# The build stage's /runtime: the image's whole root filesystem, from this host's libraries.
scripts/runtime-rootfs.sh "$context/binance-futures-exporter" /etc/ssl/certs/ca-certificates.crt "$context/runtime"

echo "== podman build (runtime stage)"
started=$(date +%s)
"${podman[@]}" build --quiet --network=host --pull=never --format docker \
  --build-context build="$context" --build-arg REVISION="$revision" -t "$image" . >/dev/null
echo "   built in $(( $(date +%s) - started ))s"
[ -n "$("${podman[@]}" image inspect -f '{{.Config.Healthcheck}}' "$image" | grep -v '^<nil>$' || true)" ] \
  || fail "HEALTHCHECK missing from the image"

echo "== run: --demo on 127.0.0.1:$port, host network"
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then fail "port $port is already in use on this machine"; fi
# podman logs that it cannot reach systemd to schedule health checks; `podman healthcheck run` below runs it.
"${podman[@]}" run -d --name "$name" --network=host "$image" --demo --web.listen-address "127.0.0.1:$port" >/dev/null 2>"$work/run.log"
pid=$("${podman[@]}" inspect -f '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" != 0 ] || fail "the exporter runs as root"
[ "$uid" = 10001 ] || fail "the exporter runs as uid $uid, not the image's 10001"
echo "   exporter process uid $uid (no shell or id(1) in the image to ask)"

ready=false
for _ in $(seq 1 60); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/ready")" = 200 ]; then ready=true; break; fi
  sleep 0.5
done
$ready || fail "/-/ready never answered 200"

up=false
for _ in $(seq 1 40); do
  curl -s -H 'Accept-Encoding: gzip' -D "$work/headers" -o "$work/metrics.gz" "http://127.0.0.1:$port/metrics" || true
  if grep -qi '^content-encoding: gzip' "$work/headers" \
    && [ "$(gzip -dc "$work/metrics.gz" | grep -cE '^binance_futures_up\{account="demo-[a-z]+"\} 1$')" = 5 ]; then
    up=true; break
  fi
  sleep 0.5
done
# The demo's five accounts: three USDⓈ-M (HMAC, Ed25519, RSA), one COIN-M, one Portfolio Margin.
$up || fail "/metrics (gzip) did not show every demo account up (three USDⓈ-M, one COIN-M, one Portfolio Margin)"
# Decompressed to a file first: `gzip -dc | grep -q` under pipefail fails when grep stops reading
# before gzip has written everything (the demo's output is larger than a pipe's buffer).
gzip -dc "$work/metrics.gz" > "$work/metrics.txt"
grep -q "binance_futures_exporter_build_info{.*revision=\"$revision\"" "$work/metrics.txt" \
  || fail "build_info does not carry revision $revision"
echo "   /metrics gzip: $(wc -c < "$work/metrics.gz") bytes, 5 accounts up, revision $revision"

"${podman[@]}" exec "$name" /usr/local/bin/binance-futures-exporter healthcheck --web.listen-address "127.0.0.1:$port" \
  || fail "healthcheck subcommand inside the container"
echo "   healthcheck inside the container: exit 0"
"${podman[@]}" healthcheck run "$name" 2>/dev/null || fail "the image's HEALTHCHECK reports unhealthy"
echo "   the image's HEALTHCHECK (podman healthcheck run): healthy"

"${podman[@]}" stop -t 15 "$name" >/dev/null 2>&1
code=$("${podman[@]}" inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "SIGTERM ended the exporter with exit code $code"
"${podman[@]}" logs "$name" > "$work/logs.txt" 2>&1 || true
grep -q 'Permission denied' "$work/logs.txt" && fail "a permission error in the log"
echo "   SIGTERM: exit 0"

size=$("${podman[@]}" image inspect -f '{{.Size}}' "$image")
binary=$(stat -c %s "$context/binance-futures-exporter")
echo "== image size: $(( size / 1000000 )) MB (FROM scratch: binary $(( binary / 1000000 )) MB stripped, the rest libraries and the CA bundle)"
# Issue #26's target: no more than 100 MB.
[ "$size" -le 100000000 ] || fail "the image is $(( size / 1000000 )) MB, over 100 MB"
echo "container image: all checks passed"
