"""The documented commands, run as a user would: `make run`, `dapr invoke`, Ctrl-C, `make down`."""

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.processes import Process
from tests.support.sidecars import ROOT, require_tool
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

# What `make run` listens on (dapr.yaml, tools/run.sh).
PORTS = {"redis": 6380, "orders": 8001, "inventory": 8002, "orders sidecar": 3501, "inventory sidecar": 3502}
DAPR_BIN = Path.home() / ".dapr" / "bin"
ENV = {"PATH": f"{ROOT / '.venv' / 'bin'}:{DAPR_BIN}:{os.environ['PATH']}"}
START_TIMEOUT = 90


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    busy = [name for name, port in PORTS.items() if listening(port)]
    if busy:
        raise RuntimeError(f"ports of `make run` are in use ({', '.join(busy)}): stop it with `make down`")
    require_tool("make", "apt-get install -y make")
    system = Process("make-run", ["make", "run"], tmp_path_factory.mktemp("e2e"), env=ENV, cwd=ROOT)
    try:
        for url in ("http://127.0.0.1:3501/v1.0/healthz", "http://127.0.0.1:3502/v1.0/healthz",
                    "http://127.0.0.1:8001/healthz", "http://127.0.0.1:8002/healthz"):
            system.wait_ready(lambda url=url: healthy(url), START_TIMEOUT)
        yield system
    finally:
        # Ctrl-C, as a user would press it: SIGINT to the group `make run` leads.
        if system.alive():
            os.killpg(system.pid, signal.SIGINT)
        system.stop()


def dapr_invoke(
    method: str, verb: str = "GET", data: dict[str, Any] | None = None, app_id: str = "orders"
) -> dict[str, Any]:
    argv = ["dapr", "invoke", "--app-id", app_id, "--method", method, "--verb", verb]
    if data is not None:
        argv += ["--data", json.dumps(data)]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **ENV}, timeout=30, check=True)
    (body,) = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(body)


def test_an_order_placed_with_dapr_invoke_is_reserved_within_5s(make_run: Process) -> None:
    stock_before = dapr_invoke("stock/tea-sencha", app_id="inventory")
    accepted = dapr_invoke(
        "orders", "POST", {"customer_id": "c-e2e", "items": [{"sku": "tea-sencha", "quantity": 2}]}
    )
    assert accepted["status"] == "pending"

    reserved = wait_until(
        lambda: (o := dapr_invoke(f"orders/{accepted['order_id']}"))["status"] == "reserved" and o,
        timeout=5,
    )
    assert reserved["items"] == [{"sku": "tea-sencha", "quantity": 2}]
    stock_after = dapr_invoke("stock/tea-sencha", app_id="inventory")
    assert stock_after["reserved"] == stock_before["reserved"] + 2


def test_ctrl_c_stops_everything_and_make_down_finds_nothing_left(make_run: Process) -> None:
    os.killpg(make_run.pid, signal.SIGINT)
    wait_until(lambda: not make_run.alive(), timeout=30)

    assert [name for name, port in PORTS.items() if listening(port)] == []
    down = subprocess.run(["make", "down"], cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
