#!/usr/bin/env python3
"""Generates grafana/dashboards/*.json. Run after changing panels; the output is committed and
checked by scripts/check_dashboards.py.

Every query filters on $job/$instance (and $account where the series has it), uses
$__rate_interval for rates and the $datasource variable, so the dashboards work with any job
name and any Prometheus data source. Every panel has a description and a unit; every division
is guarded against a zero or missing denominator.

Money: account totals are USDT in single-asset mode and USD value in multi-assets mode; the
unit shows "USDT" (Binance's own convention for both), asset rows are in their asset's units.
"""
import json
import os

SEL = 'job=~"$job", instance=~"$instance", account=~"$account"'
SEL_IP = 'job=~"$job", instance=~"$instance"'
DS = {"type": "prometheus", "uid": "${datasource}"}
USDT = "suffix: USDT"
PER_MIN = "suffix: /min"
LEVERAGE = "suffix:x"
DISTANCE = (f'abs(binance_futures_position_mark_price{{{SEL}}} - binance_futures_position_liquidation_price{{{SEL}}})'
            f' / (binance_futures_position_mark_price{{{SEL}}} > 0)'
            f' and binance_futures_position_liquidation_price{{{SEL}}} > 0')
# Same thresholds as the liquidation alerts (prometheus/alerts.yml, docs/runbook.md).
DISTANCE_STEPS = [(None, "red"), (0.05, "orange"), (0.15, "green")]
MARGIN_STEPS = [(None, "green"), (0.5, "orange"), (0.8, "red")]


def variables():
    def query_var(name, label, query):
        return {
            "name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "sort": 1, "multi": True, "includeAll": True, "allValue": ".+",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "hide": 0, "options": [], "regex": "", "skipUrlSync": False,
        }
    return {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "options": [], "refresh": 1, "regex": "", "skipUrlSync": False},
        query_var("job", "Job", "label_values(binance_futures_exporter_build_info, job)"),
        query_var("instance", "Instance", 'label_values(binance_futures_exporter_build_info{job=~"$job"}, instance)'),
        query_var("account", "Account", 'label_values(binance_futures_up{job=~"$job", instance=~"$instance"}, account)'),
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

    def add(self, kind, title, description, targets, w, h, x, unit, options=None, defaults=None, overrides=None,
            transformations=None):
        field_defaults = {"unit": unit}
        field_defaults.update(defaults or {})
        panel = {
            "id": self.next_id, "type": kind, "title": title, "description": description, "datasource": DS,
            "gridPos": {"h": h, "w": w, "x": x, "y": self.y},
            "targets": [dict({"datasource": DS, "refId": chr(65 + i)}, **t) for i, t in enumerate(targets)],
            "fieldConfig": {"defaults": field_defaults, "overrides": overrides or []},
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


def instant(expr, legend="__auto"):
    return {"expr": expr, "legendFormat": legend, "range": False, "instant": True}


def table_q(expr):
    return {"expr": expr, "format": "table", "instant": True, "range": False}


def thresholds(steps):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def line_thresholds(steps):
    return {"thresholds": thresholds(steps), "custom": {"thresholdsStyle": {"mode": "line"}}}


def stat(calcs=("lastNotNull",), graph="area"):
    return {"reduceOptions": {"calcs": list(calcs), "fields": "", "values": False}, "colorMode": "value",
            "graphMode": graph, "textMode": "auto", "justifyMode": "auto"}


def column(name, *properties):
    return {"matcher": {"id": "byName", "options": name}, "properties": [{"id": k, "value": v} for k, v in properties]}


def state_mappings(off_text, on_text):
    return {"mappings": [{"type": "value", "options": {"0": {"text": off_text, "color": "red"}, "1": {"text": on_text, "color": "green"}}}]}


def income_net(type_, window):
    """Net income of one type for the USDT asset: what came in minus what went out."""
    def side(direction):
        return f'sum(increase(binance_futures_income_total{{{SEL}, asset="USDT", type="{type_}", direction="{direction}"}}[{window}]))'
    return f'({side("in")} or vector(0)) - ({side("out")} or vector(0))'


def income_rate(type_):
    """Net income of one type per hour, per account and asset."""
    def side(direction):
        return (f'sum by (account, asset) (rate(binance_futures_income_total{{{SEL}, type="{type_}", direction="{direction}"}}'
                f'[$__rate_interval])) * 3600')
    return f'{side("in")} - {side("out")}'


def accounts():
    b = Builder()
    b.row("At a glance")
    b.add("stat", "Total equity", "Sum of the margin balances (wallet + unrealized PnL) of the selected accounts. USDT in single-asset mode, USD value in multi-assets mode.",
          [ts(f'sum(binance_futures_account_margin_balance{{{SEL}}})', "equity")], 4, 5, 0, USDT, options=stat())
    b.add("stat", "Equity change over the range", "Total equity at the end of the time range minus at its start: deposits and withdrawals included.",
          [ts(f'sum(binance_futures_account_margin_balance{{{SEL}}})', "change")], 3, 5, 4, USDT, options=stat(("diff",), "none"),
          defaults={"thresholds": thresholds([(None, "red"), (0, "green")]), "color": {"mode": "thresholds"}})
    b.add("stat", "Unrealized PnL", "Sum of the unrealized PnL of the selected accounts, at Binance's mark prices of the last poll.",
          [ts(f'sum(binance_futures_account_unrealized_profit{{{SEL}}})', "uPnL")], 4, 5, 7, USDT, options=stat(),
          defaults={"thresholds": thresholds([(None, "red"), (0, "green")]), "color": {"mode": "thresholds"}})
    b.add("stat", "uPnL change over the range", "Unrealized PnL at the end of the time range minus at its start (positions opened or closed in between included).",
          [ts(f'sum(binance_futures_account_unrealized_profit{{{SEL}}})', "change")], 3, 5, 11, USDT, options=stat(("diff",), "none"),
          defaults={"thresholds": thresholds([(None, "red"), (0, "green")]), "color": {"mode": "thresholds"}})
    b.add("stat", "Effective leverage", "Total position notional (absolute) divided by total equity: how far the accounts are levered as a whole.",
          [ts(f'sum(abs(binance_futures_position_notional{{{SEL}}})) / (sum(binance_futures_account_margin_balance{{{SEL}}}) > 0)', "leverage")],
          3, 5, 14, LEVERAGE, options=stat(), defaults={"decimals": 2})
    b.add("stat", "Open positions", "Number of open positions (amount ≠ 0) over the selected accounts.",
          [ts(f'count(binance_futures_position_amount{{{SEL}}} != 0) or vector(0)', "positions")], 3, 5, 17, "none", options=stat(graph="none"))
    b.add("gauge", "Highest margin ratio", "Maintenance margin ÷ margin balance of the most exposed selected account. Binance liquidates at 100 %; alerts at 50 % and 80 %.",
          [ts(f'max(binance_futures_account_margin_ratio{{{SEL}}})', "margin ratio")], 4, 5, 20, "percentunit",
          options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "showThresholdMarkers": True},
          defaults={"min": 0, "max": 1, "thresholds": thresholds(MARGIN_STEPS)})
    b.row("Over time")
    b.add("timeseries", "Equity, wallet and available", "Per account: margin balance (equity), wallet balance (deposits and realized PnL) and available balance (free for new positions).", [
        ts(f'binance_futures_account_margin_balance{{{SEL}}}', "{{account}} equity"),
        ts(f'binance_futures_account_wallet_balance{{{SEL}}}', "{{account}} wallet"),
        ts(f'binance_futures_account_available_balance{{{SEL}}}', "{{account}} available"),
    ], 12, 8, 0, USDT)
    b.add("timeseries", "Unrealized PnL", "Per account, at Binance's mark prices of each poll.",
          [ts(f'binance_futures_account_unrealized_profit{{{SEL}}}', "{{account}}")], 12, 8, 12, USDT)
    b.add("timeseries", "Exposure by symbol", "Signed position notional summed per symbol over the selected accounts: long positive, short negative.",
          [ts(f'sum by (symbol) (binance_futures_position_notional{{{SEL}}})', "{{symbol}}")], 12, 8, 0, USDT,
          defaults={"custom": {"drawStyle": "bars", "fillOpacity": 60, "stacking": {"mode": "none"}}})
    b.add("timeseries", "Distance to liquidation", "Per position: |mark − liquidation| ÷ mark. Lines at 15 % (warning) and 5 % (critical), as the alerts. Positions without a liquidation price are not drawn.",
          [ts(DISTANCE, "{{account}} {{symbol}} {{position_side}}")], 12, 8, 12, "percentunit",
          defaults=dict(line_thresholds(DISTANCE_STEPS), min=0))
    b.add("timeseries", "Margin ratio", "Per account: maintenance margin ÷ margin balance. Lines at 50 % and 80 %, as the alerts; liquidation at 100 %.",
          [ts(f'binance_futures_account_margin_ratio{{{SEL}}}', "{{account}}")], 12, 8, 0, "percentunit",
          defaults=dict(line_thresholds(MARGIN_STEPS), min=0))
    b.add("timeseries", "Initial and maintenance margin", "Per account: margin locked by positions and orders (initial) and the margin below which positions are liquidated (maintenance).", [
        ts(f'binance_futures_account_initial_margin{{{SEL}}}', "{{account}} initial"),
        ts(f'binance_futures_account_maint_margin{{{SEL}}}', "{{account}} maintenance"),
    ], 12, 8, 12, USDT)
    b.row("Money that moved (user data stream; counted since each exporter started)")
    for x, (type_, title, text) in enumerate([
        ("realized_pnl", "Realized PnL over the range", "Realized profit minus realized loss of closed trades in the time range (USDT), from ORDER_TRADE_UPDATE `rp`."),
        ("commission", "Fees over the range", "Commissions paid minus rebates received in the time range (USDT; negative: net cost), from ORDER_TRADE_UPDATE `n`."),
        ("funding_fee", "Funding over the range", "Funding received minus funding paid in the time range (USDT), from ACCOUNT_UPDATE FUNDING_FEE balance changes."),
    ]):
        b.add("stat", title, text + " Counters start at 0 when the exporter starts: a range across a restart misses what happened while it was down.",
              [{"expr": income_net(type_, "$__range"), "legendFormat": type_, "range": False, "instant": True}], 5, 5, x * 5, USDT,
              options=stat(graph="none"), defaults={"thresholds": thresholds([(None, "red"), (0, "green")]), "color": {"mode": "thresholds"}, "decimals": 2})
    b.add("stat", "Forced closes and margin calls over the range", "Positions Binance closed itself (liquidation, auto-deleverage, settlement) and margin calls Binance sent in the time range. Anything above 0 has paged (critical alerts).", [
        {"expr": f'sum(increase(binance_futures_forced_closes_total{{{SEL}}}[$__range])) or vector(0)', "legendFormat": "forced closes", "range": False, "instant": True},
        {"expr": f'sum(increase(binance_futures_margin_calls_total{{{SEL}}}[$__range])) or vector(0)', "legendFormat": "margin calls", "range": False, "instant": True},
    ], 9, 5, 15, "none", options=stat(graph="none"), defaults={"thresholds": thresholds([(None, "green"), (0.5, "red")]), "color": {"mode": "thresholds"}, "decimals": 0})
    b.add("timeseries", "Realized PnL, fees and funding per hour", "Net amount per hour by account, asset and type: realized PnL, commissions (negative: cost) and funding, from the user data stream.", [
        ts(income_rate("realized_pnl"), "{{account}} {{asset}} realized PnL"),
        ts(income_rate("commission"), "{{account}} {{asset}} fees"),
        ts(income_rate("funding_fee"), "{{account}} {{asset}} funding"),
    ], 12, 8, 0, "suffix: /h", defaults={"custom": {"drawStyle": "bars", "fillOpacity": 60}})
    b.add("timeseries", "Forced closes and margin calls", "Per hour: positions Binance closed itself, by account, symbol and kind (liquidation, adl, settlement), and margin calls by account. Also drawn as annotations on every panel.", [
        ts(f'sum by (account, symbol, kind) (rate(binance_futures_forced_closes_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} {{symbol}} {{kind}}"),
        ts(f'sum by (account) (rate(binance_futures_margin_calls_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} margin call"),
    ], 12, 8, 12, "suffix: /h", defaults={"custom": {"drawStyle": "bars", "fillOpacity": 80}, "min": 0})
    b.row("Positions")
    b.add("table", "Open positions, nearest to liquidation first", "One row per open position. Distance = |mark − liquidation| ÷ mark, coloured at 5 % and 15 % like the alerts; — where Binance reports no liquidation price. Prices in the quote asset; amount in contracts (signed); ADL quantile 0–4 (4: first to be auto-deleveraged).", [
        table_q(DISTANCE),
        table_q(f'binance_futures_position_amount{{{SEL}}}'),
        table_q(f'binance_futures_position_entry_price{{{SEL}}}'),
        table_q(f'binance_futures_position_break_even_price{{{SEL}}}'),
        table_q(f'binance_futures_position_mark_price{{{SEL}}}'),
        table_q(f'binance_futures_position_liquidation_price{{{SEL}}}'),
        table_q(f'binance_futures_position_unrealized_profit{{{SEL}}}'),
        table_q(f'binance_futures_position_notional{{{SEL}}}'),
        table_q(f'binance_futures_position_leverage{{{SEL}}}'),
        table_q(f'binance_futures_position_isolated{{{SEL}}}'),
        table_q(f'binance_futures_position_adl_quantile{{{SEL}}}'),
    ], 24, 10, 0, "none",
        options={"showHeader": True, "sortBy": [{"displayName": "Distance to liquidation", "desc": False}]},
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                "indexByName": {"account": 0, "symbol": 1, "position_side": 2, "Value #A": 3},
                "renameByName": {"position_side": "Side", "account": "Account", "symbol": "Symbol",
                                 "Value #A": "Distance to liquidation", "Value #B": "Amount", "Value #C": "Entry",
                                 "Value #D": "Break-even", "Value #E": "Mark", "Value #F": "Liquidation",
                                 "Value #G": "Unrealized PnL", "Value #H": "Notional", "Value #I": "Leverage",
                                 "Value #J": "Margin", "Value #K": "ADL"}}},
        ],
        overrides=[
            column("Distance to liquidation", ("unit", "percentunit"), ("noValue", "—"),
                   ("custom.cellOptions", {"type": "color-background"}), ("thresholds", thresholds(DISTANCE_STEPS))),
            column("Liquidation", ("mappings", [{"type": "value", "options": {"0": {"text": "—"}}}]), ("noValue", "—")),
            column("Unrealized PnL", ("unit", USDT), ("decimals", 2)),
            column("Notional", ("unit", USDT), ("decimals", 2)),
            column("Leverage", ("unit", LEVERAGE)),
            column("Margin", ("mappings", [{"type": "value", "options": {"0": {"text": "cross"}, "1": {"text": "isolated"}}}])),
            column("ADL", ("noValue", "—"), ("custom.cellOptions", {"type": "color-text"}),
                   ("thresholds", thresholds([(None, "green"), (3, "orange"), (4, "red")]))),
        ])
    b.row("Assets")
    b.add("table", "Per-asset balances", "Per account and asset, in the asset's own units (BTC in BTC, USDT in USDT).", [
        table_q(f'binance_futures_asset_wallet_balance{{{SEL}}}'),
        table_q(f'binance_futures_asset_margin_balance{{{SEL}}}'),
        table_q(f'binance_futures_asset_unrealized_profit{{{SEL}}}'),
        table_q(f'binance_futures_asset_available_balance{{{SEL}}}'),
    ], 24, 7, 0, "none", transformations=[
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                                       "renameByName": {"account": "Account", "asset": "Asset", "Value #A": "Wallet",
                                                        "Value #B": "Margin balance", "Value #C": "Unrealized PnL", "Value #D": "Available"}}},
    ])
    return dashboard("binance-futures-accounts", "Binance Futures — Accounts", b.panels, annotations=[
        annotation("Forced closes", "red", f'changes(binance_futures_forced_closes_total{{{SEL}}}[2m]) > 0 or (binance_futures_forced_closes_total{{{SEL}}} unless binance_futures_forced_closes_total{{{SEL}}} offset 2m)',
                   "{{kind}}: {{account}} {{symbol}} {{position_side}}"),
        annotation("Margin calls", "orange", f'changes(binance_futures_margin_calls_total{{{SEL}}}[2m]) > 0', "margin call: {{account}}"),
    ])


def health():
    b = Builder()
    b.row("Exporter")
    b.add("stat", "Scrape up", "Prometheus's own `up` for the exporter targets: 0 means Prometheus cannot scrape it at all.",
          [ts(f'min(up{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}})', "up")], 4, 5, 0, "none",
          options=stat(graph="none"), defaults=dict(state_mappings("down", "up"), thresholds=thresholds([(None, "red"), (1, "green")]), color={"mode": "thresholds"}))
    b.add("timeseries", "Scrape duration", "How long Prometheus's scrape of the exporter takes (the exporter serves pre-rendered bytes: milliseconds).",
          [ts(f'scrape_duration_seconds{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")], 8, 5, 4, "s")
    b.add("table", "Build", "Version and git revision of each exporter instance.",
          [table_q(f'binance_futures_exporter_build_info{{{SEL_IP}}}')], 6, 5, 12, "none", transformations=[
              {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "Value": True, "job": True}}}])
    b.add("stat", "Config reload", "1 when the last reload (start or SIGHUP) of the configuration succeeded; 0: the exporter runs the previous configuration (see its log).",
          [ts(f'min(binance_futures_config_last_reload_successful{{{SEL_IP}}})', "reload")], 3, 5, 18, "none", options=stat(graph="none"),
          defaults=dict(state_mappings("failed", "ok"), thresholds=thresholds([(None, "red"), (1, "green")]), color={"mode": "thresholds"}))
    b.add("stat", "Stopped accounts", "Accounts whose key Binance rejected (polling stopped until the key is fixed and the exporter reloaded).",
          [ts(f'sum(binance_futures_account_stopped{{{SEL}}}) or vector(0)', "stopped")], 3, 5, 21, "none", options=stat(graph="none"),
          defaults={"thresholds": thresholds([(None, "green"), (1, "red")]), "color": {"mode": "thresholds"}})
    b.row("Freshness")
    b.add("stat", "Accounts up", "Accounts whose last poll succeeded and is fresh, of those configured.",
          [ts(f'sum(binance_futures_up{{{SEL}}})', "up"), ts(f'count(binance_futures_up{{{SEL}}})', "configured")], 6, 5, 0, "none",
          options=stat(graph="none"))
    b.add("state-timeline", "Up per account", "binance_futures_up per account over time.",
          [ts(f'binance_futures_up{{{SEL}}}', "{{account}}")], 18, 5, 6, "none",
          defaults=dict(state_mappings("down", "up"), thresholds=thresholds([(None, "red"), (1, "green")])))
    b.add("timeseries", "Data age", "Seconds since each account's last successful poll, and the age at which its values are dropped (3 effective intervals). Accounts that never polled successfully are not drawn.", [
        ts(f'(time() - binance_futures_last_success_timestamp_seconds{{{SEL}}}) and binance_futures_last_success_timestamp_seconds{{{SEL}}} > 0', "{{account}}"),
        ts(f'3 * binance_futures_poll_interval_seconds{{{SEL}}}', "{{account}} stale after"),
    ], 12, 8, 0, "s", defaults={"min": 0})
    b.add("timeseries", "Poll duration and interval", "How long each poll took, and the effective poll interval (stretched when the accounts cannot fit the weight budget).", [
        ts(f'binance_futures_poll_duration_seconds{{{SEL}}}', "{{account}} duration"),
        ts(f'binance_futures_poll_interval_seconds{{{SEL}}}', "{{account}} interval"),
    ], 12, 8, 12, "s", defaults={"min": 0})
    b.row("Request weight (shared by everything on the IP)")
    b.add("timeseries", "IP weight used vs limit", "Binance's count of the IP's request weight in the current minute (it resets every minute), the limit, and the default headroom line (80 % of the limit, --weight.ip-headroom 0.2) the exporter never pushes past.", [
        ts(f'max by (instance) (binance_futures_request_weight_used{{{SEL_IP}}})', "{{instance}} used"),
        ts(f'max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} limit"),
        ts(f'0.8 * max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} headroom line"),
    ], 12, 8, 0, "none", defaults={"min": 0})
    b.add("timeseries", "Exporter weight per minute", "Request weight this exporter spent per minute (handshakes included), per instance.",
          [ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60', "{{instance}}")],
          6, 8, 12, PER_MIN, defaults={"min": 0})
    b.add("timeseries", "Exporter share of the limit", "Exporter weight per minute ÷ the IP's limit; compare with --weight.max-share (default 20 %).",
          [ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60 / (max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}}) > 0)', "{{instance}}")],
          6, 8, 18, "percentunit", defaults=dict(line_thresholds([(None, "green"), (0.2, "orange")]), min=0))
    b.add("timeseries", "Scheduler deferrals", "Polls and connects the scheduler skipped per minute, by reason: own_share, ip_headroom, retry_after, banned.",
          [ts(f'sum by (instance, reason) (rate(binance_futures_scheduler_deferrals_total{{{SEL_IP}}}[$__rate_interval])) * 60', "{{instance}} {{reason}}")],
          8, 8, 0, PER_MIN, defaults={"min": 0})
    b.add("timeseries", "Rate limit: seconds left", "Seconds until Binance's retryAfter (429) or ban (418) ends; 0 when not limited.",
          [ts(f'clamp_min(max by (instance) (binance_futures_rate_limited_until_timestamp_seconds{{{SEL_IP}}}) - time(), 0)', "{{instance}}")],
          8, 8, 8, "s", defaults={"min": 0})
    b.add("state-timeline", "IP banned", "1 while Binance bans the IP (418): every request from it is refused.",
          [ts(f'max by (instance) (binance_futures_ip_banned{{{SEL_IP}}})', "{{instance}}")], 8, 8, 16, "none",
          defaults={"mappings": [{"type": "value", "options": {"0": {"text": "ok", "color": "green"}, "1": {"text": "banned", "color": "red"}}}]})
    b.row("Errors and connections")
    b.add("timeseries", "Poll errors by code", "Failed polls per minute by account and code: a Binance error code, or transport, timeout, decode.",
          [ts(f'sum by (account, code) (rate(binance_futures_poll_errors_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{code}}")],
          12, 8, 0, PER_MIN, defaults={"min": 0})
    b.add("timeseries", "Polls", "Polls attempted per minute per account.",
          [ts(f'sum by (account) (rate(binance_futures_polls_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}}")], 12, 8, 12, PER_MIN,
          defaults={"min": 0})
    b.add("timeseries", "WebSocket reconnects", "Reconnects per minute by account and reason (max_age, server_shutdown, close_frame, missed_pong, connection_lost, error).",
          [ts(f'sum by (account, reason) (rate(binance_futures_websocket_reconnects_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{reason}}")],
          8, 8, 0, PER_MIN, defaults={"min": 0})
    b.add("state-timeline", "WebSocket connected", "Whether each account's WebSocket API connection is open.",
          [ts(f'binance_futures_websocket_connected{{{SEL}}}', "{{account}}")], 8, 8, 8, "none",
          defaults=state_mappings("disconnected", "connected"))
    b.add("timeseries", "Clock offset (exchange − local)", "Estimated offset of Binance's clock from this host's, per account. Lines at ±1 s: beyond that the host's clock needs fixing (NTP).",
          [ts(f'binance_futures_clock_offset_seconds{{{SEL}}}', "{{account}}")], 8, 8, 16, "s",
          defaults=line_thresholds([(None, "red"), (-1, "green"), (1, "red")]))
    b.row("User data stream")
    b.add("state-timeline", "User stream subscribed", "Whether each account's listen key is subscribed on an open user data stream connection (instant updates, income, margin calls, liquidations).",
          [ts(f'binance_futures_user_stream_connected{{{SEL}}}', "{{account}}")], 8, 8, 0, "none",
          defaults=state_mappings("down", "subscribed"))
    b.add("timeseries", "User stream events", "Events received per minute by account and event type.",
          [ts(f'sum by (account, event) (rate(binance_futures_user_stream_events_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{event}}")],
          8, 8, 8, PER_MIN, defaults={"min": 0})
    b.add("timeseries", "User stream gaps and bad frames", "Resubscriptions after a gap per hour by reason (every gap is followed by a poll), and unreadable frames per hour.", [
        ts(f'sum by (account, reason) (rate(binance_futures_user_stream_reconnects_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} {{reason}}"),
        ts(f'sum by (account) (rate(binance_futures_user_stream_malformed_events_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} malformed"),
    ], 8, 8, 16, "suffix: /h", defaults={"min": 0})
    b.row("Live values (mark price feed) and reconciliation")
    b.add("state-timeline", "Mark price feed", "Whether the public !markPrice@arr@1s connection is up. With an account's user stream it makes the account's values live and its polls reconciliations.",
          [ts(f'max by (instance) (binance_futures_mark_feed_connected{{{SEL_IP}}})', "{{instance}}")], 8, 7, 0, "none",
          defaults=state_mappings("down", "connected"))
    b.add("timeseries", "Mark feed age", "Seconds since the last mark price frame (one per second when healthy; above 3 s the accounts return to their normal poll interval).",
          [ts(f'(time() - max by (instance) (binance_futures_mark_feed_last_frame_timestamp_seconds{{{SEL_IP}}})) and max by (instance) (binance_futures_mark_feed_last_frame_timestamp_seconds{{{SEL_IP}}}) > 0', "{{instance}}")],
          8, 7, 8, "s", defaults={"min": 0})
    b.add("timeseries", "Reconcile drift of the margin ratio", "Locally recomputed margin ratio minus Binance's at each poll (0 within rounding). The alert fires above 0.01 for 15 minutes.",
          [ts(f'binance_futures_reconcile_drift{{{SEL}, field="margin_ratio"}}', "{{account}}")], 8, 7, 16, "percentunit")
    b.add("table", "API key permissions", "What each account's API key may do (GET /sapi/v1/account/apiRestrictions, checked hourly): 1 = granted. A monitoring key needs reading only and an IP whitelist; the key alerts fire otherwise. Accounts whose key may not read this (or a testnet) have no rows.", [
        table_q(f'binance_futures_api_key_permission{{{SEL}}} == 1'),
        table_q(f'binance_futures_api_key_ip_restricted{{{SEL}}}'),
    ], 24, 6, 0, "none", transformations=[
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
                                       "renameByName": {"account": "Account", "permission": "Granted permission",
                                                        "Value #A": "Granted", "Value #B": "IP-restricted"}}},
    ])
    b.row("Process")
    b.add("timeseries", "Resident memory", "Resident memory of the exporter process.",
          [ts(f'process_resident_memory_bytes{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")],
          12, 7, 0, "bytes", defaults={"min": 0})
    b.add("timeseries", "CPU", "CPU time used by the exporter per second of wall time (1 = one core).",
          [ts(f'rate(process_cpu_seconds_total{{{SEL_IP}}}[$__rate_interval]) and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")],
          12, 7, 12, "percentunit", defaults={"min": 0})
    return dashboard("binance-futures-exporter-health", "Binance Futures — Exporter health", b.panels)


def annotation(name, color, expr, title):
    return {"name": name, "datasource": DS, "enable": True, "iconColor": color, "expr": expr, "step": "60s",
            "titleFormat": title, "textFormat": "", "useValueForTime": False, "tagKeys": "account"}


def dashboard(uid, title, panels, annotations=()):
    return {
        "uid": uid, "title": title, "tags": ["binance", "futures", "prometheus-exporter"], "timezone": "",
        "schemaVersion": 39, "version": 1, "editable": False, "graphTooltip": 1, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "fiscalYearStartMonth": 0, "liveNow": False,
        "annotations": {"list": list(annotations)}, "links": [
            {"title": "Binance Futures", "type": "dashboards", "tags": ["binance"], "asDropdown": False, "includeVars": True, "keepTime": True}],
        "templating": variables(), "panels": panels,
        "__inputs": [], "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    }


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "grafana", "dashboards")
    for name, board in [("binance-futures-accounts.json", accounts()), ("binance-futures-exporter-health.json", health())]:
        with open(os.path.join(out, name), "w") as f:
            json.dump(board, f, indent=2, ensure_ascii=False)
            f.write("\n")
