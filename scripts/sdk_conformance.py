#!/usr/bin/env python3
"""Checks the exchange simulator against Binance's official Python SDK.

Starts `binance-futures-exporter simulate`, then:
  1. drives its WebSocket API with the SDK's own client (`userDataStream.start/ping`,
     `account.status` v1/v2, `account.position` v2, `account.balance` v2), each answer parsed by
     the SDK's response model, every field the model declares present;
  2. subscribes the listen key on `/private/stream` as the SDK's stream client does (a plain
     `websockets` connection sending SUBSCRIBE), collects one full activity cycle, and parses
     every event with the SDK's `UserDataStreamEventsResponse` and per-event models, every field
     they declare present, nested objects included (`ALGO_UPDATE` of every status, and
     `ORDER_TRADE_UPDATE` of a triggered stop with its stop price and flags);
  3. reads the income ledger and the open orders of both services (`openOrders`,
     `openAlgoOrders`, with and without `symbol`) through the SDK's REST client, each row parsed
     by the SDK's model and the raw JSON checked for every field the model declares.

Usage: sdk_conformance.py PATH_TO_EXPORTER_BINARY
Exits 0 when everything conforms, 1 with a list of differences otherwise.
"""
import asyncio
import json
import sys

import websockets
import time

from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_derivatives_trading_usds_futures.websocket_streams import models as stream_models
from binance_sdk_derivatives_trading_usds_futures.websocket_api import models as api_models
from binance_sdk_derivatives_trading_usds_futures.rest_api import models as rest_models

import sdk_common
from sdk_common import nested_model, problems, ws_call

# Fields Binance sends only in some events, as the SDK's own descriptions say; each is checked
# where it must appear and allowed to be absent elsewhere.
CONDITIONAL = {
    ("OrderTradeUpdateO", "M"): lambda obj: obj.get("x") == "AMENDMENT",  # modifyId: amendments only
    ("AccountUpdateA", "S"): lambda obj: obj.get("m") == "FUNDING_FEE",  # symbol of a funding fee
    ("AccountConfigUpdate", "ac"): lambda obj: "ai" not in obj,  # leverage change, or
    ("AccountConfigUpdate", "ai"): lambda obj: "ac" not in obj,  # multi-assets mode change
    # "only return with TRAILING_STOP_MARKET order"
    ("CurrentAllOpenOrdersResponseInner", "activatePrice"): lambda obj: obj.get("type") == "TRAILING_STOP_MARKET",
    ("CurrentAllOpenOrdersResponseInner", "priceRate"): lambda obj: obj.get("type") == "TRAILING_STOP_MARKET",
}

CONDITIONAL_TYPES = {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
# The life of an algo order the simulate command's cycle shows: placed, triggered, finished, cancelled.
ALGO_STATUSES = {"NEW", "TRIGGERING", "TRIGGERED", "FINISHED", "CANCELED"}


def check_fields(where, obj, model):
    """`sdk_common.check_fields` with this SDK's conditional fields."""
    sdk_common.check_fields(where, obj, model, CONDITIONAL)


EVENT_MODELS = {
    "ACCOUNT_UPDATE": stream_models.AccountUpdate,
    "ORDER_TRADE_UPDATE": stream_models.OrderTradeUpdate,
    "MARGIN_CALL": stream_models.MarginCall,
    "ACCOUNT_CONFIG_UPDATE": stream_models.AccountConfigUpdate,
    "listenKeyExpired": stream_models.ListenKeyExpired,
    "ALGO_UPDATE": stream_models.AlgoUpdate,
}


async def check_api(info):
    client = DerivativesTradingUsdsFutures(
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=info["api_key"], api_secret=info["api_secret"], stream_url=info["ws_api"], reconnect_attempts=1
        )
    )
    connection = await client.websocket_api.create_connection()
    try:
        calls = [
            ("userDataStream.start", connection.start_user_data_stream, api_models.StartUserDataStreamResponseResult),
            ("userDataStream.ping", connection.keepalive_user_data_stream, api_models.KeepaliveUserDataStreamResponseResult),
            ("account.status", connection.account_information, api_models.AccountInformationResponseResult),
            ("v2/account.status", connection.account_information_v2, api_models.AccountInformationV2ResponseResult),
            ("v2/account.position", connection.position_information_v2, None),
            ("v2/account.balance", connection.futures_account_balance_v2, None),
        ]
        key = None
        for method, call, result_model in calls:
            data, raw = await ws_call(method, call)
            if raw is None:
                continue
            result = raw.get("result")
            if result_model is not None:
                check_fields(method, result, result_model)
            elif not isinstance(result, list) or not result:
                problems.append(f"{method}: expected a non-empty result list")
            else:
                item_model = nested_model(type(data).model_fields["result"].annotation)
                for index, row in enumerate(result):
                    check_fields(f"{method}[{index}]", row, item_model)
            if method == "userDataStream.start":
                key = result.get("listenKey") if isinstance(result, dict) else None
            if not raw.get("rateLimits"):
                problems.append(f"{method}: no rateLimits")
        print(f"ws-fapi: {len(calls)} methods through the official SDK client")
        return key
    finally:
        await connection.close_connection()


async def check_stream(info, key):
    seen = {}
    algo_statuses = set()
    triggered = []  # ORDER_TRADE_UPDATE frames of a triggered stop: its original type, stop price and flags

    def complete():
        return not (set(EVENT_MODELS) - set(seen)) and ALGO_STATUSES <= algo_statuses and triggered

    url = info["stream"].rstrip("/") + "/stream"
    async with websockets.connect(url) as stream:
        await stream.send(json.dumps({"method": "SUBSCRIBE", "params": [key], "id": 1}))
        answer = json.loads(await asyncio.wait_for(stream.recv(), 5))
        if answer != {"result": None, "id": 1}:
            problems.append(f"SUBSCRIBE answered {answer!r}")
        deadline = asyncio.get_running_loop().time() + 20
        while not complete() and asyncio.get_running_loop().time() < deadline:
            frame = json.loads(await asyncio.wait_for(stream.recv(), 10))
            if frame.get("stream") != key or "data" not in frame:
                problems.append("a combined frame without the subscribed stream name or data")
                continue
            data = frame["data"]
            kind = data.get("e")
            parsed = stream_models.UserDataStreamEventsResponse.from_dict(data)
            if parsed is None or parsed.actual_instance is None:
                problems.append(f"{kind}: the SDK could not parse the event")
                continue
            model = EVENT_MODELS.get(kind)
            if model is None:
                continue
            if not isinstance(parsed.actual_instance, model):
                problems.append(f"{kind}: the SDK parsed it as {type(parsed.actual_instance).__name__}")
            check_fields(kind, data, model)
            if kind == "ORDER_TRADE_UPDATE":
                client_id = data["o"]["c"]
                seen.setdefault("forced", set())
                for prefix in ("autoclose-", "adl_autoclose", "settlement_autoclose-"):
                    if client_id.startswith(prefix):
                        seen["forced"].add(prefix)
                o = data["o"]
                if o.get("ot") in CONDITIONAL_TYPES and o.get("sp") not in (None, "0") and (o.get("R") or o.get("cp")):
                    triggered.append(o)
            if kind == "ALGO_UPDATE":
                if data.get("e") != "ALGO_UPDATE" or data["o"].get("at") != "CONDITIONAL":
                    problems.append(f"ALGO_UPDATE: e={data.get('e')!r} at={data['o'].get('at')!r}")
                algo_statuses.add(data["o"].get("X"))
                if data["o"].get("X") == "TRIGGERED" and not data["o"].get("ai"):
                    problems.append("ALGO_UPDATE TRIGGERED without the order id it placed (ai)")
            seen[kind] = seen.get(kind, 0) + 1
        missing = set(EVENT_MODELS) - set(seen)
        if missing:
            problems.append(f"no {sorted(missing)} within 20 s")
        if len(seen.get("forced", ())) != 3:
            problems.append(f"forced closes seen: {sorted(seen.get('forced', ()))}")
        if not ALGO_STATUSES <= algo_statuses:
            problems.append(f"ALGO_UPDATE statuses seen: {sorted(algo_statuses)}, expected {sorted(ALGO_STATUSES)}")
        if not {o.get("X") for o in triggered} >= {"NEW", "FILLED"}:
            problems.append("no ORDER_TRADE_UPDATE NEW and FILLED of a triggered stop (ot, sp, R/cp)")
    counts = {k: v for k, v in seen.items() if k != "forced"}
    print(
        f"user stream: events parsed by the official SDK: {counts}; algo statuses {sorted(algo_statuses)};"
        f" {len(triggered)} order updates of a triggered stop"
    )


async def check_marks(info):
    """The public mark price stream, parsed by the SDK's model of !markPrice@arr."""
    url = info["market"].rstrip("/") + "/stream"
    async with websockets.connect(url) as stream:
        await stream.send(json.dumps({"method": "SUBSCRIBE", "params": ["!markPrice@arr@1s"], "id": 1}))
        answer = json.loads(await asyncio.wait_for(stream.recv(), 5))
        if answer != {"result": None, "id": 1}:
            problems.append(f"market SUBSCRIBE answered {answer!r}")
        frame = json.loads(await asyncio.wait_for(stream.recv(), 5))
    if frame.get("stream") != "!markPrice@arr@1s" or not isinstance(frame.get("data"), list) or not frame["data"]:
        problems.append("mark price frame: not a combined frame with a non-empty data array")
        return
    for index, row in enumerate(frame["data"]):
        check_fields(f"markPrice[{index}]", row, stream_models.MarkPriceStreamForAllMarketResponseInner)
    # The SDK's response model is one row; the stream delivers an array of them.
    for index, row in enumerate(frame["data"]):
        if stream_models.MarkPriceStreamForAllMarketResponse.from_dict(row) is None:
            problems.append(f"markPrice[{index}]: the SDK could not parse it")
    print(f"market stream: {len(frame['data'])} mark prices parsed by the official SDK")


def check_rest(info):
    """The income ledger through the SDK's REST client (its signing, its models)."""
    client = DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(api_key=info["api_key"], api_secret=info["api_secret"], base_path=info["rest"])
    )
    now = int(time.time() * 1000)
    try:
        response = client.rest_api.get_income_history(start_time=now - 3_600_000, end_time=now + 60_000, limit=1000)
    except Exception as error:
        problems.append(f"GET /fapi/v1/income: the SDK's request failed: {type(error).__name__}: {error}")
        return
    rows = json.loads(json.dumps([row.to_dict() for row in response.data()]))
    for index, row in enumerate(rows):
        check_fields(f"income[{index}]", row, rest_models.GetIncomeHistoryResponseInner)
    kinds = {row.get("incomeType") for row in rows}
    for kind in ("REALIZED_PNL", "COMMISSION", "FUNDING_FEE"):
        if kind not in kinds:
            problems.append(f"GET /fapi/v1/income: no {kind} row after a full activity cycle")
    weights = [limit for limit in response.rate_limits if "WEIGHT" in str(getattr(limit, "rateLimitType", "")).upper()]
    if not weights:
        problems.append("GET /fapi/v1/income: the SDK found no X-MBX-USED-WEIGHT-1M header")
    print(f"REST: {len(rows)} income rows parsed by the official SDK ({sorted(kinds)}); weight headers: {len(weights)}")


def check_orders(info):
    """Open orders of both services through the SDK's REST client: each answer parsed by the
    SDK's response model (strict types), the raw JSON checked for every declared field, the
    weight header 1 with `symbol` and 40 more without."""
    client = DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(api_key=info["api_key"], api_secret=info["api_secret"], base_path=info["rest"])
    )
    # The SDK's models drop null fields when they serialise; the raw bodies show what was sent.
    raw = []
    client.rest_api._session.hooks["response"].append(lambda response, *args, **kwargs: raw.append(response))
    calls = [
        ("openOrders", client.rest_api.current_all_open_orders, rest_models.CurrentAllOpenOrdersResponseInner, "orderId"),
        ("openAlgoOrders", client.rest_api.current_all_algo_open_orders, rest_models.CurrentAllAlgoOpenOrdersResponseInner, "algoId"),
    ]
    for name, call, model, id_field in calls:
        rows_by_symbol = {}
        for symbol in (None, "BTCUSDT", "btcusdt"):
            try:
                response = call(symbol=symbol)
                parsed = response.data()
            except Exception as error:
                problems.append(f"GET /fapi/v1/{name} symbol={symbol}: the SDK's request failed: {type(error).__name__}: {error}")
                continue
            rows = raw[-1].json()
            if not isinstance(rows, list) or len(rows) != len(parsed):
                problems.append(f"{name} symbol={symbol}: the SDK parsed {len(parsed)} rows of {rows!r}")
                continue
            for index, (row, model_row) in enumerate(zip(rows, parsed)):
                check_fields(f"{name}[{index}]", row, model)
                if not isinstance(model_row, model):
                    problems.append(f"{name}[{index}]: parsed as {type(model_row).__name__}")
            used = raw[-1].headers.get("X-MBX-USED-WEIGHT-1M")
            rows_by_symbol[symbol] = (rows, int(used) if used else None)
        if set(rows_by_symbol) != {None, "BTCUSDT", "btcusdt"}:
            continue
        everything, all_weight = rows_by_symbol[None]
        btc, btc_weight = rows_by_symbol["BTCUSDT"]
        lower, lower_weight = rows_by_symbol["btcusdt"]
        if not btc or not any(row["symbol"] != "BTCUSDT" for row in everything):
            problems.append(f"{name}: expected BTCUSDT rows and rows of other symbols, got {everything!r}")
        if any(row["symbol"] != "BTCUSDT" for row in btc) or sorted(r[id_field] for r in btc) != sorted(
            r[id_field] for r in everything if r["symbol"] == "BTCUSDT"
        ):
            problems.append(f"{name}: symbol=BTCUSDT is not the BTCUSDT rows of the whole list")
        if [r[id_field] for r in lower] != [r[id_field] for r in btc]:
            problems.append(f"{name}: symbol=btcusdt differs from symbol=BTCUSDT")
        # One request after the other: +1 with symbol (or 1 when a new minute began).
        if None in (all_weight, btc_weight):
            problems.append(f"{name}: no X-MBX-USED-WEIGHT-1M header")
        elif btc_weight - all_weight != 1 and btc_weight != 1:
            problems.append(f"{name}: X-MBX-USED-WEIGHT-1M went {all_weight} -> {btc_weight} with symbol (expected +1)")
        types = sorted({row.get("type", row.get("orderType")) for row in everything})
        print(f"REST: {name}: {len(everything)} open orders ({types}) parsed by the official SDK; {len(btc)} on BTCUSDT")
    try:
        before = int(client.rest_api.current_all_open_orders(symbol="BTCUSDT").headers.get("X-MBX-USED-WEIGHT-1M"))
        after = int(client.rest_api.current_all_algo_open_orders().headers.get("X-MBX-USED-WEIGHT-1M"))
        if after - before != 40 and after != 40:
            problems.append(f"openAlgoOrders without symbol: weight went {before} -> {after} (expected +40)")
    except Exception as error:
        problems.append(f"weight check: {type(error).__name__}: {error}")


async def checks(info):
    key = await check_api(info)
    if key is None:
        problems.append("no listen key")
    else:
        await check_stream(info, key)
    check_rest(info)
    check_orders(info)
    await check_marks(info)


if __name__ == "__main__":
    sys.exit(sdk_common.run(sys.argv[1], "SDK conformance", checks))
