# Shared by scripts/bench.sh and scripts/e2e-prometheus.sh: a private work directory; on exit
# every background process whose pid was appended to `pids` is stopped and the directory removed.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
