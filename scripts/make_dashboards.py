#!/usr/bin/env python3
"""Generates grafana/dashboards/*.json. Run after changing panels; the output is committed.

Every query uses the $job/$instance/$account variables, $__rate_interval for rates and the
$datasource variable, so the dashboards work with any job name and any Prometheus datasource.
"""
import json
import os

SEL = 'job=~"$job", instance=~"$instance", account=~"$account"'
SEL_IP = 'job=~"$job", instance=~"$instance"'
DS = {"type": "prometheus", "uid": "${datasource}"}


def variables():
    def query_var(name, label, query, multi, include_all):
        return {
            "name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all,
            "allValue": ".*" if include_all else None,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if include_all else {},
            "hide": 0, "options": [], "regex": "", "skipUrlSync": False,
        }
    return {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "options": [], "refresh": 1, "regex": "", "skipUrlSync": False},
        query_var("job", "Job", "label_values(binance_futures_exporter_build_info, job)", True, True),
        query_var("instance", "Instance", 'label_values(binance_futures_exporter_build_info{job=~"$job"}, instance)', True, True),
        query_var("account", "Account", 'label_values(binance_futures_up{job=~"$job", instance=~"$instance"}, account)', True, True),
    ]}


class Builder:
    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.y = 0

    def row(self, title):
        self.panels.append({"id": self.next_id, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.next_id += 1
        self.y += 1

    def add(self, kind, title, targets, w, h, x, unit="none", description="", options=None, field_config=None, transformations=None):
        panel = {
            "id": self.next_id, "type": kind, "title": title, "description": description, "datasource": DS,
            "gridPos": {"h": h, "w": w, "x": x, "y": self.y},
            "targets": [dict({"datasource": DS, "refId": chr(65 + i)}, **t) for i, t in enumerate(targets)],
            "fieldConfig": field_config or {"defaults": {"unit": unit}, "overrides": []},
            "options": options or {},
        }
        if transformations:
            panel["transformations"] = transformations
        self.panels.append(panel)
        self.next_id += 1
        if x + w >= 24:
            self.y += h


def ts(expr, legend):
    return {"expr": expr, "legendFormat": legend, "range": True, "instant": False}


def table_q(expr):
    return {"expr": expr, "format": "table", "instant": True, "range": False}


def thresholds(steps):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def overview():
    b = Builder()
    b.row("Account")
    stat_opts = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    b.add("stat", "Equity (margin balance)", [ts(f'binance_futures_account_margin_balance{{{SEL}}}', "{{account}}")], 6, 5, 0,
          unit="currencyUSD", description="Wallet balance + unrealized PnL. USDT in single-asset mode, USD value in multi-assets mode.", options=stat_opts)
    b.add("stat", "Unrealized PnL", [ts(f'binance_futures_account_unrealized_profit{{{SEL}}}', "{{account}}")], 6, 5, 6,
          unit="currencyUSD", options=stat_opts,
          field_config={"defaults": {"unit": "currencyUSD", "thresholds": thresholds([(None, "red"), (0, "green")]), "color": {"mode": "thresholds"}}, "overrides": []})
    b.add("stat", "Available balance", [ts(f'binance_futures_account_available_balance{{{SEL}}}', "{{account}}")], 6, 5, 12, unit="currencyUSD", options=stat_opts)
    b.add("gauge", "Margin ratio", [ts(f'binance_futures_account_margin_ratio{{{SEL}}}', "{{account}}")], 6, 5, 18,
          description="Maintenance margin / margin balance. Liquidation at 100 %.",
          options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "showThresholdMarkers": True},
          field_config={"defaults": {"unit": "percentunit", "min": 0, "max": 1, "thresholds": thresholds([(None, "green"), (0.5, "orange"), (0.8, "red")])}, "overrides": []})
    b.add("timeseries", "Equity, wallet and available", [
        ts(f'binance_futures_account_margin_balance{{{SEL}}}', "{{account}} equity"),
        ts(f'binance_futures_account_wallet_balance{{{SEL}}}', "{{account}} wallet"),
        ts(f'binance_futures_account_available_balance{{{SEL}}}', "{{account}} available"),
    ], 12, 8, 0, unit="currencyUSD")
    b.add("timeseries", "Unrealized PnL", [ts(f'binance_futures_account_unrealized_profit{{{SEL}}}', "{{account}}")], 12, 8, 12, unit="currencyUSD")
    b.add("timeseries", "Margin ratio", [ts(f'binance_futures_account_margin_ratio{{{SEL}}}', "{{account}}")], 12, 8, 0,
          field_config={"defaults": {"unit": "percentunit", "min": 0, "thresholds": thresholds([(None, "green"), (0.5, "orange"), (0.8, "red")]),
                                     "custom": {"thresholdsStyle": {"mode": "line"}}}, "overrides": []})
    b.add("timeseries", "Initial and maintenance margin", [
        ts(f'binance_futures_account_initial_margin{{{SEL}}}', "{{account}} initial"),
        ts(f'binance_futures_account_maint_margin{{{SEL}}}', "{{account}} maintenance"),
    ], 12, 8, 12, unit="currencyUSD")
    b.row("Assets")
    b.add("table", "Per-asset balances (asset units)", [
        table_q(f'binance_futures_asset_wallet_balance{{{SEL}}}'),
        table_q(f'binance_futures_asset_margin_balance{{{SEL}}}'),
        table_q(f'binance_futures_asset_unrealized_profit{{{SEL}}}'),
        table_q(f'binance_futures_asset_available_balance{{{SEL}}}'),
    ], 24, 7, 0, transformations=[
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                                       "renameByName": {"Value #A": "Wallet", "Value #B": "Margin balance", "Value #C": "Unrealized PnL", "Value #D": "Available"}}},
    ])
    b.row("Positions")
    b.add("table", "Open positions", [
        table_q(f'binance_futures_position_amount{{{SEL}}}'),
        table_q(f'binance_futures_position_entry_price{{{SEL}}}'),
        table_q(f'binance_futures_position_mark_price{{{SEL}}}'),
        table_q(f'binance_futures_position_liquidation_price{{{SEL}}}'),
        table_q(f'abs(binance_futures_position_mark_price{{{SEL}}} - binance_futures_position_liquidation_price{{{SEL}}}) / binance_futures_position_mark_price{{{SEL}}} and binance_futures_position_liquidation_price{{{SEL}}} > 0'),
        table_q(f'binance_futures_position_unrealized_profit{{{SEL}}}'),
        table_q(f'binance_futures_position_leverage{{{SEL}}}'),
        table_q(f'binance_futures_position_isolated{{{SEL}}}'),
        table_q(f'binance_futures_position_notional{{{SEL}}}'),
    ], 24, 10, 0, description="Distance to liquidation = |mark − liquidation| / mark. Leverage and margin type come from account.status (v1).",
          transformations=[
              {"id": "merge", "options": {}},
              {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                                             "indexByName": {"account": 0, "symbol": 1, "position_side": 2},
                                             "renameByName": {"position_side": "side", "Value #A": "Amount", "Value #B": "Entry", "Value #C": "Mark",
                                                              "Value #D": "Liquidation", "Value #E": "Distance to liquidation", "Value #F": "Unrealized PnL",
                                                              "Value #G": "Leverage", "Value #H": "Isolated", "Value #I": "Notional"}}},
          ],
          field_config={"defaults": {}, "overrides": [
              {"matcher": {"id": "byName", "options": "Distance to liquidation"},
               "properties": [{"id": "unit", "value": "percentunit"}, {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                              {"id": "thresholds", "value": thresholds([(None, "red"), (0.05, "orange"), (0.15, "green")])}]},
              {"matcher": {"id": "byName", "options": "Isolated"},
               "properties": [{"id": "mappings", "value": [{"type": "value", "options": {"0": {"text": "cross"}, "1": {"text": "isolated"}}}]}]},
          ]})
    b.add("timeseries", "Position unrealized PnL", [ts(f'binance_futures_position_unrealized_profit{{{SEL}}}', "{{account}} {{symbol}} {{position_side}}")], 12, 8, 0, unit="currencyUSD")
    b.add("timeseries", "Mark vs liquidation price", [
        ts(f'binance_futures_position_mark_price{{{SEL}}}', "{{account}} {{symbol}} {{position_side}} mark"),
        ts(f'binance_futures_position_liquidation_price{{{SEL}}} > 0', "{{account}} {{symbol}} {{position_side}} liquidation"),
    ], 12, 8, 12)
    return dashboard("binance-futures-accounts", "Binance Futures — Accounts", b.panels)


def health():
    b = Builder()
    b.row("Freshness")
    b.add("stat", "Accounts up", [ts(f'sum(binance_futures_up{{{SEL}}})', "up"), ts(f'count(binance_futures_up{{{SEL}}})', "configured")], 6, 5, 0,
          options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"})
    b.add("state-timeline", "Up per account", [ts(f'binance_futures_up{{{SEL}}}', "{{account}}")], 18, 5, 6,
          field_config={"defaults": {"mappings": [{"type": "value", "options": {"0": {"text": "down", "color": "red"}, "1": {"text": "up", "color": "green"}}}],
                                     "thresholds": thresholds([(None, "red"), (1, "green")])}, "overrides": []})
    b.add("timeseries", "Data age", [ts(f'time() - binance_futures_last_success_timestamp_seconds{{{SEL}}}', "{{account}}"),
                                     ts(f'3 * binance_futures_poll_interval_seconds{{{SEL}}}', "{{account}} stale after")], 12, 8, 0, unit="s")
    b.add("timeseries", "Poll duration", [ts(f'binance_futures_poll_duration_seconds{{{SEL}}}', "{{account}}")], 12, 8, 12, unit="s")
    b.row("Request weight (shared by everything on the IP)")
    b.add("timeseries", "IP weight used vs limit", [
        ts(f'max by (instance) (binance_futures_request_weight_used{{{SEL_IP}}})', "{{instance}} used"),
        ts(f'max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} limit"),
    ], 12, 8, 0)
    b.add("timeseries", "Exporter weight per minute", [
        ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60', "{{instance}} exporter"),
        ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60 / max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} share of limit"),
    ], 12, 8, 12)
    b.add("timeseries", "Scheduler deferrals", [ts(f'sum by (reason) (rate(binance_futures_scheduler_deferrals_total{{{SEL_IP}}}[$__rate_interval]))', "{{reason}}")], 12, 8, 0, unit="ops")
    b.add("timeseries", "Rate limited / banned until", [
        ts(f'clamp_min(max by (instance) (binance_futures_rate_limited_until_timestamp_seconds{{{SEL_IP}}}) - time(), 0)', "{{instance}} seconds left"),
        ts(f'max by (instance) (binance_futures_ip_banned{{{SEL_IP}}})', "{{instance}} banned"),
    ], 12, 8, 12, unit="s")
    b.row("Errors and connections")
    b.add("timeseries", "Poll errors by code", [ts(f'sum by (account, code) (increase(binance_futures_poll_errors_total{{{SEL}}}[$__rate_interval]))', "{{account}} {{code}}")], 12, 8, 0)
    b.add("timeseries", "Poll rate", [ts(f'sum by (account) (rate(binance_futures_polls_total{{{SEL}}}[$__rate_interval]))', "{{account}}")], 12, 8, 12, unit="ops")
    b.add("timeseries", "WebSocket reconnects", [ts(f'sum by (account, reason) (increase(binance_futures_websocket_reconnects_total{{{SEL}}}[$__rate_interval]))', "{{account}} {{reason}}")], 8, 8, 0)
    b.add("state-timeline", "WebSocket connected", [ts(f'binance_futures_websocket_connected{{{SEL}}}', "{{account}}")], 8, 8, 8,
          field_config={"defaults": {"mappings": [{"type": "value", "options": {"0": {"text": "disconnected", "color": "red"}, "1": {"text": "connected", "color": "green"}}}]}, "overrides": []})
    b.add("timeseries", "Clock offset (exchange − local)", [ts(f'binance_futures_clock_offset_seconds{{{SEL}}}', "{{account}}")], 8, 8, 16, unit="s")
    b.row("Process")
    b.add("timeseries", "Resident memory", [ts(f'process_resident_memory_bytes{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info', "{{instance}}")], 12, 7, 0, unit="bytes")
    b.add("timeseries", "CPU", [ts(f'rate(process_cpu_seconds_total{{{SEL_IP}}}[$__rate_interval]) and on (job, instance) binance_futures_exporter_build_info', "{{instance}}")], 12, 7, 12, unit="percentunit")
    return dashboard("binance-futures-exporter-health", "Binance Futures — Exporter health", b.panels)


def dashboard(uid, title, panels):
    return {
        "uid": uid, "title": title, "tags": ["binance", "futures", "prometheus-exporter"], "timezone": "",
        "schemaVersion": 39, "version": 1, "editable": True, "graphTooltip": 1, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "fiscalYearStartMonth": 0, "liveNow": False,
        "annotations": {"list": []}, "links": [], "templating": variables(), "panels": panels,
        "__inputs": [], "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    }


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "grafana", "dashboards")
    for name, board in [("binance-futures-accounts.json", overview()), ("binance-futures-exporter-health.json", health())]:
        with open(os.path.join(out, name), "w") as f:
            json.dump(board, f, indent=2)
            f.write("\n")
