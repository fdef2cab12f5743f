#!/usr/bin/env python3
"""Checks the exchange simulator's COIN-M venue against Binance's official COIN-M Python SDK
(`binance-sdk-derivatives-trading-coin-futures`).

Starts `binance-futures-exporter simulate`, then:
  1. drives ws-dapi with the SDK's own WebSocket API client (`userDataStream.start/ping`,
     `account.status`, `account.balance`, `account.position`), each answer parsed by the SDK's
     response model, every field the model declares present; no account-wide totals; positions
     in whole contracts; `v2/account.status` answered as an unknown method;
  2. reads dapi through the SDK's REST client: the income ledger (REALIZED_PNL, COMMISSION,
     FUNDING_FEE; `tranId` a string), `v2/leverageBracket`, `exchangeInfo` (`contractSize` an
     integer), `openOrders` with and without `symbol` (weight +1 / +40 in the shared window),
     `time`; each row parsed by the SDK's model, the raw JSON checked for every declared field;
  3. subscribes the listen key on dstream `/stream` as the SDK's stream client does (SUBSCRIBE)
     and on `/ws/<listenKey>` (raw), and parses every event type the activity produces
     (ACCOUNT_UPDATE, ORDER_TRADE_UPDATE, MARGIN_CALL, ACCOUNT_CONFIG_UPDATE, listenKeyExpired)
     with the SDK's `UserDataStreamEventsResponse` and per-event models, every field present;
  4. reads `btcusd@markPrice@1s` through the SDK's stream client, and checks fstream's
     `!markPrice@arr@1s` carries the COIN-M rows tagged `st` 2.

Usage: sdk_conformance_coinm.py PATH_TO_EXPORTER_BINARY
Exits 0 when everything conforms, 1 with a list of differences otherwise.
"""
import asyncio
import json
import sys
import time

import websockets

from binance_common.configuration import (
    ConfigurationRestAPI,
    ConfigurationWebSocketAPI,
    ConfigurationWebSocketStreams,
)
from binance_sdk_derivatives_trading_coin_futures.derivatives_trading_coin_futures import (
    DerivativesTradingCoinFutures,
)
from binance_sdk_derivatives_trading_coin_futures.websocket_streams import models as stream_models
from binance_sdk_derivatives_trading_coin_futures.websocket_api import models as api_models
from binance_sdk_derivatives_trading_coin_futures.rest_api import models as rest_models

import sdk_common
from sdk_common import nested_model, problems, ws_call

FILTER_FIELDS = {
    "PRICE_FILTER": {"minPrice", "maxPrice", "tickSize"},
    "LOT_SIZE": {"stepSize", "maxQty", "minQty"},
    "MARKET_LOT_SIZE": {"stepSize", "maxQty", "minQty"},
    "MAX_NUM_ORDERS": {"limit"},
    "PERCENT_PRICE": {"multiplierUp", "multiplierDown", "multiplierDecimal"},
}


def filter_field(key):
    return lambda obj: key in FILTER_FIELDS.get(obj.get("filterType"), set())


# Fields Binance sends only in some answers, as the SDK's own descriptions say.
CONDITIONAL = {
    ("OrderTradeUpdateO", "M"): lambda obj: obj.get("x") == "AMENDMENT",  # modifyId: amendments only
    ("AccountUpdateA", "S"): lambda obj: obj.get("m") == "FUNDING_FEE",  # symbol of a funding fee
    ("CurrentAllOpenOrdersResponseInner", "activatePrice"): lambda obj: obj.get("type") == "TRAILING_STOP_MARKET",
    ("CurrentAllOpenOrdersResponseInner", "priceRate"): lambda obj: obj.get("type") == "TRAILING_STOP_MARKET",
    # "only appears when user's symbol bracket is adjusted"
    ("NotionalBracketForSymbolResponseInner", "notionalCoef"): lambda obj: False,
}
for _key in ("maxPrice", "minPrice", "tickSize", "maxQty", "minQty", "stepSize", "limit", "multiplierUp", "multiplierDown",
             "multiplierDecimal"):
    CONDITIONAL[("ExchangeInformationResponseSymbolsInnerFiltersInner", _key)] = filter_field(_key)

EVENT_MODELS = {
    "ACCOUNT_UPDATE": stream_models.AccountUpdate,
    "ORDER_TRADE_UPDATE": stream_models.OrderTradeUpdate,
    "MARGIN_CALL": stream_models.MarginCall,
    "ACCOUNT_CONFIG_UPDATE": stream_models.AccountConfigUpdate,
    "listenKeyExpired": stream_models.ListenKeyExpired,
}

TOTALS = ("totalWalletBalance", "totalMarginBalance", "totalUnrealizedProfit", "totalInitialMargin", "totalMaintMargin",
          "availableBalance", "maxWithdrawAmount", "multiAssetsMargin")


def check_fields(where, obj, model):
    """`sdk_common.check_fields` with this SDK's conditional fields."""
    sdk_common.check_fields(where, obj, model, CONDITIONAL)


def whole(text):
    try:
        return float(text) == int(float(text))
    except (TypeError, ValueError):
        return False


async def check_api(info):
    client = DerivativesTradingCoinFutures(
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=info["coinm_api_key"], api_secret=info["coinm_api_secret"], stream_url=info["coinm_ws_api"],
            reconnect_attempts=1,
        )
    )
    connection = await client.websocket_api.create_connection()
    results = {}
    try:
        calls = [
            ("userDataStream.start", connection.start_user_data_stream),
            ("userDataStream.ping", connection.keepalive_user_data_stream),
            ("account.status", connection.account_information),
            ("account.balance", connection.futures_account_balance),
            ("account.position", connection.position_information),
        ]
        for method, call in calls:
            data, raw = await ws_call(f"ws-dapi {method}", call)
            if raw is None:
                continue
            result = raw.get("result")
            result_model = nested_model(type(data).model_fields["result"].annotation)
            if isinstance(result, list):
                if not result:
                    problems.append(f"ws-dapi {method}: an empty result list")
                for index, row in enumerate(result):
                    check_fields(f"ws-dapi {method}[{index}]", row, result_model)
            else:
                check_fields(f"ws-dapi {method}", result, result_model)
            if not raw.get("rateLimits"):
                problems.append(f"ws-dapi {method}: no rateLimits")
            results[method] = (result, raw.get("rateLimits") or [])
        print(f"ws-dapi: {len(calls)} methods through the official COIN-M SDK client")
    finally:
        await connection.close_connection()

    status = results.get("account.status", (None,))[0] or {}
    present = [key for key in TOTALS if key in status]
    if present:
        problems.append(f"ws-dapi account.status has account-wide totals: {present}")
    if {row.get("asset") for row in status.get("assets", [])} < {"BTC", "ETH"}:
        problems.append("ws-dapi account.status: expected BTC and ETH assets")
    positions = results.get("account.position", ([],))[0] or []
    held = [row for row in positions if float(row.get("positionAmt", "0")) != 0]
    if not held or not all(whole(row["positionAmt"]) for row in positions):
        problems.append(f"ws-dapi account.position: positions not in whole contracts: {held!r}")
    for row in held:
        if float(row["notionalValue"]) <= 0 or float(row["notionalValue"]) > 1000:
            problems.append(f"ws-dapi account.position {row['symbol']}: notionalValue {row['notionalValue']} is not in coin")
    # One weight window: each 5-weight call raised the shared count by 5 (or a new minute began).
    counts = [limits[0].get("count") for _, limits in (results.get(m, (None, [{}])) for m in ("account.status", "account.balance"))]
    if None not in counts and counts[1] - counts[0] != 5 and counts[1] != 5:
        problems.append(f"ws-dapi: rateLimits count went {counts[0]} -> {counts[1]} for account.balance (expected +5)")

    # No v2 methods on ws-dapi; a USDⓈ-M-only method is unknown there.
    async with websockets.connect(info["coinm_ws_api"]) as socket:
        await socket.send(json.dumps({"id": "v2", "method": "v2/account.status", "params": {}}))
        answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
        if answer.get("status") != 400 or answer.get("error", {}).get("code") != -1020:
            problems.append(f"ws-dapi v2/account.status answered {answer!r} (expected an unknown method)")
    return (results.get("userDataStream.start", ({},))[0] or {}).get("listenKey")


def check_rest(info):
    client = DerivativesTradingCoinFutures(
        config_rest_api=ConfigurationRestAPI(
            api_key=info["coinm_api_key"], api_secret=info["coinm_api_secret"], base_path=info["coinm_rest"]
        )
    )
    raw = []
    client.rest_api._session.hooks["response"].append(lambda response, *args, **kwargs: raw.append(response))

    def call(name, function, model, **kwargs):
        try:
            response = function(**kwargs)
            parsed = response.data()
        except Exception as error:
            problems.append(f"dapi {name} {kwargs}: the SDK's request failed: {type(error).__name__}: {error}")
            return None, None, None
        body = raw[-1].json()
        rows = body if isinstance(body, list) else [body]
        for index, row in enumerate(rows):
            check_fields(f"dapi {name}[{index}]", row, model)
        used = raw[-1].headers.get("X-MBX-USED-WEIGHT-1M")
        return body, (int(used) if used else None), parsed

    now = int(time.time() * 1000)
    income, _, _ = call("income", client.rest_api.get_income_history, rest_models.GetIncomeHistoryResponseInner,
                        start_time=now - 3_600_000, end_time=now + 60_000, limit=1000)
    if income is not None:
        kinds = {row.get("incomeType") for row in income}
        for kind in ("REALIZED_PNL", "COMMISSION", "FUNDING_FEE"):
            if kind not in kinds:
                problems.append(f"dapi income: no {kind} row after a full activity cycle")
        if any(not isinstance(row.get("tranId"), str) for row in income):
            problems.append("dapi income: tranId is not a string (the COIN-M SDK declares StrictStr)")
        if {row.get("asset") for row in income} - {"BTC", "ETH"}:
            problems.append(f"dapi income: assets {sorted({row.get('asset') for row in income})} (expected coins)")
        print(f"dapi: {len(income)} income rows parsed by the official SDK ({sorted(kinds)})")

    brackets, _, _ = call("v2/leverageBracket", client.rest_api.notional_bracket_for_symbol,
                          rest_models.NotionalBracketForSymbolResponseInner)
    if brackets is not None:
        symbols = {row.get("symbol") for row in brackets}
        if not {"BTCUSD_PERP", "ETHUSD_PERP"} <= symbols:
            problems.append(f"dapi v2/leverageBracket: symbols {sorted(symbols)}")
        print(f"dapi: v2/leverageBracket: {len(brackets)} symbols parsed by the official SDK")

    info_body, _, _ = call("exchangeInfo", client.rest_api.exchange_information, rest_models.ExchangeInformationResponse)
    if info_body is not None:
        sizes = {row.get("symbol"): row.get("contractSize") for row in info_body.get("symbols", [])}
        if sizes.get("BTCUSD_PERP") != 100 or sizes.get("ETHUSD_PERP") != 10 or not isinstance(sizes.get("BTCUSD_PERP"), int):
            problems.append(f"dapi exchangeInfo: contract sizes {sizes!r}")
        print(f"dapi: exchangeInfo: {len(sizes)} symbols parsed by the official SDK {sizes}")

    everything = call("openOrders", client.rest_api.current_all_open_orders, rest_models.CurrentAllOpenOrdersResponseInner)
    one = call("openOrders", client.rest_api.current_all_open_orders, rest_models.CurrentAllOpenOrdersResponseInner,
               symbol="BTCUSD_PERP")
    again = call("openOrders", client.rest_api.current_all_open_orders, rest_models.CurrentAllOpenOrdersResponseInner)
    if None not in (everything[0], one[0], again[0]):
        if not one[0] or any(row["symbol"] != "BTCUSD_PERP" for row in one[0]):
            problems.append(f"dapi openOrders symbol=BTCUSD_PERP: {one[0]!r}")
        if not any(row["symbol"] != "BTCUSD_PERP" for row in everything[0]):
            problems.append("dapi openOrders: expected orders of more than one symbol")
        if one[1] - everything[1] != 1 and one[1] != 1:
            problems.append(f"dapi openOrders: weight went {everything[1]} -> {one[1]} with symbol (expected +1)")
        if again[1] - one[1] != 40 and again[1] != 40:
            problems.append(f"dapi openOrders: weight went {one[1]} -> {again[1]} without symbol (expected +40)")
        print(f"dapi: openOrders: {len(everything[0])} orders ({sorted({r['type'] for r in everything[0]})}) parsed by the SDK")

    server = call("time", client.rest_api.check_server_time, rest_models.CheckServerTimeResponse)
    if server[0] is not None and not isinstance(server[0].get("serverTime"), int):
        problems.append(f"dapi time: {server[0]!r}")


async def new_listen_key(info):
    client = DerivativesTradingCoinFutures(
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=info["coinm_api_key"], api_secret=info["coinm_api_secret"], stream_url=info["coinm_ws_api"],
            reconnect_attempts=1,
        )
    )
    connection = await client.websocket_api.create_connection()
    try:
        response = await connection.start_user_data_stream()
        return response.data().result.listen_key
    finally:
        await connection.close_connection()


def parse_event(where, data, seen):
    kind = data.get("e")
    parsed = stream_models.UserDataStreamEventsResponse.from_dict(data)
    if parsed is None or parsed.actual_instance is None:
        problems.append(f"{where} {kind}: the SDK could not parse the event")
        return
    model = EVENT_MODELS.get(kind)
    if model is None:
        problems.append(f"{where}: an event the COIN-M activity should not produce: {kind}")
        return
    if not isinstance(parsed.actual_instance, model):
        problems.append(f"{where} {kind}: the SDK parsed it as {type(parsed.actual_instance).__name__}")
    check_fields(f"{where} {kind}", data, model)
    if kind in ("ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE", "MARGIN_CALL") and not data.get("i"):
        problems.append(f"{where} {kind}: no account alias (i)")
    if kind == "ACCOUNT_UPDATE":
        for position in data["a"].get("P", []):
            if not whole(position.get("pa")):
                problems.append(f"{where} ACCOUNT_UPDATE: pa {position.get('pa')} is not whole contracts")
        for balance in data["a"].get("B", []):
            if balance.get("a") not in ("BTC", "ETH"):
                problems.append(f"{where} ACCOUNT_UPDATE: balance in {balance.get('a')} (expected a coin)")
    if kind == "ORDER_TRADE_UPDATE":
        o = data["o"]
        if o.get("ma") not in ("BTC", "ETH") or o.get("N") != o.get("ma"):
            problems.append(f"{where} ORDER_TRADE_UPDATE: ma={o.get('ma')} N={o.get('N')}")
        for absent in ("si", "ss", "gtd"):
            if absent in o:
                problems.append(f"{where} ORDER_TRADE_UPDATE: USDⓈ-M field {absent} present")
    seen[kind] = seen.get(kind, 0) + 1


async def check_stream(info, key):
    """The combined form (SUBSCRIBE on /stream, as the SDK does) and the raw `/ws/<listenKey>`."""
    seen, raw_seen = {}, {}
    base = info["coinm_stream"].rstrip("/")
    deadline = asyncio.get_running_loop().time() + 25
    while set(EVENT_MODELS) - set(seen) and asyncio.get_running_loop().time() < deadline:
        async with websockets.connect(base + "/stream") as combined, websockets.connect(base + "/ws/" + key) as raw:
            await combined.send(json.dumps({"method": "SUBSCRIBE", "params": [key], "id": 1}))
            answer = json.loads(await asyncio.wait_for(combined.recv(), 5))
            if answer != {"result": None, "id": 1}:
                problems.append(f"dstream SUBSCRIBE answered {answer!r}")
                return
            expired = False
            while not expired and set(EVENT_MODELS) - set(seen) and asyncio.get_running_loop().time() < deadline:
                frame = json.loads(await asyncio.wait_for(combined.recv(), 10))
                if frame.get("stream") != key or "data" not in frame:
                    problems.append(f"dstream: a combined frame without the listen key or data: {frame!r}"[:300])
                    continue
                parse_event("dstream /stream", frame["data"], seen)
                expired = frame["data"].get("e") == "listenKeyExpired"
            # The raw connection got the same events, without an envelope.
            try:
                while True:
                    data = json.loads(await asyncio.wait_for(raw.recv(), 0.2))
                    if "stream" in data and "data" in data:
                        problems.append("dstream /ws/<listenKey>: a combined envelope on the raw stream")
                        break
                    parse_event("dstream /ws", data, raw_seen)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                pass
        if expired and set(EVENT_MODELS) - set(seen):
            key = await new_listen_key(info)
    missing = set(EVENT_MODELS) - set(seen)
    if missing:
        problems.append(f"dstream: no {sorted(missing)} within 25 s")
    if not raw_seen:
        problems.append("dstream /ws/<listenKey>: no events")
    print(f"dstream: events parsed by the official SDK: combined {seen}; raw {raw_seen}")


async def check_marks(info):
    """`btcusd@markPrice@1s` through the SDK's own stream client; fstream's array with st 2 rows."""
    client = DerivativesTradingCoinFutures(
        # The SDK appends /stream to a base that does not end in "stream"; ours (/dstream) does.
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=info["coinm_stream"] + "/stream", reconnect_attempts=1)
    )
    connection = await client.websocket_streams.create_connection()
    rows = []
    try:
        stream = await connection.mark_price_of_all_symbols_of_a_pair(pair="btcusd", update_speed="1s")
        stream.on("message", lambda data: rows.append(data))
        for _ in range(40):
            if rows:
                break
            await asyncio.sleep(0.1)
    finally:
        await connection.close_connection()
    if not rows:
        problems.append("dstream btcusd@markPrice@1s: nothing through the SDK's stream client within 4 s")
    # The same stream's raw frames, checked field by field.
    async with websockets.connect(info["coinm_stream"].rstrip("/") + "/stream?streams=btcusd@markPrice@1s") as socket:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
    pair_rows = len(frame.get("data", []))
    if frame.get("stream") != "btcusd@markPrice@1s" or not isinstance(frame.get("data"), list):
        problems.append(f"dstream btcusd@markPrice@1s: {frame!r}"[:300])
    else:
        symbols = {row.get("s") for row in frame["data"]}
        if symbols != {"BTCUSD_PERP", "BTCUSD_261225"}:
            problems.append(f"dstream btcusd@markPrice@1s: symbols {sorted(symbols)}")
        for index, row in enumerate(frame["data"]):
            check_fields(f"btcusd@markPrice@1s[{index}]", row, stream_models.MarkPriceOfAllSymbolsOfAPairResponseInner)
            if stream_models.MarkPriceStreamResponse.from_dict(row) is None or row.get("st") != 2:
                problems.append(f"btcusd@markPrice@1s[{index}]: not parsed, or st {row.get('st')}")
    async with websockets.connect(info["market"].rstrip("/") + "/stream") as socket:
        await socket.send(json.dumps({"method": "SUBSCRIBE", "params": ["!markPrice@arr@1s"], "id": 1}))
        await asyncio.wait_for(socket.recv(), 5)
        frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
    tags = {row.get("s"): row.get("st") for row in frame.get("data", [])}
    if tags.get("BTCUSD_PERP") != 2 or tags.get("BTCUSDT") != 1:
        problems.append("fstream !markPrice@arr@1s: expected COIN-M rows with st 2 next to USDⓈ-M rows with st 1")
    print(f"mark prices: {len(rows)} SDK stream messages; dstream btcusd rows {pair_rows};"
          f" fstream array st 2 rows: {sum(1 for v in tags.values() if v == 2)}")


async def checks(info):
    key = await check_api(info)
    if key is None:
        problems.append("no listen key")
    else:
        await check_stream(info, key)
    check_rest(info)
    await check_marks(info)


if __name__ == "__main__":
    sys.exit(sdk_common.run(sys.argv[1], "SDK conformance (COIN-M)", checks))
