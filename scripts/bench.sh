#!/usr/bin/env bash
# Side-by-side benchmark (SPEC §10): the same exposition payload served by
#   1. the exporter (demo mode, gzip, pre-rendered),
#   2. nginx serving it as a static pre-compressed file (gzip_static) — the practical ceiling,
#   3. node_exporter's textfile collector (only that collector) — what users run today,
#   4. Python prometheus_client (render + gzip per scrape),
# all on 127.0.0.1, each driven by wrk with the same threads/connections/duration and
# Accept-Encoding: gzip. Then the poll-pipeline micro-benchmark and Python's json.loads anchor.
#
#   scripts/bench.sh            full run (release build, 10 s per server), writes bench-out/
#   scripts/bench.sh --short    smoke run (4 s per server, debug binary OK) for CI
#
# Needs: wrk nginx-light prometheus-node-exporter (Debian), prometheus_client (PyPI).
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
[ "${1:-}" = "--short" ] && short=1
duration=10s; [ $short = 1 ] && duration=4s
threads=2
connections=16
extra_accounts=${BFE_BENCH_ACCOUNTS:-40}
config=${BFE_BENCH_CONFIG:-release}
[ $short = 1 ] && config=${BFE_BENCH_CONFIG:-debug}
bin_dir=$(swift build -c "$config" --show-bin-path)
exporter="$bin_dir/binance-futures-exporter"
pipeline="$bin_dir/PipelineBenchmark"
swift build -c "$config" --product binance-futures-exporter >/dev/null
swift build -c "$config" --product PipelineBenchmark >/dev/null

out=bench-out
mkdir -p "$out"
source scripts/lib.sh
chmod 755 "$work"  # nginx workers run as an unprivileged user

wait_http() {
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timeout waiting for $1" >&2
  return 1
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# 1. The exporter in demo mode with enough accounts for a realistic payload.
port_exporter=19921
"$exporter" --demo --demo.accounts "$extra_accounts" --web.listen-address "127.0.0.1:$port_exporter" \
  --poll.interval 15s --weight.max-share 0.9 --log.level warn >"$work/exporter.log" 2>&1 &
exporter_pid=$!
pids+=($exporter_pid)
wait_http "http://127.0.0.1:$port_exporter/-/ready"
# Let the first polls of every account land (they are staggered over the interval).
if [ $short = 1 ]; then sleep 8; else sleep 20; fi
curl -fsS "http://127.0.0.1:$port_exporter/metrics" >"$work/metrics.prom"
# What Prometheus 3 asks for by default: OpenMetrics first, with a long Accept header.
prometheus_accept='application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'
curl -fsS -H "Accept: $prometheus_accept" "http://127.0.0.1:$port_exporter/metrics" >"$work/metrics.om"
series=$(grep -vc '^#' "$work/metrics.prom")
bytes=$(wc -c <"$work/metrics.prom")
rss_idle=$(rss_kib $exporter_pid)

# 2. nginx with the same bytes pre-compressed.
mkdir -p "$work/www" "$work/www-om"
cp "$work/metrics.prom" "$work/www/metrics"
cp "$work/metrics.om" "$work/www-om/metrics"
gzip -k -9 "$work/www/metrics" "$work/www-om/metrics"
port_nginx=19922
port_nginx_om=19925
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/plain;
  gzip_static on;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$port_nginx; root $work/www; }
  server { listen 127.0.0.1:$port_nginx_om; root $work/www-om; }
}
NGINX
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
wait_http "http://127.0.0.1:$port_nginx/metrics"

# 3. node_exporter, textfile collector only (its own process_* names would clash: dropped).
mkdir -p "$work/textfile"
grep -v '^process_\|^# [A-Z]* process_' "$work/metrics.prom" >"$work/textfile/binance.prom"
port_node=19923
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$work/textfile" --web.listen-address="127.0.0.1:$port_node" >"$work/node.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_node/metrics"

# 4. Python prometheus_client: the same families, rendered and compressed per scrape.
port_python=19924
cat >"$work/server.py" <<'PY'
import sys, time
from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
class Replay(Collector):
    def collect(self):
        return families
for collector in list(REGISTRY._collector_to_names):
    REGISTRY.unregister(collector)
REGISTRY.register(Replay())
start_http_server(int(sys.argv[2]), addr="127.0.0.1")
while True:
    time.sleep(3600)
PY
python3 "$work/server.py" "$work/textfile/binance.prom" $port_python >"$work/python.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_python/metrics"

run_wrk() {  # name url [wrk args…] → "rps p50 p99"
  wrk -t$threads -c$connections -d$duration --latency -H 'Accept-Encoding: gzip' "${@:3}" "$2" >"$work/wrk-$1.txt" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk-$1.txt")
  echo "$rps $p50 $p99"
}

ticks_before=$(cpu_ticks $exporter_pid)
read -r rps_exporter p50_exporter p99_exporter <<<"$(run_wrk exporter "http://127.0.0.1:$port_exporter/metrics")"
ticks_after=$(cpu_ticks $exporter_pid)
rss_load=$(rss_kib $exporter_pid)
requests_exporter=$(awk '/requests in/ {print $1}' "$work/wrk-exporter.txt")
read -r rps_nginx p50_nginx p99_nginx <<<"$(run_wrk nginx "http://127.0.0.1:$port_nginx/metrics")"
read -r rps_node p50_node p99_node <<<"$(run_wrk node "http://127.0.0.1:$port_node/metrics")"
read -r rps_python p50_python p99_python <<<"$(run_wrk python "http://127.0.0.1:$port_python/metrics")"
read -r rps_exporter_om p50_exporter_om p99_exporter_om <<<"$(run_wrk exporter-om "http://127.0.0.1:$port_exporter/metrics" -H "Accept: $prometheus_accept")"
read -r rps_nginx_om p50_nginx_om p99_nginx_om <<<"$(run_wrk nginx-om "http://127.0.0.1:$port_nginx_om/metrics")"

for value in "$rps_exporter" "$rps_nginx" "$rps_node" "$rps_python" "$rps_exporter_om" "$rps_nginx_om"; do
  if ! python3 -c "import sys; sys.exit(0 if float('$value' or 0) > 0 else 1)" 2>/dev/null; then
    echo "a server under test answered no requests: exporter=$rps_exporter nginx=$rps_nginx node=$rps_node python=$rps_python" >&2
    exit 1
  fi
done
hz=$(getconf CLK_TCK)
cpu_per_1000=$(python3 -c "print(f'{($ticks_after - $ticks_before) / $hz / max(1, $requests_exporter) * 1000:.3f}')")
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }

# Pipeline micro-benchmark and the CPython json.loads anchor on the same frame.
pipeline_args=(--frame-out "$work/frame.json")
[ $short = 1 ] && pipeline_args+=(--short)
"$pipeline" "${pipeline_args[@]}" >"$work/pipeline.md"
json_ms=$(python3 - "$work/frame.json" <<'PY'
import json, statistics, sys, time
data = open(sys.argv[1], "rb").read()
samples = []
for _ in range(300):
    start = time.perf_counter(); json.loads(data); samples.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(samples):.3f}")
PY
)

{
  echo "## Scrape throughput ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$threads -c$connections -d$duration, Accept-Encoding: gzip)"
  echo
  echo "Payload: $series series, $bytes bytes uncompressed ($((extra_accounts + 3)) demo accounts)."
  echo
  echo "| server | requests/s | p50 | p99 | vs nginx | vs node_exporter |"
  echo "|---|---|---|---|---|---|"
  echo "| binance-futures-exporter | $rps_exporter | $p50_exporter | $p99_exporter | $(ratio "$rps_exporter" "$rps_nginx")× | $(ratio "$rps_exporter" "$rps_node")× |"
  echo "| nginx gzip_static | $rps_nginx | $p50_nginx | $p99_nginx | 1.00× | $(ratio "$rps_nginx" "$rps_node")× |"
  echo "| node_exporter textfile | $rps_node | $p50_node | $p99_node | $(ratio "$rps_node" "$rps_nginx")× | 1.00× |"
  echo "| Python prometheus_client | $rps_python | $p50_python | $p99_python | $(ratio "$rps_python" "$rps_nginx")× | $(ratio "$rps_python" "$rps_node")× |"
  echo
  echo "With Prometheus 3's default Accept header (OpenMetrics, $(wc -c <"$work/metrics.om") bytes), against nginx serving the same OpenMetrics bytes:"
  echo
  echo "| server | requests/s | p50 | p99 | vs nginx |"
  echo "|---|---|---|---|---|"
  echo "| binance-futures-exporter, Prometheus 3 Accept | $rps_exporter_om | $p50_exporter_om | $p99_exporter_om | $(ratio "$rps_exporter_om" "$rps_nginx_om")× |"
  echo "| nginx gzip_static, OpenMetrics bytes | $rps_nginx_om | $p50_nginx_om | $p99_nginx_om | 1.00× |"
  echo
  echo "Exporter resident memory: idle $((rss_idle / 1024)) MiB, after the load $((rss_load / 1024)) MiB; CPU $cpu_per_1000 s per 1000 scrapes."
  echo
  echo "## Poll pipeline"
  echo
  cat "$work/pipeline.md"
  echo
  echo "Anchor: CPython \`json.loads\` of the same account.status frame: $json_ms ms (median of 300)."
} | tee "$out/results.md"
