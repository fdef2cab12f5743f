#!/usr/bin/env python3
"""Evaluates every dashboard query and alert expression against a live Prometheus.

Dashboard template variables are substituted with match-all values. A query fails when
Prometheus answers with an error or, for dashboard panels and the series alert rules read,
with no data (Portfolio Margin queries may be empty while no exporter has such an account). Alert expressions compare against thresholds, so an empty answer is expected
when nothing is wrong; for them every metric they reference must exist (except the few that
exist only while something is wrong, listed below), and the expression must evaluate cleanly.
"""
import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request

# Series that only exist while something is wrong (a stopped account).
FAULT_ONLY = {"binance_futures_account_stopped"}
# Queries about Portfolio Margin accounts: only such an account exports these series. When the
# exporters under test have none, these queries must still evaluate cleanly but may be empty; with
# one, they must return data like every other query.
PORTFOLIO_MARGIN = re.compile(r'venue="portfolio-margin"|\bbinance_futures_(account_uni_mmr|account_equity_usd|account_status'
                              r'|asset_(cross_margin_[a-z_]+|um_[a-z_]+|cm_[a-z_]+|negative_balance))\b')


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        body = json.load(error)
    if body.get("status") != "success":
        raise ValueError(body.get("error", "unknown error"))
    return body["data"]["result"]


TEN_YEARS = 10 * 365 * 86400


def absurd_values(result, unit):
    """Values no panel should ever show: NaN or ±Inf (an unguarded division), ages or durations
    above ten years (time() minus a zero timestamp), magnitudes no account reaches."""
    problems = []
    for series in result:
        raw = series["value"][1]
        value = float(raw)
        labels = {k: v for k, v in series["metric"].items() if k in ("account", "symbol", "instance", "reason", "code")}
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(f"{raw} for {labels}")
        elif unit == "s" and abs(value) > TEN_YEARS:
            problems.append(f"{value:.0f} s (over ten years) for {labels}")
        elif abs(value) > 1e12:
            problems.append(f"{value:g} for {labels}")
    return problems


def substitute(expr):
    for name, value in [("$__rate_interval", "30s"), ("$__interval", "15s"), ("$__range", "5m")]:
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?(job|instance|account|shard)\}?", ".*", expr)


def wait_for_data(base, timeout):
    deadline = time.time() + timeout
    needed = ['binance_futures_up == 1', 'rate(binance_futures_websocket_reconnects_total[30s])', 'rate(binance_futures_poll_errors_total[30s])',
              'binance_futures_up{account="never-polled"} == 0',
              'binance_futures_request_weight_consumed_total', 'rate(binance_futures_polls_total[30s]) > 0',
              # The demo drops its user stream and auto-deleverages a position ~25 s after start.
              'rate(binance_futures_user_stream_reconnects_total[30s])', 'rate(binance_futures_forced_closes_total[30s])',
              'rate(binance_futures_income_total[30s]) > 0']
    missing = needed
    while time.time() < deadline:
        try:
            missing = [expr for expr in needed if len(query(base, expr)) == 0]
            ups = query(base, "binance_futures_up == 1")
            if not missing and len(ups) >= 3:
                return True
        except Exception:
            pass
        time.sleep(2)
    print(f"timed out waiting for data; still empty: {missing}")
    return False


def metric_names(expr):
    return sorted(set(re.findall(r"\b(binance_futures_[a-z_]+|process_[a-z_]+|up)\b", expr)))


def rule_exprs(path):
    """Extracts `alert:` / `expr:` pairs (block scalars included) without a YAML library."""
    lines = open(path).read().splitlines()
    rules = []
    i = 0
    while i < len(lines):
        match = re.match(r"\s*- alert:\s*(\S+)", lines[i])
        if match:
            name = match.group(1)
            j = i + 1
            while j < len(lines) and not re.match(r"\s*expr:", lines[j]):
                j += 1
            first = lines[j].split("expr:", 1)[1].strip()
            if first in ("|", ">", "|-", ">-"):
                indent = len(lines[j + 1]) - len(lines[j + 1].lstrip())
                body = []
                k = j + 1
                while k < len(lines) and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) >= indent):
                    body.append(lines[k].strip())
                    k += 1
                first = " ".join(part for part in body if part)
            rules.append((name, first))
            i = j
        i += 1
    return rules


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--dashboards", nargs="+", default=[])
    parser.add_argument("--rules", nargs="+", default=[])
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    if not wait_for_data(args.prometheus, args.timeout):
        sys.exit(1)
    failures = 0
    checked = 0
    pm_optional = not query(args.prometheus, 'binance_futures_account_info{venue="portfolio-margin"}')
    if pm_optional:
        print("no Portfolio Margin account: its queries are evaluated, but may be empty")
    for path in args.dashboards:
        board = json.load(open(path))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = substitute(target["expr"])
                checked += 1
                try:
                    result = query(args.prometheus, expr)
                    if not result and not (pm_optional and PORTFOLIO_MARGIN.search(expr)):
                        print(f"FAIL {path} panel {panel['id']} {panel['title']!r}: no data for {expr}")
                        failures += 1
                    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
                    for problem in absurd_values(result, unit):
                        print(f"FAIL {path} panel {panel['id']} {panel['title']!r}: absurd value {problem} from {expr}")
                        failures += 1
                except ValueError as error:
                    print(f"FAIL {path} panel {panel['id']} {panel['title']!r}: {error} in {expr}")
                    failures += 1
    for path in args.rules:
        rules = rule_exprs(path)
        if not rules:
            print(f"FAIL {path}: no alert rules found")
            failures += 1
        for name, expr in rules:
            checked += 1
            try:
                query(args.prometheus, expr)
            except ValueError as error:
                print(f"FAIL {path} alert {name}: {error} in {expr}")
                failures += 1
                continue
            for metric in metric_names(expr):
                if metric in FAULT_ONLY or (pm_optional and PORTFOLIO_MARGIN.search(metric)):
                    continue
                if not query(args.prometheus, metric):
                    print(f"FAIL {path} alert {name}: metric {metric} has no series")
                    failures += 1
    # The rules were loaded by Prometheus itself and evaluate without errors there too.
    with urllib.request.urlopen(f"{args.prometheus}/api/v1/rules", timeout=10) as response:
        groups = json.load(response)["data"]["groups"]
    for group in groups:
        for rule in group["rules"]:
            if rule.get("health") != "ok":
                print(f"FAIL rule {rule['name']}: health {rule.get('health')} {rule.get('lastError', '')}")
                failures += 1
    print(f"checked {checked} expressions against Prometheus: {failures} failed")
    sys.exit(1 if failures else 0)
