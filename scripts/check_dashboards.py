#!/usr/bin/env python3
"""Static checks of the Grafana dashboards. Exits non-zero with one line per problem.

- variables: $datasource, $job, $instance, $account (multi, All = ".+"); no hard-coded uids;
  stable dashboard uid; not editable (provisioned from this repository).
- every panel: a description, a unit (fieldConfig.defaults.unit), the $datasource, a query.
- increase() only as an instant query over [$__range] (a total for the time range).
- every query: each binance_futures_*/process_*/up/scrape_* selector filters on $job and $instance
  (and $account where the series has an account label); rates use $__rate_interval; every
  division has a guarded denominator (`> 0` or clamp_min), so no panel shows ±Inf or NaN.
- $shard, where a dashboard has it: multi with All = ".*", listing binance_futures_shard_info's
  shards, and used only by queries that read binance_futures_shard_info alone (an exporter
  without that metric must leave every other panel working).
- the committed files are what scripts/make_dashboards.py generates, byte for byte, and it
  generates the same bytes twice (under different hash seeds).
"""
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile

REQUIRED_VARIABLES = {"datasource", "job", "instance", "account"}
# Series without an account label (IP-wide, process, build, Prometheus's own).
NO_ACCOUNT = re.compile(r"^(up|scrape_duration_seconds|process_\w+|binance_futures_(exporter_build_info|request_weight_used|"
                        r"request_weight_limit|scheduler_deferrals_total|rate_limited_until_timestamp_seconds|ip_banned|"
                        r"config_last_reload_successful|config_last_reload_success_timestamp_seconds|mark_feed_connected|"
                        r"mark_feed_last_frame_timestamp_seconds|mark_price|funding_rate|next_funding_timestamp_seconds|shard_info))$")
SELECTOR = re.compile(r"\b((?:binance_futures|process)_[a-z_]+|up|scrape_duration_seconds)\b(\{[^}]*\})?")
FUNCTIONS = {"sum", "max", "min", "count", "abs", "rate", "increase", "clamp_min", "vector", "time", "on", "by"}


def selector_problems(expr):
    problems = []
    for match in SELECTOR.finditer(expr):
        name, labels = match.group(1), match.group(2) or ""
        # `on (job, instance)` / `by (instance)` label lists are not selectors.
        before = expr[:match.start()].rstrip()
        if before.endswith(("(", ",")) and re.search(r"\b(on|by|without|ignoring)\s*\([^)]*$", expr[:match.start()]):
            continue
        if 'job=~"$job"' not in labels or 'instance=~"$instance"' not in labels:
            problems.append(f"selector {name}{labels} does not filter on $job and $instance")
        elif not NO_ACCOUNT.match(name) and 'account=~"$account"' not in labels:
            problems.append(f"selector {name}{labels} does not filter on $account")
    return problems


def operand_after(expr, index):
    """The text of the right operand of the binary operator at `index` (up to the next operator
    at the same nesting level)."""
    depth = 0
    i = index + 1
    while i < len(expr):
        c = expr[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (c in "+-*/" or expr.startswith(" and ", i) or expr.startswith(" or ", i) or expr.startswith(" unless ", i)):
            if expr[index + 1:i].strip():
                break
        i += 1
    return expr[index + 1:i]


def division_problems(expr):
    problems = []
    for match in re.finditer(r"/", expr):
        denominator = operand_after(expr, match.start()).strip()
        if re.fullmatch(r"[0-9.]+", denominator):
            continue
        if "> 0" not in denominator and "clamp_min(" not in denominator:
            problems.append(f"unguarded division by {denominator!r} (use `/ (x > 0)` or clamp_min)")
    return problems


def check(path):
    problems = []
    board = json.load(open(path))
    variables = {v["name"]: v for v in board.get("templating", {}).get("list", [])}
    missing = REQUIRED_VARIABLES - set(variables)
    if missing:
        problems.append(f"missing template variables: {sorted(missing)}")
    for name in ("job", "instance", "account"):
        variable = variables.get(name, {})
        if not (variable.get("multi") and variable.get("includeAll")) or variable.get("allValue") != ".+":
            problems.append(f"${name} must be multi-select with All and allValue \".+\"")
    shard = variables.get("shard")
    if shard is not None:
        query = shard.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        if not (shard.get("multi") and shard.get("includeAll")) or shard.get("allValue") != ".*":
            problems.append('$shard must be multi-select with All and allValue ".*"')
        if "binance_futures_shard_info" not in query:
            problems.append(f"$shard must list the shards of binance_futures_shard_info, not {query!r}")
    if not isinstance(board.get("annotations", {}).get("list"), list):
        problems.append("annotations.list missing (Grafana adds its built-in annotation to that list)")
    if not board.get("uid"):
        problems.append("dashboard has no stable uid")
    if board.get("editable") is not False:
        problems.append("dashboard must not be editable (it is provisioned from this repository)")
    text = json.dumps(board)
    for uid in re.findall(r'"uid":\s*"([^"]*)"', text):
        if uid not in ("${datasource}", board["uid"]):
            problems.append(f"hard-coded datasource uid {uid!r}")
    ids = []
    for panel in board["panels"]:
        ids.append(panel["id"])
        if panel["type"] == "row":
            continue
        where = f"panel {panel['id']} {panel['title']!r}"
        if not panel.get("description", "").strip():
            problems.append(f"{where}: no description")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{where}: no unit")
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{where}: datasource is not $datasource")
        targets = [t for t in panel.get("targets", []) if t.get("expr", "").strip()]
        if not targets:
            problems.append(f"{where}: no query")
        for target in targets:
            expr = target["expr"]
            # One exception: an instant query of increase(...[$__range]), the total over the
            # dashboard's time range (a stat), which does not depend on the step.
            over_range = target.get("instant") and not target.get("range") and "[$__range]" in expr \
                and "$__rate_interval" not in expr
            if re.search(r"\b(rate|increase|irate)\(", expr) and "$__rate_interval" not in expr and not over_range:
                problems.append(f"{where}: rate without $__rate_interval in {expr!r}")
            if re.search(r"\bincrease\(", expr) and not over_range:
                problems.append(f"{where}: increase() per step changes with zoom; plot a rate with a unit: {expr!r}")
            problems += [f"{where}: {p}" for p in selector_problems(expr)]
            if re.search(r"\$\{?shard\b", expr):
                others = {m.group(1) for m in SELECTOR.finditer(expr)} - {"binance_futures_shard_info"}
                if shard is None:
                    problems.append(f"{where}: uses $shard, which the dashboard does not define")
                if others:
                    problems.append(f"{where}: $shard in a query that also reads {sorted(others)}: "
                                    "without binance_futures_shard_info it would be empty")
            problems += [f"{where}: {p}" for p in division_problems(expr)]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate panel ids {sorted(duplicates)}")
    return problems


def generated_problems():
    """Regenerates the dashboards twice into temporary folders (different hash seeds) and compares
    both with each other and with the committed files."""
    here = os.path.dirname(os.path.abspath(__file__))
    committed = os.path.join(here, "..", "grafana", "dashboards")
    runs = []
    for seed in ("1", "2"):
        with tempfile.TemporaryDirectory() as out:
            result = subprocess.run([sys.executable, os.path.join(here, "make_dashboards.py"), out],
                                    capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED=seed))
            if result.returncode != 0:
                return [f"scripts/make_dashboards.py failed: {(result.stderr or result.stdout).strip()}"]
            runs.append({name: open(os.path.join(out, name), encoding="utf-8").read() for name in sorted(os.listdir(out))})
    problems = []
    if runs[0] != runs[1]:
        problems.append("scripts/make_dashboards.py is not deterministic: two runs differ in "
                        f"{sorted(n for n in set(runs[0]) | set(runs[1]) if runs[0].get(n) != runs[1].get(n))}")
    for name, text in runs[0].items():
        path = os.path.join(committed, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current is None:
            problems.append(f"grafana/dashboards/{name} is generated but not committed (run scripts/make_dashboards.py)")
        elif current != text:
            diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), f"committed/{name}", f"generated/{name}", lineterm="", n=1))
            problems.append(f"grafana/dashboards/{name} differs from what scripts/make_dashboards.py generates "
                            f"(run it and commit the result); first lines of the diff:\n  " + "\n  ".join(diff[:20]))
    for name in sorted(os.listdir(committed)):
        if name.endswith(".json") and name not in runs[0]:
            problems.append(f"grafana/dashboards/{name} is not generated by scripts/make_dashboards.py")
    return problems


if __name__ == "__main__":
    failed = False
    for path in sys.argv[1:]:
        problems = check(path)
        for problem in problems:
            print(f"{path}: {problem}")
        if not problems:
            print(f"{path}: ok")
        failed = failed or bool(problems)
    problems = generated_problems()
    for problem in problems:
        print(f"generated: {problem}")
    if not problems:
        print("generated: ok (scripts/make_dashboards.py reproduces grafana/dashboards/*.json)")
    failed = failed or bool(problems)
    sys.exit(1 if failed else 0)
