# Shared by scripts/bench.sh, scripts/cost-per-account.sh and scripts/e2e-prometheus.sh: a
# private work directory; on exit every background process whose pid was appended to `pids` is
# stopped and the directory removed. Also what the measurements read of a process.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# CPU time (user + system) of process $1, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# A field of /proc/$1/status in KiB: status_kib PID VmRSS
status_kib() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
