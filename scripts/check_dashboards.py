#!/usr/bin/env python3
"""Static checks of the Grafana dashboards: variables, datasource references, panel ids, queries.

Exits non-zero with one line per problem.
"""
import json
import re
import sys

REQUIRED_VARIABLES = {"datasource", "job", "instance", "account"}


def check(path):
    problems = []
    board = json.load(open(path))
    names = {v["name"] for v in board.get("templating", {}).get("list", [])}
    missing = REQUIRED_VARIABLES - names
    if missing:
        problems.append(f"missing template variables: {sorted(missing)}")
    for variable in board["templating"]["list"]:
        if variable["name"] == "account" and not (variable.get("multi") and variable.get("includeAll")):
            problems.append("$account must be multi-select with All")
    if not board.get("uid"):
        problems.append("dashboard has no stable uid")
    text = json.dumps(board)
    for uid in re.findall(r'"uid":\s*"([^"]*)"', text):
        if uid not in ("${datasource}", board["uid"]):
            problems.append(f"hard-coded datasource uid {uid!r}")
    ids = []
    for panel in board["panels"]:
        ids.append(panel["id"])
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"panel {panel['id']} {panel['title']!r}: datasource is not $datasource")
        targets = [t for t in panel.get("targets", []) if t.get("expr", "").strip()]
        if not targets:
            problems.append(f"panel {panel['id']} {panel['title']!r} has no query")
        for target in targets:
            expr = target["expr"]
            if re.search(r'job\s*=\s*"', expr) or re.search(r'instance\s*=~?\s*"(?!\$instance)', expr):
                problems.append(f"panel {panel['id']}: hard-coded job/instance in {expr!r}")
            if re.search(r"\b(rate|increase|irate)\(", expr) and "$__rate_interval" not in expr:
                problems.append(f"panel {panel['id']}: rate without $__rate_interval in {expr!r}")
            if "binance_futures_" in expr and "account" not in expr and "$instance" not in expr:
                problems.append(f"panel {panel['id']}: query ignores the $job/$instance variables: {expr!r}")
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate panel ids {sorted(duplicates)}")
    return problems


if __name__ == "__main__":
    failed = False
    for path in sys.argv[1:]:
        for problem in check(path):
            print(f"{path}: {problem}")
            failed = True
        if not failed:
            print(f"{path}: ok")
    sys.exit(1 if failed else 0)
