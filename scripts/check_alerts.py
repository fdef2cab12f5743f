#!/usr/bin/env python3
"""Checks that the alert rules, the runbook and the README stay in step: every alert has a
severity, a summary, a description, a dashboard_url and a runbook_url whose section exists in
docs/runbook.md, and is named in README.md's alert table, whose count and rows match the rules
exactly; every runbook section belongs to an alert.
Exit 1 with one line per problem."""
import re
import sys

import yaml


def anchors(markdown):
    """GitHub-style anchors of the `##` headings."""
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^## (.+)$", markdown, re.M)}


def main(rules_path="prometheus/alerts.yml", runbook_path="docs/runbook.md", readme_path="README.md"):
    problems = []
    rules = [r for g in yaml.safe_load(open(rules_path))["groups"] for r in g["rules"] if "alert" in r]
    runbook = open(runbook_path).read()
    readme = open(readme_path).read()
    sections = anchors(runbook)
    names = set()
    for rule in rules:
        name = rule["alert"]
        names.add(name)
        annotations = rule.get("annotations", {})
        if rule.get("labels", {}).get("severity") not in ("warning", "critical"):
            problems.append(f"{name}: severity must be warning or critical")
        for key in ("summary", "description", "runbook_url", "dashboard_url"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key} annotation")
        url = annotations.get("runbook_url", "")
        anchor = url.split("#", 1)[1] if "#" in url else ""
        if not url.startswith(runbook_path + "#") or anchor != name.lower():
            problems.append(f"{name}: runbook_url should be {runbook_path}#{name.lower()}, is {url!r}")
        elif anchor not in sections:
            problems.append(f"{name}: {runbook_path} has no section '## {name}'")
        if name not in readme:
            problems.append(f"{name}: not listed in {readme_path}")
    # The README's count and its table list exactly the rules.
    counts = re.findall(r"`prometheus/alerts\.yml`: (\d+) alerts", readme)
    if counts != [str(len(rules))]:
        problems.append(f"{readme_path}: says {counts or 'no'} alerts for prometheus/alerts.yml, the file has {len(rules)}")
    listed = set(re.findall(r"^\s*\| `(BinanceFutures\w+)` \|", readme, re.M))
    for name in sorted(listed - names):
        problems.append(f"{readme_path}: the alert table lists {name}, which is no rule")
    for name in sorted(names - listed):
        problems.append(f"{name}: not in {readme_path}'s alert table")
    for section in sections - {n.lower() for n in names} - {"runbook-binance-futures-exporter-alerts"}:
        problems.append(f"{runbook_path}: section #{section} belongs to no alert")
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"{len(rules)} alerts checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
