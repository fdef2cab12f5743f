#!/usr/bin/env bash
# Cost per account (issue #15): CPU seconds per hour, request weight per minute and resident
# memory of the exporter watching 1, 10 and 100 accounts of the simulator in its own process
# (`binance-futures-exporter simulate`), at the defaults (--poll.interval 15s,
# --poll.reconcile-interval 5m, user data streams and the mark feed on). For each size: wait
# until every account is up with its stream subscribed, then measure a steady window. The first
# account trades (a simulator activity step every BFE_ACTIVITY_INTERVAL seconds, default 60:
# fills, funding, margin calls, forced closes, now and then an expired listen key); the others
# hold two positions each and only see mark prices move.
#
#   scripts/cost-per-account.sh [WINDOW_SECONDS] [SIZES...]     default: 300 1 10 100
#
# Uses the release binary (swift build -c release). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
window=${1:-300}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 100)
swift build -c release --product binance-futures-exporter >/dev/null
exporter="$(swift build -c release --show-bin-path)/binance-futures-exporter"
hz=$(getconf CLK_TCK)
port=19960

scrape() { curl -fsS "http://127.0.0.1:$port/metrics"; }
count() {  # how many series of a gauge are 1 (0 while the listener is not up yet)
  local metrics
  metrics=$(scrape 2>/dev/null) || { echo 0; return; }
  awk -v name="$1" '$1 ~ "^"name"[{]" && $2 == 1 {n++} END {print n + 0}' <<<"$metrics"
}
weight() { scrape | awk '$1 ~ /^binance_futures_request_weight_consumed_total[{]/ {s += $2} END {printf "%.0f", s}'; }

echo "| accounts | until all up and subscribed | CPU s/hour | per account | weight/min | per account | RSS | anonymous RSS | per account (anon) |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  "$exporter" simulate --activity-interval "${BFE_ACTIVITY_INTERVAL:-60}" --extra-accounts $((n - 1)) --write-config "$work/config-$n.yml" >"$work/sim-$n.json" 2>"$work/sim-$n.log" &
  sim=$!
  pids+=($sim)
  for _ in $(seq 1 100); do [ -s "$work/config-$n.yml" ] && break; sleep 0.1; done
  "$exporter" --config.file "$work/config-$n.yml" --web.listen-address "127.0.0.1:$port" --log.level warn >"$work/exporter-$n.log" 2>&1 &
  pid=$!
  pids+=($pid)
  started=$(date +%s)
  until [ "$(count binance_futures_up)" -ge "$n" ] && [ "$(count binance_futures_user_stream_connected)" -ge "$n" ]; do
    sleep 5
    if [ $(( $(date +%s) - started )) -gt 1200 ]; then echo "$n accounts not all up after 20 minutes" >&2; exit 1; fi
  done
  ramp=$(( $(date +%s) - started ))
  ticks0=$(cpu_ticks $pid); weight0=$(weight); t0=$(date +%s.%N)
  sleep "$window"
  ticks1=$(cpu_ticks $pid); weight1=$(weight); t1=$(date +%s.%N)
  rss=$(status_kib $pid VmRSS); anon=$(status_kib $pid RssAnon)
  python3 - "$n" "$ramp" "$ticks0" "$ticks1" "$hz" "$weight0" "$weight1" "$t0" "$t1" "$rss" "$anon" <<'PY'
import sys
n, ramp, c0, c1, hz, w0, w1, t0, t1, rss, anon = sys.argv[1:]
n = int(n); elapsed = float(t1) - float(t0)
cpu_hour = (int(c1) - int(c0)) / int(hz) / elapsed * 3600
weight_min = (float(w1) - float(w0)) / elapsed * 60
print(f"| {n} | {ramp} s | {cpu_hour:.1f} | {cpu_hour / n:.2f} | {weight_min:.1f} | {weight_min / n:.2f} | "
      f"{int(rss) / 1024:.1f} MiB | {int(anon) / 1024:.1f} MiB | {int(anon) / 1024 / n:.2f} MiB |")
PY
  kill $pid $sim; wait $pid $sim 2>/dev/null || true
done
