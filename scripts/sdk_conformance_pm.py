#!/usr/bin/env python3
"""Checks the exchange simulator's Portfolio Margin venue (papi REST) against Binance's official
Portfolio Margin Python SDK (`binance-sdk-derivatives-trading-portfolio-margin`).

Starts `binance-futures-exporter simulate` (which holds a Portfolio Margin account on a key of
its own), then drives papi with the SDK's own REST client:
  1. every route the exporter reads: `account`, `balance` (list, and one asset as an object
     without `crossMarginAsset`), `um/positionRisk`, `cm/positionRisk`, `um/income`,
     `cm/income`, the four open-order lists with and without `symbol`, `listenKey` (start,
     keepalive, close; the API key alone), `ping`;
  2. each raw answer checked strictly, because the SDK's models accept missing fields and drop
     unknown keys silently, and relax their own types when a live answer does not match: every
     key must be declared by the model (no unknown keys), every declared key present (but the
     documented conditional ones), every value of the declared JSON type (a decimal string where
     the model says StrictStr, an integer for StrictInt, a boolean for StrictBool); the model
     must parse it with no type relaxation logged by the SDK;
  3. the documented weights, as `X-MBX-USED-WEIGHT-1M` moves (20, 20, 5, 1, 30, 30, 1 / 40, 1);
  4. keys and products kept apart: a USDⓈ-M or COIN-M key is refused on papi, the PM key on
     fapi and dapi, each with 401 / -2015;
  5. the PM user data stream, when the simulate line names it (`pm_stream`): a listen key from
     papi, its raw form `<pm_stream>/ws/<listenKey>` and the combined `<pm_stream>/stream`
     (SUBSCRIBE, as the SDK does) both connected; every event the demo cycle produces
     (`riskLevelChange`, `ACCOUNT_UPDATE` and `ORDER_TRADE_UPDATE` with `fs` UM and CM,
     `ACCOUNT_CONFIG_UPDATE`) routed by `UserDataStreamEventsResponse.from_dict` to its model and
     checked as strictly as the REST answers.

Usage: sdk_conformance_pm.py BINARY   (the built binance-futures-exporter)
Exits 0 when everything conforms, 1 with a list of differences otherwise.
"""
import asyncio
import hashlib
import hmac
import json
import logging
import os
import sys
import time
import typing
import urllib.parse

import requests
import websockets

from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import UnauthorizedError
from binance_sdk_derivatives_trading_portfolio_margin.derivatives_trading_portfolio_margin import (
    DerivativesTradingPortfolioMargin,
)
from binance_sdk_derivatives_trading_portfolio_margin.rest_api import models as rm
from binance_sdk_derivatives_trading_portfolio_margin.websocket_streams import models as wm

import sdk_common
from sdk_common import nested_model, problems

STATUSES = {"NORMAL", "MARGIN_CALL", "SUPPLY_MARGIN", "REDUCE_ONLY", "ACTIVE_LIQUIDATION", "FORCE_LIQUIDATION", "BANKRUPTED"}

# Fields Binance sends only with some rows, as the SDK's descriptions and Binance's docs say.
CONDITIONAL = {
    ("QueryAllCurrentCmOpenConditionalOrdersResponseInner", "activatePrice"): lambda row: row.get("strategyType") == "TRAILING_STOP_MARKET",
    ("QueryAllCurrentCmOpenConditionalOrdersResponseInner", "priceRate"): lambda row: row.get("strategyType") == "TRAILING_STOP_MARKET",
    # Stream events: `S` names the symbol of a FUNDING_FEE update; `M` (modifyId) comes with an
    # amendment only; `st` / `si` only on an order a conditional order placed.
    ("AccountUpdateA", "S"): lambda a: a.get("m") == "FUNDING_FEE",
    ("OrderTradeUpdateO", "M"): lambda o: o.get("x") == "AMENDMENT",
    ("OrderTradeUpdateO", "st"): lambda o: False,
    ("OrderTradeUpdateO", "si"): lambda o: False,
}


class SDKWarnings(logging.Handler):
    """The SDK logs a warning when an answer fails its strict models (and then relaxes them)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def json_kind(annotation):
    """'str', 'int', 'bool', 'num' or None (a nested model) for a model field's annotation."""
    stack = [annotation]
    while stack:
        current = stack.pop()
        if current is str:
            return "str"
        if current is bool:
            return "bool"
        if current is int:
            return "int"
        if current is float:
            return "num"
        stack.extend(typing.get_args(current))
    return None


def type_ok(kind, value):
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "num":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def check_strict(where, data, model, text_fields=None):
    """No unknown keys, every declared key present, every value of its declared JSON type;
    a str must be a decimal unless its key is one of `text_fields` (default: TEXT_FIELDS)."""
    text_fields = TEXT_FIELDS if text_fields is None else text_fields
    if isinstance(data, list):
        for index, row in enumerate(data):
            check_strict(f"{where}[{index}]", row, model, text_fields)
        return
    if not isinstance(data, dict):
        problems.append(f"{where}: expected an object, got {type(data).__name__}")
        return
    fields = {(field.alias or name): field for name, field in model.model_fields.items() if name != "additional_properties"}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            problems.append(f"{where}: key {key!r} is not declared by {model.__name__}")
            continue
        sub = nested_model(field.annotation)
        if sub is not None and isinstance(value, (dict, list)):
            check_strict(f"{where}.{key}", value, sub, text_fields)
            continue
        kind = json_kind(field.annotation)
        if not type_ok(kind, value):
            problems.append(f"{where}.{key}: {value!r} is not the {kind} {model.__name__} declares")
        elif kind == "str" and key not in text_fields:
            try:
                float(value)
            except ValueError:
                problems.append(f"{where}.{key}: {value!r} is not a decimal string")
    for key in fields:
        if key not in data and CONDITIONAL.get((model.__name__, key), lambda _: True)(data):
            problems.append(f"{where}: field {key!r} declared by {model.__name__} is missing")


# StrictStr fields whose values are words or ids rather than decimals.
TEXT_FIELDS = {
    "accountStatus", "asset", "symbol", "positionSide", "incomeType", "info", "tranId", "tradeId", "clientOrderId", "origType",
    "side", "status", "timeInForce", "type", "selfTradePreventionMode", "priceMatch", "clientAlgoId", "algoType", "orderType",
    "algoStatus", "workingType", "pair", "newClientStrategyId", "strategyStatus", "strategyType", "listenKey",
}


def client(info, key):
    return DerivativesTradingPortfolioMargin(
        config_rest_api=ConfigurationRestAPI(api_key=key, api_secret=info["api_secret"], base_path=info["pm_rest"], retries=0)
    )


def check_papi(info, warnings_seen):
    sdk = client(info, info["pm_api_key"])
    api = sdk.rest_api
    raw = []
    api._session.hooks["response"].append(lambda response, *args, **kwargs: raw.append(response))
    last_weight = [None]

    def call(name, function, model, weight, **kwargs):
        """Calls the SDK; checks the raw answer strictly and the weight it was charged."""
        before = len(warnings_seen.messages)
        try:
            response = function(**kwargs)
            parsed = response.data()
        except Exception as error:  # the SDK raises on every error answer
            problems.append(f"papi {name} {kwargs}: the SDK's request failed: {type(error).__name__}: {error}")
            return None
        for message in warnings_seen.messages[before:]:
            problems.append(f"papi {name}: the SDK logged: {message}")
        answer = raw[-1]
        body = answer.json()
        if model is not None:
            check_strict(f"papi {name}", body, model)
            if body and parsed is None:
                problems.append(f"papi {name}: the SDK parsed nothing")
        used = answer.headers.get("X-MBX-USED-WEIGHT-1M")
        if used is None:
            problems.append(f"papi {name}: no X-MBX-USED-WEIGHT-1M")
        else:
            used = int(used)
            # A new minute may have begun between two calls.
            if last_weight[0] is not None and used - last_weight[0] != weight and used != weight:
                problems.append(f"papi {name} {kwargs}: weight went {last_weight[0]} -> {used} (expected +{weight})")
            last_weight[0] = used
        return body

    call("ping", api.test_connectivity, None, 1)
    account = call("account", api.account_information, rm.AccountInformationResponse, 20)
    if account is not None:
        if account.get("accountStatus") not in STATUSES:
            problems.append(f"papi account: accountStatus {account.get('accountStatus')!r}")
        if not float(account.get("uniMMR", "0")) > 1.5 or not float(account.get("accountMaintMargin", "0")) > 0:
            problems.append(f"papi account: expected a healthy account with maintenance margin: {account!r}")
        if float(account["accountEquity"]) >= float(account["actualEquity"]):
            problems.append("papi account: accountEquity (with collateral rates) is not below actualEquity")
        print(f"papi account: uniMMR {account['uniMMR']} {account['accountStatus']}, parsed by the official PM SDK")

    balances = call("balance", api.account_balance, rm.AccountBalanceResponse1Inner, 20)
    if balances is not None:
        if not isinstance(balances, list) or {row.get("asset") for row in balances} < {"USDT", "BTC", "ETH"}:
            problems.append(f"papi balance: expected a list with USDT, BTC and ETH: {balances!r}"[:300])
        elif not any(float(row["crossMarginBorrowed"]) > 0 for row in balances):
            problems.append("papi balance: the demo account's loan is missing")
        parsed = rm.AccountBalanceResponse.from_dict(balances)
        if not isinstance(parsed.actual_instance, list):
            problems.append("papi balance: the SDK's oneOf did not pick the list form")
    one = call("balance asset=BTC", api.account_balance, rm.AccountBalanceResponse2, 20, asset="BTC")
    if one is not None:
        if not isinstance(one, dict) or one.get("asset") != "BTC":
            problems.append(f"papi balance asset=BTC: {one!r}")
        elif not isinstance(rm.AccountBalanceResponse.from_dict(one).actual_instance, rm.AccountBalanceResponse2):
            problems.append("papi balance asset=BTC: the SDK's oneOf did not pick the object form")

    um = call("um/positionRisk", api.query_um_position_information, rm.QueryUmPositionInformationResponseInner, 5)
    if um is not None:
        if {row["symbol"] for row in um} != {"BTCUSDT", "ETHUSDT"} or any(row["positionSide"] != "BOTH" for row in um):
            problems.append(f"papi um/positionRisk: expected the held BTCUSDT and ETHUSDT rows (BOTH): {um!r}"[:300])
    cm = call("cm/positionRisk", api.query_cm_position_information, rm.QueryCmPositionInformationResponseInner, 1)
    if cm is not None:
        held = [row for row in cm if float(row["positionAmt"]) != 0]
        if [row["symbol"] for row in held] != ["BTCUSD_PERP"]:
            problems.append(f"papi cm/positionRisk: expected the BTCUSD_PERP position: {held!r}"[:300])
        for row in cm:
            if float(row["positionAmt"]) != int(float(row["positionAmt"])) or not 0 <= float(row["notionalValue"]) < 1000:
                problems.append(f"papi cm/positionRisk {row['symbol']}: not whole contracts or notional not in coin")
    print(f"papi positionRisk: {len(um or [])} UM rows and {len(cm or [])} CM rows parsed by the official PM SDK")

    now = int(time.time() * 1000)
    for side, function, model, asset, kinds in (
        ("um", api.get_um_income_history, rm.GetUmIncomeHistoryResponseInner, "USDT", {"REALIZED_PNL", "COMMISSION", "FUNDING_FEE"}),
        ("cm", api.get_cm_income_history, rm.GetCmIncomeHistoryResponseInner, "BTC", {"REALIZED_PNL", "COMMISSION", "FUNDING_FEE"}),
    ):
        rows = call(f"{side}/income", function, model, 30, start_time=now - 3_600_000, end_time=now + 60_000, limit=1000)
        if rows is not None:
            if {row["incomeType"] for row in rows} != kinds or {row["asset"] for row in rows} != {asset}:
                problems.append(f"papi {side}/income: types {sorted({r['incomeType'] for r in rows})}, assets {sorted({r['asset'] for r in rows})}")

    for name, function, model, symbol in (
        ("um/openOrders", api.query_all_current_um_open_orders, rm.QueryAllCurrentUmOpenOrdersResponseInner, "BTCUSDT"),
        ("um/algo/openAlgoOrders", api.query_all_current_um_open_algo_orders, rm.QueryAllCurrentUmOpenAlgoOrdersResponseInner, "BTCUSDT"),
        ("cm/openOrders", api.query_all_current_cm_open_orders, rm.QueryAllCmOrdersResponseInner, "BTCUSD_PERP"),
        ("cm/conditional/openOrders", api.query_all_current_cm_open_conditional_orders,
         rm.QueryAllCurrentCmOpenConditionalOrdersResponseInner, "BTCUSD_PERP"),
    ):
        everything = call(name, function, model, 40)
        one = call(name, function, model, 1, symbol=symbol)
        if everything is not None and one is not None and (len(everything) != 1 or one != everything):
            problems.append(f"papi {name}: expected the demo account's one order: {everything!r} / {one!r}"[:300])
    print("papi: the four open-order lists parsed by the official PM SDK")

    started = call("listenKey POST", api.start_user_data_stream, rm.StartUserDataStreamResponse, 1)
    again = call("listenKey POST", api.start_user_data_stream, rm.StartUserDataStreamResponse, 1)
    if started is not None and (not started.get("listenKey") or again != started):
        problems.append(f"papi listenKey: {started!r} then {again!r} (expected the live key twice)")
    call("listenKey PUT", api.keepalive_user_data_stream, None, 1)
    call("listenKey DELETE", api.close_user_data_stream, None, 1)
    for request in raw:
        if request.request.path_url.startswith("/papi/v1/listenKey") and "signature=" in request.request.path_url:
            problems.append("papi listenKey: the SDK signed it (the check expects the API key alone)")


def signed_get(base, path, key, secret):
    query = urllib.parse.urlencode({"timestamp": int(time.time() * 1000)})
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return requests.get(f"{base}{path}?{query}&signature={signature}", headers={"X-MBX-APIKEY": key}, timeout=10)


def check_keys(info):
    """A USDⓈ-M or COIN-M key on papi, and the PM key on fapi and dapi: 401 / -2015."""
    for name in ("usd_api_key", "coinm_api_key"):
        try:
            client(info, info[name]).rest_api.account_information()
            problems.append(f"papi account with the {name}: answered")
        except UnauthorizedError as error:
            if error.status_code != -2015:
                problems.append(f"papi account with the {name}: {error}")
        except Exception as error:
            problems.append(f"papi account with the {name}: {type(error).__name__}: {error}")
    for path in ("/fapi/v1/income", "/dapi/v1/income"):
        answer = signed_get(info["pm_rest"], path, info["pm_api_key"], info["api_secret"])
        if answer.status_code != 401 or answer.json().get("code") != -2015:
            problems.append(f"{path} with the PM key: {answer.status_code} {answer.text[:200]}")
    for path, name in (("/fapi/v1/income", "usd_api_key"), ("/dapi/v1/income", "coinm_api_key")):
        if signed_get(info["pm_rest"], path, info[name], info["api_secret"]).status_code != 200:
            problems.append(f"{path} with the {name}: refused")
    print("keys: USDⓈ-M and COIN-M keys refused on papi, the PM key on fapi and dapi")


# Stream keys whose str values are words or ids (the same letter is a decimal elsewhere: `a` is an
# asset in `a.B` but the ask notional in `o`, `m` the reason in `a` but maintenance margin in
# riskLevelChange, so those two go unchecked as decimals).
STREAM_TEXT_FIELDS = {"fs", "i", "m", "a", "s", "c", "S", "o", "f", "x", "X", "N", "ps", "V", "st"}

# What the demo cycle must bring, as (event type, business unit or None): each seen on both forms.
STREAM_EXPECTED = {
    ("riskLevelChange", None), ("ACCOUNT_UPDATE", "UM"), ("ACCOUNT_UPDATE", "CM"), ("ORDER_TRADE_UPDATE", "UM"),
    ("ORDER_TRADE_UPDATE", "CM"), ("ACCOUNT_CONFIG_UPDATE", "UM"),
}


def parse_stream_event(where, data, seen):
    """One event: routed by the SDK's own map to its model, then checked strictly (`e` is only
    for routing: no model declares it)."""
    kind = data.get("e")
    try:
        instance = wm.UserDataStreamEventsResponse.from_dict(data).actual_instance
    except Exception as error:
        problems.append(f"{where} {kind}: the SDK did not parse it: {type(error).__name__}: {error}"[:300])
        return
    model = type(instance)
    if model is not wm.UserDataStreamEventsResponse.resolve_event_schema(kind)[0]:
        problems.append(f"{where} {kind}: routed to {model.__name__}")
        return
    check_strict(f"{where} {kind}", {k: v for k, v in data.items() if k != "e"}, model, STREAM_TEXT_FIELDS)
    if "fs" in model.model_fields and data.get("fs") not in ("UM", "CM"):
        problems.append(f"{where} {kind}: fs {data.get('fs')!r}")
    if kind == "riskLevelChange" and data.get("s") not in STATUSES:
        problems.append(f"{where} riskLevelChange: s {data.get('s')!r}")
    seen.add((kind, data.get("fs")))


async def check_stream(info):
    """Both forms of the PM user data stream, on a listen key from papi, until the demo cycle has
    brought every expected event to both (or 20 s)."""
    started = requests.post(f"{info['pm_rest']}/papi/v1/listenKey", headers={"X-MBX-APIKEY": info["pm_api_key"]}, timeout=10)
    key = started.json().get("listenKey")
    if not key:
        problems.append(f"pm stream: no listen key: {started.status_code} {started.text[:200]}")
        return
    base = info["pm_stream"].rstrip("/")
    seen, raw_seen = set(), set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    async with websockets.connect(base + "/stream") as combined, websockets.connect(base + "/ws/" + key) as raw:
        if not await sdk_common.subscribe("pm /stream", combined, key):
            return

        async def read(socket, where, into, envelope):
            while STREAM_EXPECTED - into and loop.time() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), max(0.1, deadline - loop.time())))
                except (asyncio.TimeoutError, websockets.ConnectionClosed):
                    return
                if envelope:
                    if frame.get("stream") != key or "data" not in frame:
                        problems.append(f"{where}: a frame without the listen key or data: {frame!r}"[:300])
                        continue
                    frame = frame["data"]
                elif "stream" in frame and "data" in frame:
                    problems.append(f"{where}: a combined envelope on the raw stream")
                    continue
                parse_stream_event(where, frame, into)

        await asyncio.gather(read(combined, "pm /stream", seen, True), read(raw, "pm /ws", raw_seen, False))
    for where, got in (("pm /stream", seen), ("pm /ws/<listenKey>", raw_seen)):
        missing = STREAM_EXPECTED - got
        if missing:
            problems.append(f"{where}: no {sorted(missing, key=str)} within 20 s")
    print(f"pm stream: {len(seen)} kinds of event on /stream and {len(raw_seen)} on /ws/<listenKey> parsed by the official PM SDK")


def main(binary):
    warnings_seen = SDKWarnings()
    logging.getLogger().addHandler(warnings_seen)

    def checks(info):
        check_papi(info, warnings_seen)
        check_keys(info)
        if "pm_stream" in info:
            asyncio.run(check_stream(info))
        else:
            print("pm stream: not checked (the simulate line has no pm_stream)")

    return sdk_common.run(binary, "SDK conformance (Portfolio Margin)", checks)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
