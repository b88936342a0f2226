"""The documented commands, run as a user would: `make run`, `dapr invoke`, the operator's
`curl`, Ctrl-C, `make down`."""

import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.support.broker import Broker
from tests.support.credentials import read_redis_password
from tests.support.histories import is_shipped_history
from tests.support.processes import Process
from tests.support.sidecars import ROOT, RUN_APPS, answers, require_tool
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

# What `make run` listens on (dapr.yaml, tools/run.sh): each app's port and its sidecar's.
APPS = {app["appID"]: (app["appPort"], app["daprHTTPPort"]) for app in RUN_APPS}
ZIPKIN = "http://127.0.0.1:9411"
PORTS = {
    "redis": 6380,
    "zipkin": 9411,
    **{app: port for app, (port, _) in APPS.items()},
    **{f"{app} sidecar": port for app, (_, port) in APPS.items()},
}
DAPR_BIN = Path.home() / ".dapr" / "bin"
ENV = {"PATH": f"{ROOT / '.venv' / 'bin'}:{DAPR_BIN}:{os.environ['PATH']}"}
START_TIMEOUT = 90
REDIS_PORT = 6380
SECRETS = ROOT / ".run" / "secrets.json"  # made by tools/run.sh on the first start
POISON = {"not": "an order"}


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def run_started_ms() -> int:
    """When this module's `make run` started (Unix time, ms). `make run` keeps its Redis in
    `.run/redis` from one run to the next, with whatever a user published there by hand:
    the tests read only what was published from then on."""
    return time.time_ns() // 1_000_000


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory, run_started_ms: int) -> Iterator[Process]:
    busy = [name for name, port in PORTS.items() if listening(port)]
    if busy:
        raise RuntimeError(f"ports of `make run` are in use ({', '.join(busy)}): stop it with `make down`")
    # `dapr invoke` finds an app by its app-id among every daprd on the machine.
    others = dapr("list").strip()
    if "No Dapr instances found" not in others:
        raise RuntimeError(f"other Dapr apps are running, and `dapr invoke` could reach them:\n{others}")
    require_tool("make", "apt-get install -y make")
    system = Process("make-run", ["make", "run"], tmp_path_factory.mktemp("e2e"), env=ENV, cwd=ROOT)
    try:
        for app_port, sidecar_port in APPS.values():
            system.wait_ready(lambda p=sidecar_port: answers(f"http://127.0.0.1:{p}/v1.0/healthz", 204), START_TIMEOUT)
            system.wait_ready(lambda p=app_port: answers(f"http://127.0.0.1:{p}/healthz", 200), START_TIMEOUT)
        yield system
    finally:
        # Ctrl-C, as a user would press it: SIGINT to the group `make run` leads.
        if system.alive():
            os.killpg(system.pid, signal.SIGINT)
        system.stop()


def dapr(*argv: str) -> str:
    done = subprocess.run(
        ["dapr", *argv], capture_output=True, text=True, env={**os.environ, **ENV}, timeout=30, check=True
    )
    return done.stdout


def dapr_invoke(
    method: str, verb: str = "GET", data: dict[str, Any] | None = None, app_id: str = "orders"
) -> Any:
    argv = ["invoke", "--app-id", app_id, "--method", method, "--verb", verb]
    if data is not None:
        argv += ["--data", json.dumps(data)]
    (body,) = [line for line in dapr(*argv).splitlines() if line.startswith(("{", "["))]
    return json.loads(body)


def place(customer_id: str, sku: str, quantity: int) -> str:
    accepted = dapr_invoke(
        "orders", "POST", {"customer_id": customer_id, "items": [{"sku": sku, "quantity": quantity}]}
    )
    assert accepted["status"] == "pending"
    return accepted["order_id"]


def placed(order_id: str) -> dict[str, Any] | None:
    """The order once the orders app has placed it; None while its command is on the broker."""
    try:
        view = dapr_invoke(f"orders/{order_id}")
    except subprocess.CalledProcessError:  # 404
        return None
    return view if "status" in view else None


def settled(order_id: str) -> dict[str, Any]:
    return wait_until(lambda: (o := placed(order_id)) and o["status"] in {"shipped", "cancelled"} and o, timeout=20)


def test_an_order_placed_with_dapr_invoke_is_reserved_within_5s_then_paid_and_shipped(make_run: Process) -> None:
    stock_before = dapr_invoke("stock/tea-sencha", app_id="inventory")
    order_id = place("c-e2e", "tea-sencha", 2)

    wait_until(lambda: (o := placed(order_id)) and o["status"] != "pending", timeout=5)

    assert settled(order_id)["status"] == "shipped"
    history = [fact["type"] for fact in dapr_invoke(f"orders/{order_id}/events")]
    assert is_shipped_history(history), history
    stock_after = dapr_invoke("stock/tea-sencha", app_id="inventory")
    assert stock_after["available"] == stock_before["available"] - 2
    feed = lambda: dapr_invoke("customers/c-e2e/notifications", app_id="notifications")["notifications"]
    wait_until(lambda: any(n["order_id"] == order_id for n in feed()), timeout=10)


def test_a_declined_order_is_cancelled_and_its_stock_released(make_run: Process) -> None:
    stock_before = dapr_invoke("stock/espresso-machine", app_id="inventory")
    order_id = place("c-e2e", "espresso-machine", 1)

    cancelled = settled(order_id)

    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "payment_declined")
    wait_until(lambda: dapr_invoke("stock/espresso-machine", app_id="inventory") == stock_before, timeout=10)


def test_dapr_publish_of_something_that_is_no_order_ends_in_the_dead_letters(make_run: Process) -> None:
    dapr("publish", "--publish-app-id", "orders", "--pubsub", "pubsub", "--topic", "orders",
         "--data", json.dumps(POISON), "--metadata", '{"cloudevent.type": "order.placed"}')

    wait_until(
        lambda: any(
            isinstance(d["message"], dict) and d["message"].get("data") == POISON
            for d in dead_letters_as_the_readme_asks()
        ),
        timeout=10,
    )
    assert requests.get(f"http://127.0.0.1:{APPS['storefront'][0]}/deadletters", timeout=5).status_code == 401


def dead_letters_as_the_readme_asks() -> list[dict[str, Any]]:
    """The curl to the operator console in docs/running-locally.md, with the operator token `make run` made."""
    (command,) = re.findall(r"^(curl .*/deadletters)$", (ROOT / "docs" / "running-locally.md").read_text(), re.MULTILINE)
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, check=True, capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout)


def test_every_event_published_during_the_run_kept_the_contract(make_run: Process, run_started_ms: int) -> None:
    # The one exception is the poison the test above published on purpose.
    broker = Broker(REDIS_PORT, read_redis_password(SECRETS), since_ms=run_started_ms)
    assert broker.contract_breaches(poison=lambda event: event.get("data") == POISON) == []


def listen_addresses(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address something listens on at `port` (TCP, IPv4 and IPv6), from /proc."""
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                # The kernel writes each 32-bit word of the address in host (little-endian) order.
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
                found.add(ipaddress.ip_address(raw))
    return found


def test_redis_wants_the_password_made_on_the_first_start_and_the_sidecars_listen_on_loopback(
    make_run: Process,
) -> None:
    assert SECRETS.stat().st_mode & 0o777 == 0o600
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=REDIS_PORT).ping()
    # docs/security.md's way to reach it with redis-cli.
    (command,) = re.findall(r"`(REDISCLI_AUTH=.*redis-cli -p 6380)`", (ROOT / "docs" / "security.md").read_text())
    pong = subprocess.run(["bash", "-c", f"{command} ping"], cwd=ROOT, check=False, capture_output=True, text=True, timeout=30)
    assert pong.stdout.strip() == "PONG", pong.stderr
    for _, http_port in APPS.values():
        for port in (http_port, http_port + 1000):  # the Dapr HTTP and gRPC APIs
            addresses = listen_addresses(port)
            assert addresses and all(address.is_loopback for address in addresses), (port, addresses)


def test_make_run_shows_the_apps_lines_and_of_the_sidecars_only_their_warnings(make_run: Process) -> None:
    """A sidecar's info lines go to its file alone, which `make logs SIDECARS=1` follows."""
    shown = lambda: make_run.log_path.read_text()
    wait_until(lambda: all(re.search(rf'"app": ?"{app}"', shown()) for app in APPS), timeout=20)
    assert " level=info " not in shown()


@pytest.mark.parametrize("sidecars", [False, True], ids=["apps", "and sidecars"])
def test_make_logs_follows_the_lines_of_every_app(make_run: Process, tmp_path: Path, sidecars: bool) -> None:
    argv = ["make", "logs", *(["SIDECARS=1"] if sidecars else [])]
    logs = Process("make-logs", argv, tmp_path, env=ENV, cwd=ROOT)
    try:
        labels = [f"{app:<20} | " for app in APPS]
        labels += [f"{app + '-daprd':<20} | " for app in APPS if sidecars]
        wait_until(lambda: all(label in logs.log_path.read_text() for label in labels), timeout=20)
    finally:
        if logs.alive():
            os.killpg(logs.pid, signal.SIGINT)
        logs.stop()


def test_make_load_places_a_few_orders_and_prints_its_summary(make_run: Process) -> None:
    done = subprocess.run(
        ["make", "load", "LOAD_ARGS=--orders 6 --rate 3 --mix 4,1,1 --drain 30"],
        cwd=ROOT, env={**os.environ, **ENV}, check=False, capture_output=True, text=True, timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    summary = dict(line.split(maxsplit=1) for line in done.stdout.splitlines() if line.strip())
    assert summary["accepted"].split()[:3] == ["6", "of", "6"]
    assert summary["not"].split()[1] == "0"  # "not finished  0 ..."
    shipped, cancelled = int(summary["completed"].split()[0]), int(summary["cancelled"].split()[0])
    assert shipped + cancelled == 6
    assert "out_of_stock" in summary["cancelled"] and "payment_declined" in summary["cancelled"]
    assert summary["completion"].startswith("p50 ")
    # What make run's Redis holds, read after the run: its memory, the streams, the backlog.
    assert summary["redis"].endswith("MB used") and "each keeps" in summary["streams"]
    assert "furthest-behind subscriber" in summary["backlog"]


def test_the_order_is_one_trace_of_all_six_apps_in_the_zipkin_make_run_starts(make_run: Process) -> None:
    order_id = place("c-e2e", "tea-sencha", 1)
    settled(order_id)

    def services_in_its_trace() -> set[str]:
        found = requests.get(f"{ZIPKIN}/api/v2/traces", params={"annotationQuery": f"order_id={order_id}"}, timeout=5)
        return {span["localEndpoint"]["serviceName"] for trace in found.json() for span in trace}

    wait_until(lambda: services_in_its_trace() >= set(APPS), timeout=30)
    assert requests.get(f"{ZIPKIN}/zipkin/", timeout=5).status_code == 200  # the UI docs/running-locally.md opens


def test_ctrl_c_stops_everything_and_make_down_finds_nothing_left(make_run: Process) -> None:
    os.killpg(make_run.pid, signal.SIGINT)
    wait_until(lambda: not make_run.alive(), timeout=30)

    assert [name for name, port in PORTS.items() if listening(port)] == []
    down = subprocess.run(["make", "down"], cwd=ROOT, env={**os.environ, **ENV}, check=False, capture_output=True, text=True)
    assert down.returncode == 0, down.stderr

