#!/usr/bin/env bash
# Side-by-side benchmark (SPEC §10, issue #15): the same exposition payload served by
#   1. the exporter (demo mode, gzip, pre-rendered) and nginx serving its bytes as static
#      pre-compressed files (gzip_static, the practical ceiling), at three payload sizes
#      (3, 17 and 43 demo accounts: ~300, ~3k and ~8k series), each with Prometheus 3's
#      default Accept header (OpenMetrics) and with a text-format Accept header;
#   2. node_exporter's textfile collector (only that collector) — what users run today,
#   3. Python prometheus_client (render + gzip per scrape), on the largest payload;
# all on 127.0.0.1, each driven by wrk with the same threads/connections/duration and
# Accept-Encoding: gzip. Then the poll-pipeline micro-benchmark and Python's json.loads anchor.
# BFE_BENCH_SIZES="0 14 40" chooses the extra demo accounts per size.
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
duration=5s; [ $short = 1 ] && duration=4s
rounds=3; [ $short = 1 ] && rounds=1
threads=2
connections=16
extra_accounts=${BFE_BENCH_ACCOUNTS:-40}
config=${BFE_BENCH_CONFIG:-release}
[ $short = 1 ] && config=${BFE_BENCH_CONFIG:-debug}
bin_dir=$(swift build -c "$config" --show-bin-path)
exporter="$bin_dir/binance-futures-exporter"
swift build -c "$config" --product binance-futures-exporter >/dev/null

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

# What Prometheus 3 asks for by default: OpenMetrics first, with a long Accept header.
prometheus_accept='application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'
text_accept='text/plain;version=0.0.4;q=1,*/*;q=0.1'

run_wrk() {  # name url [wrk args…] → "rps p50 p99"
  wrk -t$threads -c$connections -d$duration --latency -H 'Accept-Encoding: gzip' "${@:3}" "$2" >"$work/wrk-$1.txt" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk-$1.txt")
  echo "${rps:-0} ${p50:--} ${p99:--}"
}
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }
median_of() {  # prefix → "median requests/s, median p99 in ms" over that prefix's rounds
  python3 - "$work" "$1" <<'PY'
import glob, re, statistics, sys
rps, p99 = [], []
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
for path in sorted(glob.glob(f"{sys.argv[1]}/wrk-{sys.argv[2]}-*.txt")):
    text = open(path).read()
    rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text).groups()
    p99.append(float(value) * scale[unit])
print(f"{statistics.median(rps):.0f} {statistics.median(p99):.2f}")
PY
}
require_answers() {  # name rps
  if ! python3 -c "import sys; sys.exit(0 if float('$2' or 0) > 0 else 1)" 2>/dev/null; then
    echo "$1 answered no requests (see $work/wrk-$1.txt)" >&2
    cat "$work/wrk-$1.txt" >&2 || true
    exit 1
  fi
}

# nginx serves the exporter's own bytes as static pre-compressed files (the practical ceiling),
# with as many workers as the exporter has event loops (one per core).
mkdir -p "$work/www" "$work/www-om" "$work/tmp"
port_nginx=19922
port_nginx_om=19925
cat >"$work/nginx.conf" <<NGINX
worker_processes $(nproc);
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
echo "# none yet" >"$work/www/metrics"; echo "# EOF" >"$work/www-om/metrics"
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
wait_http "http://127.0.0.1:$port_nginx/metrics"

# 1. The exporter against nginx at three payload sizes, with Prometheus 3's Accept header and
#    with a text-format one, gzip on: one exporter per size, nginx serving its bytes.
sizes_table="$work/sizes.md"
port_exporter=19921
sizes=(0 14 "$extra_accounts")
[ "${BFE_BENCH_SIZES:-}" ] && read -r -a sizes <<<"$BFE_BENCH_SIZES"
for extra in "${sizes[@]}"; do
  "$exporter" --demo --demo.accounts "$extra" --web.listen-address "127.0.0.1:$port_exporter" \
    --poll.interval 15s --weight.max-share 0.9 --log.level warn >"$work/exporter.log" 2>&1 &
  exporter_pid=$!
  pids+=($exporter_pid)
  wait_http "http://127.0.0.1:$port_exporter/-/ready"
  # Let the first polls of every account land (they are staggered over the interval).
  if [ $short = 1 ]; then sleep 8; else sleep 20; fi
  curl -fsS -H "Accept: $text_accept" "http://127.0.0.1:$port_exporter/metrics" >"$work/metrics.prom"
  curl -fsS -H "Accept: $prometheus_accept" "http://127.0.0.1:$port_exporter/metrics" >"$work/metrics.om"
  cp "$work/metrics.prom" "$work/www/metrics"
  cp "$work/metrics.om" "$work/www-om/metrics"
  gzip -kf -9 "$work/www/metrics" "$work/www-om/metrics"
  series=$(grep -vc '^#' "$work/metrics.prom")
  bytes=$(wc -c <"$work/metrics.prom")
  gz_bytes=$(wc -c <"$work/www/metrics.gz")
  rss_idle=$(status_kib $exporter_pid VmRSS)
  ticks_before=$(cpu_ticks $exporter_pid)
  # Interleaved rounds, medians reported: this machine's throughput drifts by ±20 % from one
  # 10-second window to the next, which one run per server would turn into a false ratio.
  for round in $(seq 1 "$rounds"); do
    run_wrk "exporter-text-$extra-$round" "http://127.0.0.1:$port_exporter/metrics" -H "Accept: $text_accept" >/dev/null
    run_wrk "nginx-text-$extra-$round" "http://127.0.0.1:$port_nginx/metrics" -H "Accept: $text_accept" >/dev/null
    run_wrk "exporter-om-$extra-$round" "http://127.0.0.1:$port_exporter/metrics" -H "Accept: $prometheus_accept" >/dev/null
    run_wrk "nginx-om-$extra-$round" "http://127.0.0.1:$port_nginx_om/metrics" -H "Accept: $prometheus_accept" >/dev/null
  done
  ticks_after=$(cpu_ticks $exporter_pid)
  rss_load=$(status_kib $exporter_pid VmRSS)
  for name in exporter-text nginx-text exporter-om nginx-om; do
    for round in $(seq 1 "$rounds"); do
      require_answers "$name-$extra-$round" "$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$name-$extra-$round.txt")"
    done
  done
  read -r rps_ex_text p99_ex_text <<<"$(median_of "exporter-text-$extra")"
  read -r rps_ng_text p99_ng_text <<<"$(median_of "nginx-text-$extra")"
  read -r rps_ex_om p99_ex_om <<<"$(median_of "exporter-om-$extra")"
  read -r rps_ng_om p99_ng_om <<<"$(median_of "nginx-om-$extra")"
  requests=$(cat "$work"/wrk-exporter-*-"$extra"-*.txt | awk '/requests in/ {s += $1} END {print s}')
  cpu_per_1000=$(python3 -c "print(f'{($ticks_after - $ticks_before) / $(getconf CLK_TCK) / max(1, $requests) * 1000:.3f}')")
  p99_ratio_text=$(ratio "$p99_ex_text" "$p99_ng_text")
  p99_ratio_om=$(ratio "$p99_ex_om" "$p99_ng_om")
  echo "| $((extra + 3)) accounts, $series series, $((bytes / 1024)) KiB ($((gz_bytes / 1024)) KiB gz) | $rps_ex_text, $p99_ex_text ms | $rps_ng_text, $p99_ng_text ms | **$(ratio "$rps_ex_text" "$rps_ng_text")×**, p99 $p99_ratio_text× | $rps_ex_om, $p99_ex_om ms | $rps_ng_om, $p99_ng_om ms | **$(ratio "$rps_ex_om" "$rps_ng_om")×**, p99 $p99_ratio_om× | $((rss_idle / 1024)) / $((rss_load / 1024)) MiB, $cpu_per_1000 s |" >>"$sizes_table"
  kill $exporter_pid; wait $exporter_pid 2>/dev/null || true
done
# The largest payload stays in www/ for the comparison with what users run today.

# 2. node_exporter, textfile collector only (its own process_* names would clash: dropped).
mkdir -p "$work/textfile"
grep -v '^process_\|^# [A-Z]* process_' "$work/metrics.prom" >"$work/textfile/binance.prom"
port_node=19923
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$work/textfile" --web.listen-address="127.0.0.1:$port_node" >"$work/node.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_node/metrics"

# 3. Python prometheus_client: the same families, rendered and compressed per scrape.
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

read -r rps_node p50_node p99_node <<<"$(run_wrk node "http://127.0.0.1:$port_node/metrics")"
read -r rps_python p50_python p99_python <<<"$(run_wrk python "http://127.0.0.1:$port_python/metrics")"
require_answers node "$rps_node"
require_answers python "$rps_python"
read -r rps_largest p99_largest <<<"$(median_of "exporter-text-${sizes[-1]}")"
read -r rps_nginx_largest p99_nginx_largest <<<"$(median_of "nginx-text-${sizes[-1]}")"

# The micro-benchmarks on package-benchmark (Benchmarks/, release build), summarised, and the
# CPython json.loads anchor on the same frame. Skipped by --short: CI runs their allocation
# threshold check on its own (.ci/run).
if [ $short = 0 ]; then
  (cd Benchmarks && BFE_FRAME_OUT="$work/frame.json" swift package --disable-sandbox benchmark --no-progress --time-units microseconds) \
    >"$out/package-benchmark.txt" 2>&1 || { tail -n 40 "$out/package-benchmark.txt" >&2; exit 1; }
  python3 - "$out/package-benchmark.txt" >"$work/pipeline.md" <<'PY'
import re, sys
rows, name, values = [], None, {}
def flush():
    if name and values:
        rows.append((name, values.copy()))
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if re.match(r"^[a-z0-9][a-z0-9.+-]*$", line):
        flush(); name, values = line, {}
    elif line.startswith("│") and name:
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) == 9 and cells[1].lstrip("-").isdigit():
            values[cells[0]] = cells[1:8]  # p0 p25 p50 p75 p90 p99 p100
flush()
print("| benchmark | wall clock p50 (µs) | p99 (µs) | allocations (p50) | bytes allocated (p50) |")
print("|---|---|---|---|---|")
for name, values in rows:
    wall = next((v for k, v in values.items() if k.startswith("Time (wall clock)")), None)
    mallocs = next((v for k, v in values.items() if k.startswith("Malloc (total)")), None)
    size = next((v for k, v in values.items() if k.startswith("Malloc (bytes total)")), None)
    unit = next((k for k in values if k.startswith("Malloc (bytes total)")), "")
    scale = " K" if "(K)" in unit else (" M" if "(M)" in unit else "")
    print(f"| {name} | {wall[2] if wall else '–'} | {wall[5] if wall else '–'} | {mallocs[2] if mallocs else '–'} | "
          f"{(size[2] + scale + 'B') if size else '–'} |")
for name, values in rows:
    for key, v in values.items():
        if key.startswith("Peak heap"):
            print(f"\n{name}: {key.split('(')[0].strip().lower()} {v[2]} KiB (p50).")
PY
  json_ms=$(python3 - "$work/frame.json" <<'PY'
import json, statistics, sys, time
data = open(sys.argv[1], "rb").read()
samples = []
for _ in range(300):
    start = time.perf_counter(); json.loads(data); samples.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(samples):.3f}")
PY
  )
else
  echo "(skipped by --short)" >"$work/pipeline.md"
  json_ms="(skipped by --short)"
fi

{
  echo "## Scrape throughput ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$threads -c$connections -d$duration --latency × $rounds rounds, Accept-Encoding: gzip)"
  echo
  echo "Each row: one exporter in demo mode with that many accounts, and nginx \`gzip_static\` ($(nproc) workers) serving the exporter's own bytes, measured alternately in $rounds rounds. Cells: median requests/s, median p99. \"text\" sends \`Accept: $text_accept\`; \"Prometheus 3\" sends its default \`Accept\` (OpenMetrics first). The last column: exporter resident memory idle / after the load, and CPU seconds per 1000 scrapes."
  echo
  echo "| payload | exporter, text | nginx, text | ratio | exporter, Prometheus 3 | nginx, OpenMetrics bytes | ratio | RSS, CPU |"
  echo "|---|---|---|---|---|---|---|---|"
  cat "$sizes_table"
  echo
  echo "What users run today, on the largest payload ($series series, text format):"
  echo
  echo "| server | requests/s | p99 | exporter vs it |"
  echo "|---|---|---|---|"
  echo "| binance-futures-exporter | $rps_largest | $p99_largest ms | 1.00× |"
  echo "| nginx gzip_static | $rps_nginx_largest | $p99_nginx_largest ms | $(ratio "$rps_largest" "$rps_nginx_largest")× |"
  echo "| node_exporter textfile | $rps_node | $p99_node | $(ratio "$rps_largest" "$rps_node")× |"
  echo "| Python prometheus_client | $rps_python | $p99_python | $(ratio "$rps_largest" "$rps_python")× |"
  echo
  echo "## Micro-benchmarks (package-benchmark; full output in $out/package-benchmark.txt)"
  echo
  cat "$work/pipeline.md"
  echo
  echo "Anchor: CPython \`json.loads\` of the same account.status frame: $json_ms ms (median of 300)."
} | tee "$out/results.md"
