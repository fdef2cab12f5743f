#!/usr/bin/env python3
"""Generates grafana/dashboards/*.json with Grafana's typed builders (grafana-foundation-sdk).
Run after changing panels; the output is committed and scripts/check_dashboards.py checks that it
equals what this script generates.

    python3 -m pip install 'grafana-foundation-sdk==1769699520!11.4.0'
    python3 scripts/make_dashboards.py [OUTPUT_DIR]     (default: grafana/dashboards)

The SDK is pinned (SDK_VERSION): its 11.4 line matches the Grafana of docker-compose.yml and
writes schemaVersion 39; another version may write other defaults, so this script refuses to run
with one.

Every query filters on $job/$instance (and $account where the series has it), uses
$__rate_interval for rates and the $datasource variable, so the dashboards work with any job
name and any Prometheus data source. Every panel has a description and a unit; every division
is guarded against a zero or missing denominator. $shard (exporter health) is used only by the
panels about shards, so nothing else depends on binance_futures_shard_info.

Money: account totals are USDT in single-asset mode and USD value in multi-assets mode; the
unit shows "USDT" (Binance's own convention for both), asset rows are in their asset's units.
COIN-M accounts (binance_futures_account_info{venue="coin-m"}) have no account totals: their
margin is per coin (binance_futures_asset_*, asset_margin_ratio), their positions are sized in
contracts (position_contracts; position_amount is the base-coin size) and their position uPnL
and notional are in the margin coin. Panels that sum USDT totals or notionals leave them out (or
value them in USD: base-coin size × mark); the COIN-M row shows them per coin. Portfolio Margin
accounts (venue="portfolio-margin") have a row of their own: uniMMR against Binance's bands (the
alerts' 1.5 / 1.2 / 1.05), equity against maintenance margin in USD, Binance's account status,
balances and loans per asset, and their UM and CM positions side by side.

Tables join their queries with Grafana's merge transformation, which merges rows only where
every shared field agrees: each frame's __name__ column (a raw selector's metric name) is
dropped first, or every query would stay on rows of its own.
"""
import importlib.metadata
import json
import os
import sys

SDK = "grafana-foundation-sdk"
SDK_VERSION = "1769699520!11.4.0"

try:
    installed = importlib.metadata.version(SDK)
except importlib.metadata.PackageNotFoundError:
    installed = None
if installed != SDK_VERSION:
    sys.exit(f"make_dashboards.py needs {SDK}=={SDK_VERSION} (found {installed or 'none'}): "
             f"python3 -m pip install '{SDK}=={SDK_VERSION}'")

from grafana_foundation_sdk.builders import common, dashboard, gauge, prometheus, stat, statetimeline, table, timeseries  # noqa: E402
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.models import common as cm  # noqa: E402
from grafana_foundation_sdk.models import dashboard as dm  # noqa: E402
from grafana_foundation_sdk.models.prometheus import PromQueryFormat  # noqa: E402

SEL = 'job=~"$job", instance=~"$instance", account=~"$account"'
SEL_IP = 'job=~"$job", instance=~"$instance"'
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
USDT = "suffix: USDT"
PER_MIN = "suffix: /min"
PER_HOUR = "suffix: /h"
LEVERAGE = "suffix:x"
DISTANCE = (f'abs(binance_futures_position_mark_price{{{SEL}}} - binance_futures_position_liquidation_price{{{SEL}}})'
            f' / (binance_futures_position_mark_price{{{SEL}}} > 0)'
            f' and binance_futures_position_liquidation_price{{{SEL}}} > 0')
# Same thresholds as the liquidation alerts (prometheus/alerts.yml, docs/runbook.md).
DISTANCE_STEPS = [(None, "red"), (0.05, "orange"), (0.15, "green")]
MARGIN_STEPS = [(None, "green"), (0.5, "orange"), (0.8, "red")]
# Share of a position its closing stop-loss (take-profit) orders cover: none red (the stop-loss
# alert fires at 0), any part orange, all of it green.
COVERAGE_STEPS = [(None, "red"), (0.000001, "orange"), (1, "green")]
SIGN_STEPS = [(None, "red"), (0, "green")]
COINM = f'binance_futures_account_info{{{SEL}, venue="coin-m"}}'
# The coins a COIN-M account margins with (has a wallet balance or maintenance margin in); the
# value is the coin's margin ratio. asset_margin_ratio exists only for accounts without totals.
COINS = (f'(binance_futures_asset_margin_ratio{{{SEL}}} and (binance_futures_asset_wallet_balance{{{SEL}}} != 0'
         f' or binance_futures_asset_maint_margin{{{SEL}}} != 0))')


USD = "suffix: USD"
# Portfolio Margin accounts: one unified maintenance margin ratio, uniMMR = account equity ÷
# account maintenance margin (USD). Binance's bands, as the alerts (prometheus/alerts.yml): above
# 1.5 normal, margin call at 1.5, reduce-only at 1.2, liquidation at 1.05. Higher is safer.
PM = f'binance_futures_account_info{{{SEL}, venue="portfolio-margin"}}'
UNI_MMR_STEPS = [(None, "dark-red"), (1.05, "red"), (1.2, "orange"), (1.5, "green")]
# Binance reports a huge uniMMR (999999) for an account without maintenance margin: not drawn.
UNI_MMR = f'binance_futures_account_uni_mmr{{{SEL}}} < 100'
# Binance's accountStatus, a state set (1 for the current status), as one number per account.
PM_STATUSES = ["normal", "margin_call", "supply_margin", "reduce_only", "active_liquidation", "force_liquidation", "bankrupted"]
PM_STATUS_TEXTS = {0: ("normal", "green"), 1: ("margin call", "orange"), 2: ("supply margin", "orange"),
                   3: ("reduce-only", "red"), 4: ("active liquidation", "dark-red"), 5: ("force liquidation", "dark-red"),
                   6: ("bankrupted", "purple"), 7: ("other", "red")}
PM_STATUS = " or ".join(
    [f'max by (job, instance, account) (binance_futures_account_status{{{SEL}, status="{status}"}} == 1) * {code}'
     for code, status in enumerate(PM_STATUSES)]
    + [f'max by (job, instance, account) (binance_futures_account_status{{{SEL}}} == 1) * {len(PM_STATUSES)}'])
# Red where money is owed (either sign, whichever Binance uses), green at 0.
OWED_STEPS = [(None, "red"), (-0.00000001, "green"), (0.00000001, "red")]


def pm_rows(expr):
    """A series of Portfolio Margin accounts only."""
    return f'{expr} and on (job, instance, account) {PM}'


def coin_rows(expr):
    """A per-asset series for the coins of COIN-M accounts only."""
    return f'{expr} and on (job, instance, account, asset) {COINS}'


# --- variables -------------------------------------------------------------------------------

def query_variable(name, label, query, all_value=".+", sort=dm.VariableSort.ALPHABETICAL_ASC):
    return (dashboard.QueryVariable(name).label(label).datasource(DS)
            .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(sort)
            .multi(True).include_all(True).all_value(all_value)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
            .hide(dm.VariableHide.DONT_HIDE).regex(""))


def variables(shard=False):
    found = [
        dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus").hide(dm.VariableHide.DONT_HIDE).regex(""),
        query_variable("job", "Job", "label_values(binance_futures_exporter_build_info, job)"),
        query_variable("instance", "Instance", 'label_values(binance_futures_exporter_build_info{job=~"$job"}, instance)'),
        query_variable("account", "Account", 'label_values(binance_futures_up{job=~"$job", instance=~"$instance"}, account)'),
    ]
    if shard:
        # All = ".*": an exporter without binance_futures_shard_info (an older one) leaves the list
        # empty and every panel working; only the shard panels use $shard.
        found.append(query_variable("shard", "Shard", 'label_values(binance_futures_shard_info{job=~"$job"}, shard)',
                                    all_value=".*", sort=dm.VariableSort.NUMERICAL_ASC))
    return found


# --- queries ---------------------------------------------------------------------------------

def ts(expr, legend):
    """A range query: one series per label set, drawn over time (or reduced by a stat)."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).range()


def instant(expr, legend):
    """An instant query at the end of the time range (totals over [$__range])."""
    return prometheus.Dataquery().expr(expr).legend_format(legend).instant()


def table_q(expr):
    return prometheus.Dataquery().expr(expr).format(PromQueryFormat.TABLE).instant()


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


# --- field config ----------------------------------------------------------------------------

def thresholds(steps):
    return (dashboard.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=v, color=c) for v, c in steps]))


def by_thresholds():
    return dashboard.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS)


def value_texts(texts):
    """Value mapping {value: text or (text, colour)}."""
    def result(spec):
        text, color = spec if isinstance(spec, tuple) else (spec, None)
        return dm.ValueMappingResult(text=text, color=color)
    return [dm.ValueMap(options={str(v): result(spec) for v, spec in texts.items()})]


def state_mappings(off_text, on_text):
    return value_texts({0: (off_text, "red"), 1: (on_text, "green")})


def prop(name, value):
    return dm.DynamicConfigValue(id_val=name, value=value)


def organize(exclude=(), index=None, rename=None):
    options = {"excludeByName": {name: True for name in exclude}}
    if index:
        options["indexByName"] = index
    if rename:
        options["renameByName"] = rename
    return dm.DataTransformerConfig(id_val="organize", options=options)


# Merge the queries of a table into one row per label set. Each frame's __name__ is dropped
# first: merge keeps two rows apart when any shared field differs, and a raw selector's frame
# carries its metric name.
MERGE = [organize(exclude=("__name__",)), dm.DataTransformerConfig(id_val="merge", options={})]


# --- panels ----------------------------------------------------------------------------------

def big_value(graph=cm.BigValueGraphMode.AREA, calcs=("lastNotNull",)):
    return (stat.Panel().reduce_options(common.ReduceDataOptions().calcs(list(calcs)).fields("").values(False))
            .color_mode(cm.BigValueColorMode.VALUE).graph_mode(graph)
            .text_mode(cm.BigValueTextMode.AUTO).justify_mode(cm.BigValueJustifyMode.AUTO))


def signed(panel):
    """Red below 0, green from 0."""
    return panel.thresholds(thresholds(SIGN_STEPS)).color_scheme(by_thresholds())


def threshold_lines(panel, steps):
    return panel.thresholds(thresholds(steps)).thresholds_style(
        common.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.LINE))


class Board:
    """Rows and panels in reading order. The SDK's Dashboard builder lays them out (each panel to
    the right of the previous one, wrapping at 24 columns, each row below the tallest panel above
    it); ids are given in the same order, rows included."""

    def __init__(self, uid, title, shard=False):
        self.builder = (
            dashboard.Dashboard(title).uid(uid).tags(["binance", "futures", "prometheus-exporter"])
            .timezone("").readonly().tooltip(dm.DashboardCursorSync.CROSSHAIR)
            .refresh("30s").time("now-6h", "now").fiscal_year_start_month(0).live_now(False).version(1)
            .links([dashboard.DashboardLink("Binance Futures").type(dm.DashboardLinkType.DASHBOARDS).tags(["binance"])
                    .as_dropdown(False).include_vars(True).keep_time(True)])
            .variables(variables(shard)).annotations([]))
        self.next_id = 1

    def row(self, title):
        self.builder.with_row(dashboard.Row(title).id(self.next_id).collapsed(False))
        self.next_id += 1

    def add(self, panel, title, description, targets, w, h, unit):
        for ref, target in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", targets):
            target.ref_id(ref).datasource(DS)
        panel.id(self.next_id).title(title).description(description).datasource(DS).targets(targets).unit(unit)
        self.builder.with_panel(panel.span(w).height(h))
        self.next_id += 1

    def annotation(self, name, color, expr, title):
        self.builder.annotation(PrometheusAnnotation().name(name).datasource(DS).enable(True).icon_color(color)
                                .expr(expr).step("60s").title_format(title).tag_keys("account"))

    def json(self):
        return json.dumps(self.builder.build(), cls=JSONEncoder, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class _PrometheusAnnotationModel(dm.AnnotationQuery):
    """The SDK's annotation model plus the fields of Grafana's Prometheus annotation query that the
    model does not carry (step, titleFormat, textFormat, tagKeys, useValueForTime)."""

    def __init__(self):
        super().__init__()
        self.step = None
        self.title_format = None
        self.tag_keys = None

    def to_json(self):
        payload = super().to_json()
        payload.update({"step": self.step, "titleFormat": self.title_format, "textFormat": "",
                        "tagKeys": self.tag_keys, "useValueForTime": False})
        return payload


class PrometheusAnnotation(dashboard.AnnotationQuery):
    def __init__(self):
        self._internal = _PrometheusAnnotationModel()

    def step(self, step):
        self._internal.step = step
        return self

    def title_format(self, title_format):
        self._internal.title_format = title_format
        return self

    def tag_keys(self, tag_keys):
        self._internal.tag_keys = tag_keys
        return self


# --- dashboards ------------------------------------------------------------------------------

def accounts():
    b = Board("binance-futures-accounts", "Binance Futures — Accounts")
    b.row("At a glance")
    b.add(big_value(), "Total equity", "Sum of the margin balances (wallet + unrealized PnL) of the selected accounts. USDT in single-asset mode, USD value in multi-assets mode. COIN-M accounts have no account total (their margin is per coin: see the COIN-M row) and are not counted.",
          [ts(f'sum(binance_futures_account_margin_balance{{{SEL}}})', "equity")], 4, 5, USDT)
    b.add(signed(big_value(cm.BigValueGraphMode.NONE, ("diff",))), "Equity change over the range", "Total equity at the end of the time range minus at its start: deposits and withdrawals included.",
          [ts(f'sum(binance_futures_account_margin_balance{{{SEL}}})', "change")], 3, 5, USDT)
    b.add(signed(big_value()), "Unrealized PnL", "Sum of the unrealized PnL of the selected accounts, at Binance's mark prices of the last poll. COIN-M accounts (PnL per coin: see the COIN-M row) are not counted.",
          [ts(f'sum(binance_futures_account_unrealized_profit{{{SEL}}})', "uPnL")], 4, 5, USDT)
    b.add(signed(big_value(cm.BigValueGraphMode.NONE, ("diff",))), "uPnL change over the range", "Unrealized PnL at the end of the time range minus at its start (positions opened or closed in between included).",
          [ts(f'sum(binance_futures_account_unrealized_profit{{{SEL}}})', "change")], 3, 5, USDT)
    b.add(big_value().decimals(2), "Effective leverage", "Total position notional (absolute) divided by total equity: how far the accounts with account totals (USDⓈ-M) are levered as a whole. COIN-M positions (notional in coin, no account equity) are not counted; the positions table shows their leverage.",
          [ts(f'sum(abs(binance_futures_position_notional{{{SEL}}}) and on (job, instance, account) binance_futures_account_margin_balance{{{SEL}}})'
              f' / (sum(binance_futures_account_margin_balance{{{SEL}}}) > 0)', "leverage")],
          3, 5, LEVERAGE)
    b.add(big_value(cm.BigValueGraphMode.NONE), "Open positions", "Number of open positions (amount or, COIN-M, contracts ≠ 0) over the selected accounts.",
          [ts(f'count(binance_futures_position_amount{{{SEL}}} != 0 or binance_futures_position_contracts{{{SEL}}} != 0) or vector(0)', "positions")], 3, 5, "none")
    b.add(gauge.Panel().reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
          .show_threshold_markers(True).min(0).max(1).thresholds(thresholds(MARGIN_STEPS)),
          "Highest margin ratio", "Maintenance margin ÷ margin balance of the most exposed selected account, or COIN-M margin coin (a COIN-M account's margin is per coin). Binance liquidates at 100 %; alerts at 50 % and 80 %.",
          [ts(f'max(binance_futures_account_margin_ratio{{{SEL}}} or binance_futures_asset_margin_ratio{{{SEL}}})', "margin ratio")], 4, 5, "percentunit")
    b.add(table.Panel().show_header(True).sort_by([common.TableSortByFieldState().display_name("Margin ratio").desc(True)])
          .transformations([*MERGE, organize(
              exclude=("Time", "job", "instance", "Value #A"),
              index={"account": 0, "venue": 1, "Value #B": 2, "Value #C": 3, "Value #D": 4, "Value #E": 5},
              rename={"account": "Account", "venue": "Venue", "Value #B": "Up", "Value #C": "Margin ratio",
                      "Value #D": "Equity (USDT)", "Value #E": "Open positions"})])
          .override_by_name("Up", [prop("mappings", state_mappings("down", "up")),
                                   prop("custom.cellOptions", cm.TableColorTextCellOptions())])
          .override_by_name("Margin ratio", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(MARGIN_STEPS).build())])
          .override_by_name("Equity (USDT)", [prop("unit", USDT), prop("decimals", 2), prop("noValue", "—")])
          .override_by_name("Open positions", [prop("noValue", "0")]),
          "Accounts", "One row per configured account: its venue (usd-m: USDⓈ-M, margined in USDT or USD value; coin-m: COIN-M, margined per coin, sized in contracts), whether its last poll succeeded, its margin ratio (COIN-M: the highest of its coins; coloured at 50 % and 80 % like the alerts), its equity (USDⓈ-M only: COIN-M has no account total, see the COIN-M row) and its open positions.", [
              table_q(f'binance_futures_account_info{{{SEL}}}'),
              table_q(f'binance_futures_up{{{SEL}}}'),
              table_q(f'binance_futures_account_margin_ratio{{{SEL}}} or max by (job, instance, account) (binance_futures_asset_margin_ratio{{{SEL}}})'),
              table_q(f'binance_futures_account_margin_balance{{{SEL}}}'),
              table_q(f'count by (job, instance, account) (binance_futures_position_amount{{{SEL}}} != 0 or binance_futures_position_contracts{{{SEL}}} != 0)'),
          ], 24, 6, "none")
    b.row("Over time")
    b.add(timeseries.Panel(), "Equity, wallet and available", "Per account with account totals (USDⓈ-M): margin balance (equity), wallet balance (deposits and realized PnL) and available balance (free for new positions). COIN-M accounts: per coin, in the COIN-M row.", [
        ts(f'binance_futures_account_margin_balance{{{SEL}}}', "{{account}} equity"),
        ts(f'binance_futures_account_wallet_balance{{{SEL}}}', "{{account}} wallet"),
        ts(f'binance_futures_account_available_balance{{{SEL}}}', "{{account}} available"),
    ], 12, 8, USDT)
    b.add(timeseries.Panel(), "Unrealized PnL", "Per account with account totals (USDⓈ-M), at Binance's mark prices of each poll. COIN-M accounts: per coin, in the COIN-M row.",
          [ts(f'binance_futures_account_unrealized_profit{{{SEL}}}', "{{account}}")], 12, 8, USDT)
    b.add(timeseries.Panel().draw_style(cm.GraphDrawStyle.BARS).fill_opacity(60).stacking(common.StackingConfig().mode(cm.StackingMode.NONE)),
          "Exposure by symbol", "Signed position notional summed per symbol over the selected accounts: long positive, short negative. COIN-M positions (notional in coin) are valued in USD: base-coin size × mark price.",
          [ts(f'sum by (symbol) (binance_futures_position_notional{{{SEL}}} unless on (job, instance, account) {COINM})'
              f' or sum by (symbol) ((binance_futures_position_amount{{{SEL}}} * binance_futures_position_mark_price{{{SEL}}}) and on (job, instance, account) {COINM})',
              "{{symbol}}")], 12, 8, USDT)
    b.add(threshold_lines(timeseries.Panel(), DISTANCE_STEPS).min(0), "Distance to liquidation", "Per position: |mark − liquidation| ÷ mark. Lines at 15 % (warning) and 5 % (critical), as the alerts. Positions without a liquidation price are not drawn.",
          [ts(DISTANCE, "{{account}} {{symbol}} {{position_side}}")], 12, 8, "percentunit")
    b.add(threshold_lines(timeseries.Panel(), MARGIN_STEPS).min(0), "Margin ratio", "Per account (COIN-M: per margin coin): maintenance margin ÷ margin balance. Lines at 50 % and 80 %, as the alerts; liquidation at 100 %.", [
        ts(f'binance_futures_account_margin_ratio{{{SEL}}}', "{{account}}"),
        ts(COINS, "{{account}} {{asset}}"),
    ], 12, 8, "percentunit")
    b.add(timeseries.Panel(), "Initial and maintenance margin", "Per account with account totals (USDⓈ-M): margin locked by positions and orders (initial) and the margin below which positions are liquidated (maintenance). COIN-M: per coin, in the Assets table.", [
        ts(f'binance_futures_account_initial_margin{{{SEL}}}', "{{account}} initial"),
        ts(f'binance_futures_account_maint_margin{{{SEL}}}', "{{account}} maintenance"),
    ], 12, 8, USDT)
    b.row("COIN-M: margin per coin")
    b.add(gauge.Panel().reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
          .show_threshold_markers(True).min(0).max(1).thresholds(thresholds(MARGIN_STEPS)),
          "Margin ratio per coin", "COIN-M accounts: each coin margins its own contracts (BTC the BTCUSD ones), so each has its own margin ratio, maintenance margin ÷ margin balance of that coin. Binance liquidates that coin's positions at 100 %; the margin ratio alerts fire at 50 % and 80 % per coin. Coins without a balance or margin are left out. Empty without COIN-M accounts.",
          [ts(COINS, "{{account}} {{asset}}")], 8, 8, "percentunit")
    b.add(timeseries.Panel(), "Equity, wallet and available per coin", "COIN-M accounts, per margin coin, in that coin (BTC in BTC): margin balance (equity), wallet balance and available balance. Empty without COIN-M accounts.", [
        ts(coin_rows(f'binance_futures_asset_margin_balance{{{SEL}}}'), "{{account}} {{asset}} equity"),
        ts(coin_rows(f'binance_futures_asset_wallet_balance{{{SEL}}}'), "{{account}} {{asset}} wallet"),
        ts(coin_rows(f'binance_futures_asset_available_balance{{{SEL}}}'), "{{account}} {{asset}} available"),
    ], 8, 8, "none")
    b.add(timeseries.Panel(), "Unrealized PnL per coin", "COIN-M accounts, per margin coin, in that coin, at Binance's mark prices of each poll. Empty without COIN-M accounts.",
          [ts(coin_rows(f'binance_futures_asset_unrealized_profit{{{SEL}}}'), "{{account}} {{asset}}")], 8, 8, "none")
    b.row("Portfolio Margin: uniMMR, equity, loans, UM and CM positions")
    b.add(big_value(cm.BigValueGraphMode.AREA).thresholds(thresholds(UNI_MMR_STEPS)).color_scheme(by_thresholds()).decimals(3),
          "uniMMR", "Portfolio Margin accounts: unified maintenance margin ratio, account equity ÷ account maintenance margin (USD). Higher is safer. Binance's bands, coloured as the alerts fire: green above 1.5; orange at or below 1.5 (margin call); red at or below 1.2 (reduce-only); dark red at or below 1.05 (Binance liquidates the whole account). Accounts without maintenance margin (Binance reports 999999) are not shown. Empty without Portfolio Margin accounts.",
          [ts(UNI_MMR, "{{account}}")], 6, 8, "none")
    b.add(timeseries.Panel().thresholds(thresholds(UNI_MMR_STEPS))
          .thresholds_style(common.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.LINE_AND_AREA))
          .scale_distribution(common.ScaleDistributionConfig().type(cm.ScaleDistribution.LOG).log(2))
          .axis_soft_min(1).axis_soft_max(2),
          "uniMMR against Binance's bands", "Per Portfolio Margin account: account equity ÷ maintenance margin, on a log scale, over the bands: margin call at 1.5, reduce-only at 1.2, liquidation at 1.05 (the alerts' levels; BinanceFuturesUniMMRFallingFast warns when the 15-minute trend reaches 1.2 within the hour). Accounts without maintenance margin (999999) are not drawn.",
          [ts(UNI_MMR, "{{account}}")], 12, 8, "none")
    b.add(statetimeline.Panel().mappings(value_texts(PM_STATUS_TEXTS)),
          "Account status (Binance)", "Binance's own verdict on each Portfolio Margin account (accountStatus): normal, margin call, supply margin, reduce-only, active or force liquidation, bankrupted; other: a status Binance added later. The status alerts fire on anything but normal.",
          [ts(PM_STATUS, "{{account}}")], 6, 8, "none")
    b.add(timeseries.Panel(), "Equity vs maintenance margin", "Per Portfolio Margin account, in USD: account equity (collateral at its collateral rate, the numerator of uniMMR), actual equity (without the haircuts), initial margin and maintenance margin (the denominator). Account equity falling while actual equity holds: a collateral coin fell or its rate was cut.", [
        ts(f'binance_futures_account_equity_usd{{{SEL}, kind="account"}}', "{{account}} account equity"),
        ts(f'binance_futures_account_equity_usd{{{SEL}, kind="actual"}}', "{{account}} actual equity"),
        ts(pm_rows(f'binance_futures_account_initial_margin{{{SEL}}}'), "{{account}} initial margin"),
        ts(pm_rows(f'binance_futures_account_maint_margin{{{SEL}}}'), "{{account}} maintenance margin"),
    ], 12, 8, USD)
    b.add(timeseries.Panel(), "Loans per asset", "Per Portfolio Margin account and asset, in the asset's units: cross-margin borrowed, accrued interest and negative balance (what is owed after a loss or liquidation; Binance charges interest on it).", [
        ts(f'binance_futures_asset_cross_margin_borrowed{{{SEL}}}', "{{account}} {{asset}} borrowed"),
        ts(f'binance_futures_asset_cross_margin_interest{{{SEL}}}', "{{account}} {{asset}} interest"),
        ts(f'binance_futures_asset_negative_balance{{{SEL}}}', "{{account}} {{asset}} negative balance"),
    ], 12, 8, "none")
    b.add(table.Panel().show_header(True).transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              index={"account": 0, "asset": 1, "Value #A": 2, "Value #B": 3, "Value #C": 4, "Value #D": 5, "Value #E": 6,
                     "Value #F": 7, "Value #G": 8, "Value #H": 9, "Value #I": 10, "Value #J": 11},
              rename={"account": "Account", "asset": "Asset", "Value #A": "Wallet", "Value #B": "Cross margin free",
                      "Value #C": "Cross margin locked", "Value #D": "Borrowed", "Value #E": "Interest",
                      "Value #F": "Negative balance", "Value #G": "UM wallet", "Value #H": "UM uPnL",
                      "Value #I": "CM wallet", "Value #J": "CM uPnL"})])
          .override_by_name("Borrowed", [prop("custom.cellOptions", cm.TableColorTextCellOptions()), prop("thresholds", thresholds(OWED_STEPS).build())])
          .override_by_name("Interest", [prop("custom.cellOptions", cm.TableColorTextCellOptions()), prop("thresholds", thresholds(OWED_STEPS).build())])
          .override_by_name("Negative balance", [prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(OWED_STEPS).build())]),
          "Balances and loans per asset", "Per Portfolio Margin account and asset, in the asset's own units: total wallet balance, cross-margin free and locked, borrowed and interest (red when not 0), negative balance (red background when not 0), and the USDⓈ-M (UM) and COIN-M (CM) wallet balances and unrealized PnL held in that asset.", [
              table_q(pm_rows(f'binance_futures_asset_wallet_balance{{{SEL}}}')),
              table_q(f'binance_futures_asset_cross_margin_free{{{SEL}}}'),
              table_q(f'binance_futures_asset_cross_margin_locked{{{SEL}}}'),
              table_q(f'binance_futures_asset_cross_margin_borrowed{{{SEL}}}'),
              table_q(f'binance_futures_asset_cross_margin_interest{{{SEL}}}'),
              table_q(f'binance_futures_asset_negative_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_um_wallet_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_um_unrealized_profit{{{SEL}}}'),
              table_q(f'binance_futures_asset_cm_wallet_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_cm_unrealized_profit{{{SEL}}}'),
          ], 24, 7, "none")
    # UM positions are those without contracts; CM positions have them.
    um = f'unless on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}'
    b.add(table.Panel().show_header(True).transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              index={"account": 0, "symbol": 1, "position_side": 2, "Value #A": 3},
              rename={"account": "Account", "symbol": "Symbol", "position_side": "Side", "Value #A": "Size (base)",
                      "Value #B": "Entry", "Value #C": "Mark", "Value #D": "Unrealized PnL", "Value #E": "Notional",
                      "Value #F": "Liquidation"})])
          .override_by_name("Liquidation", [prop("mappings", value_texts({0: "—"})), prop("noValue", "—")])
          .override_by_name("Unrealized PnL", [prop("custom.cellOptions", cm.TableColorTextCellOptions()), prop("thresholds", thresholds(SIGN_STEPS).build())]),
          "UM positions (Portfolio Margin)", "USDⓈ-M positions of Portfolio Margin accounts: signed size in the base asset, entry and mark price, unrealized PnL and notional in the quote asset, and Binance's liquidation price (— where it reports none: the account is liquidated as a whole, at uniMMR 1.05).", [
              table_q(pm_rows(f'binance_futures_position_amount{{{SEL}}} {um}')),
              table_q(pm_rows(f'binance_futures_position_entry_price{{{SEL}}} {um}')),
              table_q(pm_rows(f'binance_futures_position_mark_price{{{SEL}}} {um}')),
              table_q(pm_rows(f'binance_futures_position_unrealized_profit{{{SEL}}} {um}')),
              table_q(pm_rows(f'binance_futures_position_notional{{{SEL}}} {um}')),
              table_q(pm_rows(f'binance_futures_position_liquidation_price{{{SEL}}} {um}')),
          ], 12, 8, "none")
    b.add(table.Panel().show_header(True).transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              index={"account": 0, "symbol": 1, "position_side": 2, "Value #A": 3},
              rename={"account": "Account", "symbol": "Symbol", "position_side": "Side", "Value #A": "Contracts",
                      "Value #B": "Entry", "Value #C": "Mark", "Value #D": "Unrealized PnL", "Value #E": "Notional",
                      "Value #F": "Liquidation"})])
          .override_by_name("Liquidation", [prop("mappings", value_texts({0: "—"})), prop("noValue", "—")])
          .override_by_name("Unrealized PnL", [prop("custom.cellOptions", cm.TableColorTextCellOptions()), prop("thresholds", thresholds(SIGN_STEPS).build())]),
          "CM positions (Portfolio Margin)", "COIN-M positions of Portfolio Margin accounts: signed size in contracts, entry and mark price in USD, unrealized PnL and notional in the margin coin (BTC for BTCUSD_PERP), and Binance's liquidation price (— where it reports none).", [
              table_q(pm_rows(f'binance_futures_position_contracts{{{SEL}}}')),
              table_q(pm_rows(f'binance_futures_position_entry_price{{{SEL}}} and on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}')),
              table_q(pm_rows(f'binance_futures_position_mark_price{{{SEL}}} and on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}')),
              table_q(pm_rows(f'binance_futures_position_unrealized_profit{{{SEL}}} and on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}')),
              table_q(pm_rows(f'binance_futures_position_notional{{{SEL}}} and on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}')),
              table_q(pm_rows(f'binance_futures_position_liquidation_price{{{SEL}}} and on (job, instance, account, symbol, position_side) binance_futures_position_contracts{{{SEL}}}')),
          ], 12, 8, "none")
    b.row("Money that moved (user data stream; counted since each exporter started)")
    for type_, title, text in [
        ("realized_pnl", "Realized PnL over the range", "Realized profit minus realized loss of closed trades in the time range (USDT), from ORDER_TRADE_UPDATE `rp`."),
        ("commission", "Fees over the range", "Commissions paid minus rebates received in the time range (USDT; negative: net cost), from ORDER_TRADE_UPDATE `n`."),
        ("funding_fee", "Funding over the range", "Funding received minus funding paid in the time range (USDT), from ACCOUNT_UPDATE FUNDING_FEE balance changes."),
    ]:
        b.add(signed(big_value(cm.BigValueGraphMode.NONE)).decimals(2), title,
              text + " Counters start at 0 when the exporter starts: a range across a restart misses what happened while it was down.",
              [instant(income_net(type_, "$__range"), type_)], 5, 5, USDT)
    b.add(big_value(cm.BigValueGraphMode.NONE).thresholds(thresholds([(None, "green"), (0.5, "red")])).color_scheme(by_thresholds()).decimals(0),
          "Forced closes and margin calls over the range", "Positions Binance closed itself (liquidation, auto-deleverage, settlement) and margin calls Binance sent in the time range. Anything above 0 has paged (critical alerts).", [
              instant(f'sum(increase(binance_futures_forced_closes_total{{{SEL}}}[$__range])) or vector(0)', "forced closes"),
              instant(f'sum(increase(binance_futures_margin_calls_total{{{SEL}}}[$__range])) or vector(0)', "margin calls"),
          ], 9, 5, "none")
    b.add(timeseries.Panel().draw_style(cm.GraphDrawStyle.BARS).fill_opacity(60),
          "Realized PnL, fees and funding per hour", "Net amount per hour by account, asset and type: realized PnL, commissions (negative: cost) and funding, from the user data stream.", [
              ts(income_rate("realized_pnl"), "{{account}} {{asset}} realized PnL"),
              ts(income_rate("commission"), "{{account}} {{asset}} fees"),
              ts(income_rate("funding_fee"), "{{account}} {{asset}} funding"),
          ], 12, 8, PER_HOUR)
    b.add(timeseries.Panel().draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80).min(0),
          "Forced closes and margin calls", "Per hour: positions Binance closed itself, by account, symbol and kind (liquidation, adl, settlement), and margin calls by account. Also drawn as annotations on every panel.", [
              ts(f'sum by (account, symbol, kind) (rate(binance_futures_forced_closes_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} {{symbol}} {{kind}}"),
              ts(f'sum by (account) (rate(binance_futures_margin_calls_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} margin call"),
          ], 12, 8, PER_HOUR)
    b.row("Positions")
    b.add(table.Panel().show_header(True).sort_by([common.TableSortByFieldState().display_name("Distance to liquidation").desc(False)])
          .transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              index={"account": 0, "symbol": 1, "position_side": 2, "Value #A": 3, "Value #L": 4, "Value #B": 5},
              rename={"position_side": "Side", "account": "Account", "symbol": "Symbol",
                      "Value #A": "Distance to liquidation", "Value #B": "Size (base)", "Value #C": "Entry",
                      "Value #D": "Break-even", "Value #E": "Mark", "Value #F": "Liquidation",
                      "Value #G": "Unrealized PnL", "Value #H": "Notional", "Value #I": "Leverage",
                      "Value #J": "Margin", "Value #K": "ADL", "Value #L": "Contracts"})])
          .override_by_name("Distance to liquidation", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(DISTANCE_STEPS).build())])
          .override_by_name("Liquidation", [prop("mappings", value_texts({0: "—"})), prop("noValue", "—")])
          .override_by_name("Contracts", [prop("noValue", "—")])
          .override_by_name("Leverage", [prop("unit", LEVERAGE)])
          .override_by_name("Margin", [prop("mappings", value_texts({0: "cross", 1: "isolated"}))])
          .override_by_name("ADL", [
              prop("noValue", "—"), prop("custom.cellOptions", cm.TableColorTextCellOptions()),
              prop("thresholds", thresholds([(None, "green"), (3, "orange"), (4, "red")]).build())]),
          "Open positions, nearest to liquidation first", "One row per open position. Distance = |mark − liquidation| ÷ mark, coloured at 5 % and 15 % like the alerts; — where Binance reports no liquidation price. Contracts: COIN-M positions' size in contracts (signed; — on USDⓈ-M); Size: signed, in the base asset (BTC for BTCUSDT and for BTCUSD_PERP). Prices in the quote currency (USDT, USDC; USD on COIN-M). Unrealized PnL and notional in the margin asset: the quote asset on USDⓈ-M, the coin on COIN-M (BTC for BTCUSD_PERP). ADL quantile 0–4 (4: first to be auto-deleveraged).", [
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
              table_q(f'binance_futures_position_contracts{{{SEL}}}'),
          ], 24, 10, "none")
    b.row("Protection (open orders: stops and take profits)")
    b.add(big_value(cm.BigValueGraphMode.AREA).thresholds(thresholds([(None, "green"), (1, "red")])).color_scheme(by_thresholds()).decimals(0),
          "Positions without a stop loss", "Open positions that no stop-loss order covers at all (protection ratio 0). The critical alert fires when one stays so for 15 minutes. Accounts whose key cannot read orders are not counted.",
          [ts(f'count(binance_futures_position_protection_ratio{{{SEL}, kind="stop_loss"}} == 0) or vector(0)', "without stop loss")], 4, 8, "none")
    b.add(timeseries.Panel().min(0).decimals(0).fill_opacity(30).stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL)),
          "Open orders by type", "Open orders of the selected accounts by Binance order type (limit, stop_market, take_profit_market, trailing_stop_market, …), plain and conditional (algo) orders together, stacked. Accounts whose key cannot read orders export none.",
          [ts(f'sum by (type) (binance_futures_open_orders{{{SEL}}})', "{{type}}")], 20, 8, "none")
    b.add(table.Panel().show_header(True).sort_by([common.TableSortByFieldState().display_name("Stop-loss coverage").desc(False)])
          .transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              index={"account": 0, "symbol": 1, "position_side": 2, "Value #A": 3, "Value #B": 4, "Value #C": 5, "Value #D": 6,
                     "Value #E": 7, "Value #F": 8, "Value #G": 9, "Value #H": 10},
              rename={"account": "Account", "symbol": "Symbol", "position_side": "Side",
                      "Value #A": "Stop-loss coverage", "Value #B": "Take-profit coverage", "Value #C": "Size",
                      "Value #D": "Mark", "Value #E": "Stop", "Value #F": "Stop distance",
                      "Value #G": "Liquidation", "Value #H": "Liquidation distance"})])
          .override_by_name("Stop-loss coverage", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(COVERAGE_STEPS).build())])
          .override_by_name("Take-profit coverage", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColorTextCellOptions()), prop("thresholds", thresholds(COVERAGE_STEPS).build())])
          .override_by_name("Stop", [prop("noValue", "—")])
          .override_by_name("Stop distance", [prop("unit", "percentunit"), prop("noValue", "—")])
          .override_by_name("Liquidation", [prop("mappings", value_texts({0: "—"})), prop("noValue", "—")])
          .override_by_name("Liquidation distance", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(DISTANCE_STEPS).build())]),
          "Protection per position, unprotected first", "One row per open position. Coverage: the share of the position that the closing side's reduce-only or close-position orders would close when triggered (stop loss: red none, orange part, green all; take profit in the same colours, as text). Stop: the stop-loss trigger nearest the mark. Distances are |mark − price| ÷ mark; liquidation coloured at 5 % and 15 % like the alerts. A stop farther from the mark than the liquidation price can never trigger (it pages). — : no stop, no liquidation price, or orders the key cannot read.", [
              table_q(f'max without (kind) (binance_futures_position_protection_ratio{{{SEL}, kind="stop_loss"}})'),
              table_q(f'max without (kind) (binance_futures_position_protection_ratio{{{SEL}, kind="take_profit"}})'),
              table_q(f'binance_futures_position_amount{{{SEL}}}'),
              table_q(f'binance_futures_position_mark_price{{{SEL}}}'),
              table_q(f'binance_futures_position_stop_price{{{SEL}}}'),
              table_q(f'abs(binance_futures_position_mark_price{{{SEL}}} - binance_futures_position_stop_price{{{SEL}}})'
                      f' / (binance_futures_position_mark_price{{{SEL}}} > 0)'),
              table_q(f'binance_futures_position_liquidation_price{{{SEL}}}'),
              table_q(DISTANCE),
          ], 24, 9, "none")
    b.row("Assets")
    b.add(table.Panel().transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              rename={"account": "Account", "asset": "Asset", "Value #A": "Wallet",
                      "Value #B": "Margin balance", "Value #C": "Unrealized PnL", "Value #D": "Available",
                      "Value #E": "Maintenance margin", "Value #F": "Margin ratio"})])
          .override_by_name("Margin ratio", [
              prop("unit", "percentunit"), prop("noValue", "—"),
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()), prop("thresholds", thresholds(MARGIN_STEPS).build())]),
          "Per-asset balances", "Per account and asset, in the asset's own units (BTC in BTC, USDT in USDT). Margin ratio: COIN-M coins only (each coin margins its own contracts; coloured at 50 % and 80 % like the alerts); a USDⓈ-M account's ratio is the account's (— here).", [
              table_q(f'binance_futures_asset_wallet_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_margin_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_unrealized_profit{{{SEL}}}'),
              table_q(f'binance_futures_asset_available_balance{{{SEL}}}'),
              table_q(f'binance_futures_asset_maint_margin{{{SEL}}}'),
              table_q(f'binance_futures_asset_margin_ratio{{{SEL}}}'),
          ], 24, 7, "none")
    b.annotation("Forced closes", "red", f'changes(binance_futures_forced_closes_total{{{SEL}}}[2m]) > 0 or (binance_futures_forced_closes_total{{{SEL}}} unless binance_futures_forced_closes_total{{{SEL}}} offset 2m)',
                 "{{kind}}: {{account}} {{symbol}} {{position_side}}")
    b.annotation("Margin calls", "orange", f'changes(binance_futures_margin_calls_total{{{SEL}}}[2m]) > 0', "margin call: {{account}}")
    return b


def health():
    b = Board("binance-futures-exporter-health", "Binance Futures — Exporter health", shard=True)
    b.row("Exporter")
    b.add(big_value(cm.BigValueGraphMode.NONE).mappings(state_mappings("down", "up")).thresholds(thresholds([(None, "red"), (1, "green")])).color_scheme(by_thresholds()),
          "Scrape up", "Prometheus's own `up` for the exporter targets: 0 means Prometheus cannot scrape it at all.",
          [ts(f'min(up{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}})', "up")], 4, 5, "none")
    b.add(timeseries.Panel(), "Scrape duration", "How long Prometheus's scrape of the exporter takes (the exporter serves pre-rendered bytes: milliseconds).",
          [ts(f'scrape_duration_seconds{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")], 8, 5, "s")
    b.add(table.Panel().transformations([organize(exclude=("Time", "__name__", "Value", "job"))]),
          "Build", "Version and git revision of each exporter instance.",
          [table_q(f'binance_futures_exporter_build_info{{{SEL_IP}}}')], 6, 5, "none")
    b.add(big_value(cm.BigValueGraphMode.NONE).mappings(state_mappings("failed", "ok")).thresholds(thresholds([(None, "red"), (1, "green")])).color_scheme(by_thresholds()),
          "Config reload", "1 when the last reload (start or SIGHUP) of the configuration succeeded; 0: the exporter runs the previous configuration (see its log).",
          [ts(f'min(binance_futures_config_last_reload_successful{{{SEL_IP}}})', "reload")], 3, 5, "none")
    b.add(big_value(cm.BigValueGraphMode.NONE).thresholds(thresholds([(None, "green"), (1, "red")])).color_scheme(by_thresholds()),
          "Stopped accounts", "Accounts whose key Binance rejected (polling stopped until the key is fixed and the exporter reloaded).",
          [ts(f'sum(binance_futures_account_stopped{{{SEL}}}) or vector(0)', "stopped")], 3, 5, "none")
    b.row("Freshness")
    b.add(big_value(cm.BigValueGraphMode.NONE), "Accounts up", "Accounts whose last poll succeeded and is fresh, of those configured.",
          [ts(f'sum(binance_futures_up{{{SEL}}})', "up"), ts(f'count(binance_futures_up{{{SEL}}})', "configured")], 6, 5, "none")
    b.add(statetimeline.Panel().mappings(state_mappings("down", "up")).thresholds(thresholds([(None, "red"), (1, "green")])),
          "Up per account", "binance_futures_up per account over time.",
          [ts(f'binance_futures_up{{{SEL}}}', "{{account}}")], 18, 5, "none")
    b.add(timeseries.Panel().min(0), "Data age", "Seconds since each account's last successful poll, and the age at which its values are dropped (3 effective intervals). Accounts that never polled successfully are not drawn.", [
        ts(f'(time() - binance_futures_last_success_timestamp_seconds{{{SEL}}}) and binance_futures_last_success_timestamp_seconds{{{SEL}}} > 0', "{{account}}"),
        ts(f'3 * binance_futures_poll_interval_seconds{{{SEL}}}', "{{account}} stale after"),
    ], 12, 8, "s")
    b.add(timeseries.Panel().min(0), "Poll duration and interval", "How long each poll took, and the effective poll interval (stretched when the accounts cannot fit the weight budget).", [
        ts(f'binance_futures_poll_duration_seconds{{{SEL}}}', "{{account}} duration"),
        ts(f'binance_futures_poll_interval_seconds{{{SEL}}}', "{{account}} interval"),
    ], 12, 8, "s")
    b.row("Request weight (shared by everything on the IP)")
    b.add(timeseries.Panel().min(0), "IP weight used vs limit", "Binance's count of the IP's request weight in the current minute (it resets every minute), the limit, and the default headroom line (80 % of the limit, --weight.ip-headroom 0.2) the exporter never pushes past.", [
        ts(f'max by (instance) (binance_futures_request_weight_used{{{SEL_IP}}})', "{{instance}} used"),
        ts(f'max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} limit"),
        ts(f'0.8 * max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}})', "{{instance}} headroom line"),
    ], 12, 8, "none")
    b.add(timeseries.Panel().min(0), "Exporter weight per minute", "Request weight this exporter spent per minute (handshakes included), per instance.",
          [ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60', "{{instance}}")],
          6, 8, PER_MIN)
    b.add(threshold_lines(timeseries.Panel(), [(None, "green"), (0.2, "orange")]).min(0),
          "Exporter share of the limit", "Exporter weight per minute ÷ the IP's limit; compare with --weight.max-share (default 20 %).",
          [ts(f'sum by (instance) (rate(binance_futures_request_weight_consumed_total{{{SEL}}}[$__rate_interval])) * 60 / (max by (instance) (binance_futures_request_weight_limit{{{SEL_IP}}}) > 0)', "{{instance}}")],
          6, 8, "percentunit")
    b.add(timeseries.Panel().min(0), "Scheduler deferrals", "Polls and connects the scheduler skipped per minute, by reason: own_share, ip_headroom, retry_after, banned.",
          [ts(f'sum by (instance, reason) (rate(binance_futures_scheduler_deferrals_total{{{SEL_IP}}}[$__rate_interval])) * 60', "{{instance}} {{reason}}")],
          8, 8, PER_MIN)
    b.add(timeseries.Panel().min(0), "Rate limit: seconds left", "Seconds until Binance's retryAfter (429) or ban (418) ends; 0 when not limited.",
          [ts(f'clamp_min(max by (instance) (binance_futures_rate_limited_until_timestamp_seconds{{{SEL_IP}}}) - time(), 0)', "{{instance}}")],
          8, 8, "s")
    b.add(statetimeline.Panel().mappings(value_texts({0: ("ok", "green"), 1: ("banned", "red")})),
          "IP banned", "1 while Binance bans the IP (418): every request from it is refused.",
          [ts(f'max by (instance) (binance_futures_ip_banned{{{SEL_IP}}})', "{{instance}}")], 8, 8, "none")
    b.row("Errors and connections")
    b.add(timeseries.Panel().min(0), "Poll errors by code", "Failed polls per minute by account and code: a Binance error code, or transport, timeout, decode.",
          [ts(f'sum by (account, code) (rate(binance_futures_poll_errors_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{code}}")],
          12, 8, PER_MIN)
    b.add(timeseries.Panel().min(0), "Polls", "Polls attempted per minute per account.",
          [ts(f'sum by (account) (rate(binance_futures_polls_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}}")], 12, 8, PER_MIN)
    b.add(timeseries.Panel().min(0), "WebSocket reconnects", "Reconnects per minute by account and reason (max_age, server_shutdown, close_frame, missed_pong, connection_lost, error).",
          [ts(f'sum by (account, reason) (rate(binance_futures_websocket_reconnects_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{reason}}")],
          8, 8, PER_MIN)
    b.add(statetimeline.Panel().mappings(state_mappings("disconnected", "connected")),
          "WebSocket connected", "Whether each account's WebSocket API connection is open.",
          [ts(f'binance_futures_websocket_connected{{{SEL}}}', "{{account}}")], 8, 8, "none")
    b.add(threshold_lines(timeseries.Panel(), [(None, "red"), (-1, "green"), (1, "red")]),
          "Clock offset (exchange − local)", "Estimated offset of Binance's clock from this host's, per account. Lines at ±1 s: beyond that the host's clock needs fixing (NTP).",
          [ts(f'binance_futures_clock_offset_seconds{{{SEL}}}', "{{account}}")], 8, 8, "s")
    b.row("User data stream")
    b.add(statetimeline.Panel().mappings(state_mappings("down", "subscribed")),
          "User stream subscribed", "Whether each account's listen key is subscribed on an open user data stream connection (instant updates, income, margin calls, liquidations).",
          [ts(f'binance_futures_user_stream_connected{{{SEL}}}', "{{account}}")], 8, 8, "none")
    b.add(timeseries.Panel().min(0), "User stream events", "Events received per minute by account and event type.",
          [ts(f'sum by (account, event) (rate(binance_futures_user_stream_events_total{{{SEL}}}[$__rate_interval])) * 60', "{{account}} {{event}}")],
          8, 8, PER_MIN)
    b.add(timeseries.Panel().min(0), "User stream gaps and bad frames", "Resubscriptions after a gap per hour by reason (every gap is followed by a poll), and unreadable frames per hour.", [
        ts(f'sum by (account, reason) (rate(binance_futures_user_stream_reconnects_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} {{reason}}"),
        ts(f'sum by (account) (rate(binance_futures_user_stream_malformed_events_total{{{SEL}}}[$__rate_interval])) * 3600', "{{account}} malformed"),
    ], 8, 8, PER_HOUR)
    b.row("Live values (mark price feed) and reconciliation")
    b.add(statetimeline.Panel().mappings(state_mappings("down", "connected")),
          "Mark price feed", "Whether the public !markPrice@arr@1s connection is up. With an account's user stream it makes the account's values live and its polls reconciliations.",
          [ts(f'max by (instance) (binance_futures_mark_feed_connected{{{SEL_IP}}})', "{{instance}}")], 8, 7, "none")
    b.add(timeseries.Panel().min(0), "Mark feed age", "Seconds since the last mark price frame (one per second when healthy; above 3 s the accounts return to their normal poll interval).",
          [ts(f'(time() - max by (instance) (binance_futures_mark_feed_last_frame_timestamp_seconds{{{SEL_IP}}})) and max by (instance) (binance_futures_mark_feed_last_frame_timestamp_seconds{{{SEL_IP}}}) > 0', "{{instance}}")],
          8, 7, "s")
    b.add(timeseries.Panel(), "Reconcile drift of the margin ratio", "Locally recomputed margin ratio minus Binance's at each poll (0 within rounding). The alert fires above 0.01 for 15 minutes.",
          [ts(f'binance_futures_reconcile_drift{{{SEL}, field="margin_ratio"}}', "{{account}}")], 8, 7, "percentunit")
    b.add(table.Panel().transformations([*MERGE, organize(
              exclude=("Time", "__name__", "job", "instance"),
              rename={"account": "Account", "permission": "Granted permission", "Value #A": "Granted", "Value #B": "IP-restricted"})]),
          "API key permissions", "What each account's API key may do (GET /sapi/v1/account/apiRestrictions, checked hourly): 1 = granted. A monitoring key needs reading only and an IP whitelist; the key alerts fire otherwise. Accounts whose key may not read this (or a testnet) have no rows.", [
              table_q(f'binance_futures_api_key_permission{{{SEL}}} == 1'),
              table_q(f'binance_futures_api_key_ip_restricted{{{SEL}}}'),
          ], 24, 6, "none")
    b.row("Process")
    b.add(timeseries.Panel().min(0), "Resident memory", "Resident memory of the exporter process.",
          [ts(f'process_resident_memory_bytes{{{SEL_IP}}} and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")],
          12, 7, "bytes")
    b.add(timeseries.Panel().min(0), "CPU", "CPU time used by the exporter per second of wall time (1 = one core).",
          [ts(f'rate(process_cpu_seconds_total{{{SEL_IP}}}[$__rate_interval]) and on (job, instance) binance_futures_exporter_build_info{{{SEL_IP}}}', "{{instance}}")],
          12, 7, "percentunit")
    # Replicas started with --shard/--total-shards each export binance_futures_shard_info{shard,
    # total_shards} = 1. The total is a label, so the table turns it into a number and subtracts.
    b.row("Shards (--shard, --total-shards)")
    b.add(table.Panel()
          .transformations([
              dm.DataTransformerConfig(id_val="convertFieldType", options={
                  "conversions": [{"targetField": "total_shards", "destinationType": "number"}], "fields": {}}),
              dm.DataTransformerConfig(id_val="calculateField", options={
                  "mode": "binary", "binary": {"left": "total_shards", "operator": "-", "right": "Value"},
                  "alias": "Missing", "timeSeries": False}),
              organize(exclude=("Time",), index={"job": 0, "total_shards": 1, "Value": 2, "Missing": 3},
                       rename={"job": "Job", "total_shards": "Total shards", "Value": "Reporting"})])
          .override_by_name("Missing", [
              prop("custom.cellOptions", cm.TableColoredBackgroundCellOptions()),
              prop("thresholds", thresholds([(None, "green"), (1, "red")]).build())]),
          "Shards reporting", "Per job and --total-shards: how many shards report binance_futures_shard_info, and how many of the total do not (red: a replica is down or was started with another --total-shards; two rows: the replicas disagree on the total). Counts the selected instances, so keep Instance on All. No data: the exporter predates the metric.",
          [table_q(f'count by (job, total_shards) (binance_futures_shard_info{{{SEL_IP}}})')], 8, 5, "none")
    b.add(table.Panel().sort_by([common.TableSortByFieldState().display_name("Shard").desc(False)])
          .transformations([organize(exclude=("Time", "__name__", "Value"),
                                     index={"shard": 0, "instance": 1, "job": 2, "total_shards": 3},
                                     rename={"shard": "Shard", "instance": "Instance", "job": "Job", "total_shards": "Total shards"})]),
          "Shard of each instance", "Which replica (instance) keeps which shard of the accounts, for the shards selected in Shard. Two rows with the same shard: those replicas poll the same accounts (twice the request weight).",
          [table_q(f'binance_futures_shard_info{{{SEL_IP}, shard=~"$shard"}}')], 16, 5, "none")
    return b


DASHBOARDS = {"binance-futures-accounts.json": accounts, "binance-futures-exporter-health.json": health}


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "grafana", "dashboards")
    for name, make in DASHBOARDS.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(make().json())
