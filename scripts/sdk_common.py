"""What the SDK conformance scripts share: the problems found, the check that an answer carries
every field an SDK model declares, starting and stopping the simulator, and the closing report.

Imported by sdk_conformance.py, sdk_conformance_coinm.py and sdk_conformance_pm.py. They are run
as `python scripts/sdk_conformance_X.py BINARY`, and Python puts the script's own folder first on
sys.path, so `import sdk_common` finds this file from any working directory.
"""
import asyncio
import inspect
import json
import subprocess
import typing

from pydantic import BaseModel

# Every difference found, one line each; the scripts append to this list and `report` prints it.
problems = []


def nested_model(annotation):
    """The pydantic model inside Optional[...] / List[...], if any."""
    stack = [annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            return current
        stack.extend(typing.get_args(current))
    return None


def check_fields(where, obj, model, conditional):
    """Every field `model` declares is present in `obj`; recurses into nested models.

    `conditional` maps (model name, field) to a test of the object: the field is required only
    where the test holds (fields Binance sends only in some answers, as the SDK says)."""
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected an object, got {type(obj).__name__}")
        return
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key == "additional_properties":
            continue
        required = conditional.get((model.__name__, key), lambda _: True)(obj)
        if key not in obj:
            if required:
                problems.append(f"{where}: field {key!r} declared by {model.__name__} is missing")
            continue
        nested = nested_model(field.annotation)
        if nested is None:
            continue
        value = obj[key]
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_fields(f"{where}.{key}[{index}]", item, nested, conditional)
        elif value is not None:
            check_fields(f"{where}.{key}", value, nested, conditional)


def start_simulator(binary):
    """`binance-futures-exporter simulate`: one JSON line with the URLs and throwaway keys."""
    process = subprocess.Popen(
        [binary, "simulate", "--activity-interval", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit("the simulator did not start")
    return process, json.loads(line)


def stop_simulator(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


async def ws_call(where, call):
    """One WebSocket API request through the SDK's client: the SDK's parsed data and the answer as
    JSON, its status checked; (None, None) when the SDK raised (it does on any error answer)."""
    try:
        response = await call()
    except Exception as error:  # the SDK raises on any error answer
        problems.append(f"{where}: the SDK's request failed: {type(error).__name__}: {error}")
        return None, None
    data = response.data()
    raw = json.loads(data.model_dump_json(by_alias=True))
    if raw.get("status") != 200:
        problems.append(f"{where}: status {raw.get('status')}")
    return data, raw


async def subscribe(where, socket, stream):
    """SUBSCRIBE `stream` (a listen key or a market stream) on a combined-stream connection, as the
    SDKs do; False (and a problem) unless the answer is `{"result": null, "id": 1}`."""
    await socket.send(json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 1}))
    answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
    if answer == {"result": None, "id": 1}:
        return True
    problems.append(f"{where} SUBSCRIBE answered {answer!r}")
    return False


def run(binary, title, checks):
    """Starts the simulator, runs `checks(info)` (a function or a coroutine function), stops the
    simulator whatever happened, and reports under `title`; the exit status."""
    process, info = start_simulator(binary)
    try:
        outcome = checks(info)
        if inspect.isawaitable(outcome):
            asyncio.run(outcome)
    finally:
        stop_simulator(process)
    return report(title)


def report(title):
    """Prints `title: OK`, or `title: FAILED` and every problem; the exit status (0 or 1)."""
    if problems:
        print(f"{title}: FAILED")
        for problem in problems:
            print("  -", problem)
        return 1
    print(f"{title}: OK")
    return 0
