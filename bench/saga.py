"""The saga end to end: every app of dapr.yaml with its sidecar (tests/support starts them
as the integration tier does, on the bench's ports) on a fresh private Redis; orders
placed through the orders sidecar, as `dapr invoke` does; each order's completion seen
in the orders store the moment it is written (Redis keyspace notifications), so nothing
polls the apps under test."""

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis.asyncio

from bench.infra import Redis
from bench.load import at_rate, flat_out
from bench.plan import SAGA_APPS, SAGA_PORTS, Plan, Say
from bench.sampling import cpu_used, peak_rss, rss_now
from bench.stages import stage_medians
from bench.stats import Run
from tests.support.credentials import REDIS_PASSWORD
from tests.support.sidecars import AppWithSidecar

TERMINAL = {"shipped", "cancelled"}
SKUS = 100  # spread over many stock levels, so no one key is the hot spot
WINDOW = 32  # orders in flight when placed flat out
IDLE_SECONDS = 3.0  # settling time before the idle footprint is taken
MIN_RATE = 20  # orders/s: below this, a run's orders are reported as not finished


@dataclass
class SagaOutcome:
    startup_seconds: float = 0.0
    idle_rss_mb: dict[str, float] = field(default_factory=dict)
    idle_anon_mb: dict[str, float] = field(default_factory=dict)  # the private part of it
    flat: list[Run] = field(default_factory=list)
    paced: list[Run] = field(default_factory=list)
    paced_rss_mb: dict[str, float] = field(default_factory=dict)  # peak at the paced rate
    flat_rss_mb: dict[str, float] = field(default_factory=dict)  # peak flat out
    cpu_ms_per_order: dict[str, float] = field(default_factory=dict)  # flat out
    statuses: dict[str, int] = field(default_factory=dict)
    stages_ms: dict[str, float] = field(default_factory=dict)  # medians over the paced orders
    error: str | None = None


class Completions:
    """When each order reached a terminal state, seen from Redis: every write to an
    order's key in the orders store (`orders||order/<id>`) is announced on a keyspace
    channel; the watcher reads the record and notes a terminal status once."""

    def __init__(self, port: int) -> None:
        self._redis = redis.asyncio.Redis(port=port, password=REDIS_PASSWORD)
        self.done: dict[str, tuple[int, str]] = {}  # order id -> (monotonic ns, status)

    async def watch(self) -> None:
        prefix = "__keyspace@0__:"
        async with self._redis.pubsub() as channel:
            await channel.psubscribe(prefix + "orders||order/*")
            async for message in channel.listen():
                if message["type"] != "pmessage":
                    continue
                seen_ns = time.monotonic_ns()
                key = message["channel"].decode().removeprefix(prefix)
                order_id = key.rsplit("/", 1)[1]
                if order_id in self.done:
                    continue
                record = await self._redis.hget(key, "data")
                status = json.loads(record)["view"]["status"] if record else None
                if status in TERMINAL:
                    self.done[order_id] = (seen_ns, status)

    async def close(self) -> None:
        await self._redis.aclose()


async def measure_saga(plan: Plan, run_dir: Path, redis_port: int, dapr_config: Path, say: Say) -> SagaOutcome:
    outcome = SagaOutcome()
    log_dir = run_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis_server = Redis(redis_port, run_dir / "redis")
    apps: list[AppWithSidecar] = []
    try:
        redis_server.client.config_set("notify-keyspace-events", "Kh")  # hash writes, by key
        env = _app_env(run_dir)
        started = time.monotonic()
        for app_id in SAGA_APPS:
            apps.append(AppWithSidecar(app_id, SAGA_PORTS[app_id], redis_port, log_dir, env=env.get(app_id),
                                       config=dapr_config))
        for app in apps:
            app.wait_ready()
        outcome.startup_seconds = time.monotonic() - started
        say(f"  saga: {len(apps)} apps and sidecars healthy in {outcome.startup_seconds:.1f}s")
        processes = {name: pid for app in apps for name, pid in _pids(app).items()}
        processes["redis-server"] = redis_server.pid
        await asyncio.sleep(IDLE_SECONDS)
        outcome.idle_rss_mb = rss_now(processes)
        outcome.idle_anon_mb = rss_now(processes, "RssAnon")
        await _drive(plan, processes, apps, outcome, say, redis_server)
    except Exception as error:  # noqa: BLE001 - the report still shows what was measured
        outcome.error = f"{type(error).__name__}: {error}"
        say(f"  saga: FAILED {outcome.error}")
    finally:
        for app in reversed(apps):
            app.stop()
        redis_server.stop()
    return outcome


def _app_env(run_dir: Path) -> dict[str, dict[str, str]]:
    """Stock that never runs out, and a gateway that never fails: the run measures the
    path every order takes (dapr.yaml's payments fails 10% once, and the resiliency
    policy's backoff would then be what p99 measures)."""
    catalogue = write_catalogue(run_dir / "catalogue.json")
    return {"inventory": {"CATALOGUE_PATH": str(catalogue)}, "payments": {"TRANSIENT_FAILURE_PERCENT": "0"}}


def write_catalogue(path: Path) -> Path:
    """Inventory's catalogue for what `Orders` places: every SKU it asks for, in stock
    that never runs out."""
    path.write_text(json.dumps({_sku(i): {"available": 10**9, "price_cents": 500} for i in range(SKUS)}))
    return path


def _sku(i: int) -> str:
    return f"bench-{i:03d}"


def _pids(app: AppWithSidecar) -> dict[str, int]:
    return {app.name: app.app.pid, f"{app.name}-daprd": app.sidecar.pid}


async def _drive(
    plan: Plan, processes: dict[str, int], apps: list[AppWithSidecar], outcome: SagaOutcome, say: Say,
    redis_server: Redis,
) -> None:
    completions = Completions(redis_server.port)
    watcher = asyncio.create_task(completions.watch())
    url = f"http://127.0.0.1:{SAGA_PORTS['orders'].dapr_http}/v1.0/invoke/orders/method/orders"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=WINDOW * 2)) as session:
        orders = Orders(session, url, completions)
        try:
            warm = await orders.run("warm", plan.saga_orders // 10 or 1, None, plan.grace_seconds)
            say(f"  saga: warm-up, {warm.n} orders, p50 {warm.p50:.0f} ms")
            with peak_rss(processes) as peaks, cpu_used(processes) as cpu:
                for rep in range(plan.reps):
                    run = await orders.run(f"flat{rep}", plan.saga_orders, None, plan.grace_seconds)
                    outcome.flat.append(run)
                    say(f"  saga: flat out #{rep + 1}: {run.per_second:,.1f} orders/s sustained")
            outcome.flat_rss_mb = dict(peaks)
            outcome.cpu_ms_per_order = {name: 1e3 * sec / (plan.saga_orders * plan.reps) for name, sec in cpu.items()}
            n_paced = int(plan.saga_rate * plan.saga_paced_seconds)
            with peak_rss(processes) as peaks:
                for rep in range(plan.reps):
                    run = await orders.run(f"paced{rep}", n_paced, plan.saga_rate, plan.grace_seconds)
                    outcome.paced.append(run)
                    say(f"  saga: {plan.saga_rate:.0f} orders/s #{rep + 1}: p50 {run.p50:,.0f} ms, p99 {run.p99:,.0f} ms")
            outcome.paced_rss_mb = dict(peaks)
            outcome.stages_ms = stage_medians(redis_server.client, orders.paced_ids)
            for app in apps:
                app.check_alive()
        finally:
            watcher.cancel()
            await completions.close()
    outcome.statuses = orders.statuses()


class Orders:
    """Places orders and times each one from its POST to its terminal state."""

    def __init__(self, session: aiohttp.ClientSession, url: str, completions: Completions) -> None:
        self._session = session
        self._url = url
        self._completions = completions
        self._sent: dict[str, int] = {}  # order id -> when it was due (monotonic ns)
        self.paced_ids: set[str] = set()

    async def run(self, name: str, n: int, rate: float | None, grace_seconds: float) -> Run:
        """`n` orders at `rate` a second, or flat out with None; back when all have ended."""
        ids: list[str] = []

        async def place(seqs: range, due: list[int]) -> None:
            for seq, due_ns in zip(seqs, due, strict=True):
                body = {"customer_id": f"bench-{name}-{seq}", "items": [{"sku": _sku(seq % SKUS), "quantity": 1}]}
                async with self._session.post(self._url, json=body) as response:
                    if response.status != 202:
                        raise RuntimeError(f"POST /orders answered {response.status}: {await response.text()}")
                    order_id = (await response.json())["order_id"]
                self._sent[order_id] = due_ns
                ids.append(order_id)

        if rate is None:
            await flat_out(n, 1, WINDOW, place)
        else:
            await at_rate(n, rate, 1, WINDOW, place)
        # Room for a slow machine: a burst of thousands drains at tens of orders a second.
        await self._wait(ids, grace_seconds + n / MIN_RATE)
        if rate is not None:
            self.paced_ids.update(ids)
        return self._timed(ids, steady=rate is None)

    async def _wait(self, ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(order_id in self._completions.done for order_id in ids):
            if time.monotonic() > deadline:
                missing = sum(order_id not in self._completions.done for order_id in ids)
                raise TimeoutError(f"{missing} of {len(ids)} orders not shipped or cancelled after {timeout:.0f}s")
            await asyncio.sleep(0.05)

    def _timed(self, ids: list[str], steady: bool) -> Run:
        done = sorted(self._completions.done[order_id][0] for order_id in ids)
        latency = sorted((self._completions.done[i][0] - self._sent[i]) / 1e6 for i in ids)
        if not steady:
            return Run(n=len(ids), seconds=(done[-1] - min(self._sent[i] for i in ids)) / 1e9, latency_ms=latency)
        # Sustained: the rate at which orders completed between the 10th and the 90th
        # percentile of completions, leaving out the pipeline filling and draining.
        low, high = len(done) // 10, len(done) * 9 // 10 - 1
        return Run(n=high - low, seconds=(done[high] - done[low]) / 1e9, latency_ms=latency)

    def statuses(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for order_id in self._sent:
            status = self._completions.done.get(order_id, (0, "unfinished"))[1]
            counted[status] = counted.get(status, 0) + 1
        return counted
