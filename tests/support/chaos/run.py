"""Running a chaos run: the whole system on ports of its own, a client placing orders at
a steady rate through the storefront, the faults on their schedule, the drain, and what
the stores and the broker hold at the end."""

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import requests

from contracts.names import FACT_TOPICS, Topic
from tests.support.broker import Broker
from tests.support.chaos.audit import (
    ABSORBED,
    FINAL,
    FaultRecord,
    Figures,
    Placement,
    Snapshot,
    audit,
)
from tests.support.chaos.plan import BLACK_HOLE_SECONDS, FAULTS, Fault, fault_times, order_command
from tests.support.network import black_hole, require_iptables
from tests.support.sidecars import START_TIMEOUT, Ports
from tests.support.system import System, numbered, running

# Ports of its own. Still, run it alone: the storefront reaches orders by app-id, and
# Dapr's mDNS name resolution finds an app of that id in any system on this machine.
REDIS_PORT = 6397
PORTS = numbered(app=8500, dapr_http=3100, dapr_grpc=4100, metrics=9500)
CATALOGUE = Path(__file__).resolve().parents[1] / "catalogue.json"  # what inventory starts with
REQUEST_TIMEOUT = 10.0
RETRY_PAUSE = 0.5
CLIENTS = 200  # orders being placed at once, at most: enough to keep the rate through a fault
Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    orders: int = 10_000
    rate: float = 25.0  # orders a second
    drain: float = 300.0  # seconds to wait, after the last order, for every order to finish
    give_up: float = 120.0  # seconds a client keeps sending one order before it gives up
    faults: tuple[Fault, ...] = FAULTS


def run(
    options: Options, work: Path, say: Say = print, at: tuple[int, dict[str, Ports]] = (REDIS_PORT, PORTS),
) -> Figures:
    """Place the orders while the faults strike, drain, and audit; every process stopped
    and every black hole closed at the end. `work` holds the logs and Redis's data; `at`
    gives Redis's port and the apps' (a test's run beside make chaos's)."""
    if any(fault.black_hole for fault in options.faults):
        require_iptables()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    with running(work / "logs", work / "redis", at=at) as system:
        say(f"placing {options.orders:,} orders at {options.rate:g}/s; {len(options.faults)} faults on the way")
        placements, faults = _place_under_faults(system, options, say)
        _drain(system.broker, placements, options.drain, say)
        system.check_alive()
        return audit(placements, faults, _snapshot(system.broker, work / "logs"))


def _place_under_faults(system: System, options: Options, say: Say) -> tuple[list[Placement], list[FaultRecord]]:
    start, stopping = time.monotonic(), threading.Event()
    schedule = list(zip(fault_times(options.orders / options.rate, len(options.faults)), options.faults))
    # The faults strike from a thread of their own; when the run fails, `stopping` cuts
    # its waits short, so no black hole outlives the run.
    with ThreadPoolExecutor(1) as injecting:
        injector = injecting.submit(_inject, system, start, schedule, stopping, say)
        try:
            placements = _place(Client(system["storefront"].url, options.give_up), start, options, say)
            # Faults still to come strike one after another, each bounded: a restart by its
            # waits for readiness, a black hole by its length.
            bound = len(options.faults) * (3 * START_TIMEOUT + BLACK_HOLE_SECONDS)
            try:
                return placements, injector.result(timeout=bound)
            except TimeoutError:
                raise RuntimeError(f"the faults were not over {bound:.0f}s after the last order") from None
        finally:
            stopping.set()


class Client:
    """A shop's client: sends each order with an Idempotency-Key of its own, and sends it
    again with the same key until it is accepted or `give_up` seconds have passed."""

    def __init__(self, storefront_url: str, give_up: float) -> None:
        self._url = f"{storefront_url}/api/orders"
        self._give_up = give_up
        self._run = uuid4().hex[:8]
        self._sessions = threading.local()

    def place(self, n: int) -> Placement:
        key, command = f"chaos-{self._run}-{n}", order_command(n)
        first_try, deadline, tries = time.time(), time.monotonic() + self._give_up, 0
        while True:
            tries += 1
            try:
                answer = self._session().post(
                    self._url, json=command, headers={"Idempotency-Key": key}, timeout=REQUEST_TIMEOUT
                )
                if answer.status_code == 202:
                    return Placement(key, first_try, tries, answer.json()["order_id"])
                if answer.status_code == 422:  # the command itself is wrong: no retry helps
                    return Placement(key, first_try, tries, None)
            except requests.RequestException:
                pass  # the storefront, orders or a sidecar is down: send it again
            if time.monotonic() > deadline:
                return Placement(key, first_try, tries, None)
            time.sleep(RETRY_PAUSE)

    def _session(self) -> requests.Session:
        if not hasattr(self._sessions, "session"):
            self._sessions.session = requests.Session()
        return self._sessions.session


def _place(client: Client, start: float, options: Options, say: Say) -> list[Placement]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = []
        for n in range(options.orders):
            time.sleep(max(0.0, start + n / options.rate - time.monotonic()))
            futures.append(pool.submit(client.place, n))
            if (n + 1) % max(1, options.orders // 10) == 0:
                say(f"  {n + 1:,} orders sent, {sum(f.done() and f.result().order_id is not None for f in futures):,} accepted")
        return [future.result() for future in futures]


def _inject(
    system: System, start: float, schedule: list[tuple[float, Fault]], stopping: threading.Event, say: Say,
) -> list[FaultRecord]:
    """Each fault at its time (or, if the one before took longer, right after it)."""
    done = []
    for at, fault in schedule:
        if stopping.wait(max(0.0, start + at - time.monotonic())):
            break
        elapsed, struck_at = time.monotonic() - start, time.time()
        if fault.black_hole:
            with black_hole(_ports(system, fault)):
                stopping.wait(BLACK_HOLE_SECONDS)
            what = f"black hole between {fault.name}; closed after"
        else:
            _kill_and_restart(system, fault)
            what = f"SIGKILL {fault.name}; healthy again after"
        record = FaultRecord(fault, struck_at, time.time())
        say(f"  {elapsed:.0f}s: {what} {record.over_at - struck_at:.1f}s")
        done.append(record)
    return done


def _ports(system: System, fault: Fault) -> list[int]:
    """What a black hole cuts: Redis's port; or an app's, and its sidecar's API ports,
    which only the app calls."""
    if fault.kind == "redis":
        return [system.redis_port]
    ports = system[fault.target].ports
    return [ports.app, ports.dapr_http, ports.dapr_grpc]


def _kill_and_restart(system: System, fault: Fault) -> None:
    if fault.kind == "redis":
        system.restart_redis(crash=True)
        return
    app = system[fault.target]
    if fault.kind == "app":
        app.app.kill()
        app.start_app()
        app.wait_app_ready()
    else:
        app.sidecar.kill()
        app.start_sidecar()
        app.wait_sidecar_ready()


def _drain(broker: Broker, placements: list[Placement], seconds: float, say: Say) -> None:
    """Wait until every accepted order has shipped or been cancelled and the broker holds
    no delivery unacknowledged, or `seconds` have passed."""
    waiting = {p.order_id for p in placements if p.order_id is not None}
    deadline, reported = time.monotonic() + seconds, 0.0
    while time.monotonic() < deadline:
        keys = [f"order/{order_id}" for order_id in waiting]
        records = broker.records("orders", keys)
        waiting = {key.removeprefix("order/") for key in keys
                   if records.get(key, {}).get("view", {}).get("status") not in FINAL}
        pending = broker.pending()
        if not waiting and not pending:
            return
        if time.monotonic() - reported >= 10:
            say(f"  draining: {len(waiting):,} orders not finished, {sum(pending.values())} deliveries pending")
            reported = time.monotonic()
        time.sleep(2)


def _snapshot(broker: Broker, log_dir: Path) -> Snapshot:
    order_keys = broker.keys("orders", "order/")
    catalogue = {sku: entry["available"] for sku, entry in json.loads(CATALOGUE.read_text()).items()}
    stock = broker.states("inventory", [f"stock/{sku}" for sku in catalogue])
    return Snapshot(
        orders={key.removeprefix("order/"): record for key, record in broker.records("orders", order_keys).items()},
        stock={key.removeprefix("stock/"): level for key, level in stock.items()},
        catalogue=catalogue,
        events=[event for topic in FACT_TOPICS for event in broker.events(topic)],
        absorbed=sum(
            line.count(marker)
            for app_id, markers in ABSORBED.items()
            for line in (log_dir / f"{app_id}.log").read_text(errors="replace").splitlines()
            for marker in markers
        ),
        dead_letters=broker.length(Topic.DEAD_LETTERS),
        pending=broker.pending(),
    )
