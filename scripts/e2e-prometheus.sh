#!/usr/bin/env bash
# End-to-end check with a real Prometheus: the exporter runs in demo mode, Prometheus scrapes it
# (with the repo's alert rules loaded), and every PromQL expression of the dashboards and the
# alert rules is evaluated through Prometheus's HTTP API. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BFE_BINARY:-$(swift build --show-bin-path)/binance-futures-exporter}
source scripts/lib.sh
exporter_port=${BFE_E2E_EXPORTER_PORT:-19911}
prometheus_port=${BFE_E2E_PROMETHEUS_PORT:-19090}

"$bin" --demo --web.listen-address "127.0.0.1:${exporter_port}" --poll.interval 2s --weight.max-share 0.5 \
  >"$work/exporter.log" 2>&1 &
pids+=($!)

# A second exporter with an account that can never poll (nothing listens at its URL): panels
# must cope with an account whose last success is 0 (no absurd ages), alerts must not misfire.
never_port=${BFE_E2E_NEVER_PORT:-19912}
cat >"$work/never.yml" <<YAML
binance:
  ws_url: ws://127.0.0.1:9/ws-fapi/v1
accounts:
  - name: never-polled
    api_key: NEVERPOLLEDKEY0000000000000000000000000000000000000000000000001
    secret: never-polled-secret
YAML
chmod 600 "$work/never.yml"
"$bin" --config.file "$work/never.yml" --web.listen-address "127.0.0.1:${never_port}" --poll.interval 2s \
  >"$work/never.log" 2>&1 &
pids+=($!)

cp prometheus/alerts.yml "$work/alerts.yml"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - $work/alerts.yml
scrape_configs:
  - job_name: e2e-any-job-name
    static_configs:
      - targets: ["127.0.0.1:${exporter_port}", "127.0.0.1:${never_port}"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:${prometheus_port}" >"$work/prometheus.log" 2>&1 &
pids+=($!)

if ! python3 scripts/check_queries.py --prometheus "http://127.0.0.1:${prometheus_port}" \
    --dashboards grafana/dashboards/*.json --rules prometheus/alerts.yml --timeout 120; then
  echo "--- exporter log"; tail -n 40 "$work/exporter.log"
  echo "--- prometheus log"; tail -n 40 "$work/prometheus.log"
  exit 1
fi
