#!/usr/bin/env bash
# Weight per calendar minute over reconcile cycles (issue #23): N accounts of the simulator in
# its own process (`binance-futures-exporter simulate`, quiet accounts with two positions each),
# the exporter at its defaults (--poll.interval 15s, --poll.reconcile-interval 5m, user streams and
# the mark feed on). Once every account is up, subscribed and reconciling, the weight the exporter
# spent (binance_futures_request_weight_consumed_total) is sampled just after each minute
# boundary for MINUTES minutes; prints one row per minute, then the mean and the worst minute.
#
#   scripts/reconcile-minutes.sh [ACCOUNTS] [MINUTES]     default: 60 10
#
# BFE_BINARY: the exporter binary (default: the debug build; weights do not depend on speed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
accounts=${1:-60}
minutes=${2:-10}
bin=${BFE_BINARY:-$(swift build --show-bin-path)/binance-futures-exporter}
port=${BFE_RECONCILE_PORT:-19970}

scrape() { curl -fsS "http://127.0.0.1:$port/metrics"; }
count() {  # how many series of a gauge have value $2 (0 while the listener is not up yet)
  local metrics
  metrics=$(scrape 2>/dev/null) || { echo 0; return; }
  awk -v name="$1" -v value="$2" '$1 ~ "^"name"[{]" && $2 == value {n++} END {print n + 0}' <<<"$metrics"
}
weight() { scrape | awk '$1 ~ /^binance_futures_request_weight_consumed_total[{]/ {s += $2} END {printf "%.0f", s}'; }

"$bin" simulate --activity-interval 3600 --extra-accounts $((accounts - 1)) --write-config "$work/config.yml" >"$work/sim.json" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/config.yml" ] && break; sleep 0.1; done
"$bin" --config.file "$work/config.yml" --web.listen-address "127.0.0.1:$port" --log.level warn >"$work/exporter.log" 2>&1 &
pids+=($!)
started=$(date +%s)
until [ "$(count binance_futures_up 1)" -ge "$accounts" ] && [ "$(count binance_futures_user_stream_connected 1)" -ge "$accounts" ] \
  && [ "$(count binance_futures_poll_interval_seconds 300)" -ge "$accounts" ]; do
  sleep 5
  if [ $(( $(date +%s) - started )) -gt 1200 ]; then echo "$accounts accounts not all reconciling after 20 minutes" >&2; exit 1; fi
done
echo "all $accounts accounts up, subscribed and reconciling after $(( $(date +%s) - started )) s" >&2
# Sample 2 s after each minute boundary (the exporter's windows are the exchange's calendar minutes).
sleep $(( 62 - $(date +%s) % 60 ))
previous=$(weight)
echo "| minute (UTC) | weight | per account |"
echo "|---|---|---|"
values=()
for _ in $(seq 1 "$minutes"); do
  sleep $(( 62 - $(date +%s) % 60 ))
  current=$(weight)
  spent=$((current - previous))
  previous=$current
  values+=("$spent")
  printf '| %s | %d | %.2f |\n' "$(date -u -d @$(( $(date +%s) - 62 )) +%H:%M)" "$spent" "$(echo "$spent / $accounts" | bc -l)"
done
python3 - "$accounts" "${values[@]}" <<'PY'
import sys
n = int(sys.argv[1]); values = [int(v) for v in sys.argv[2:]]
mean = sum(values) / len(values)
print(f"\nmean {mean:.1f} weight/min ({mean / n:.2f} per account-minute); worst minute {max(values)} ({max(values) / mean:.2f}× the mean)")
PY
