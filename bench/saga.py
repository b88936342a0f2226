"""The saga end to end: every app of dapr.yaml with its sidecar (tests/support starts them
as the integration tier does, on the bench's ports) on a fresh private Redis; orders
placed through the orders sidecar, as `dapr invoke` does; each order's completion seen
in the orders store the moment it is written (Redis keyspace notifications), so nothing
polls the apps under test."""

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis
import redis.asyncio

from bench.infra import Redis
from bench.load import at_rate, flat_out
from bench.plan import OVERLOAD_SHARE, PACED_SHARE, SAGA_APPS, SAGA_PORTS, Plan, Say
from bench.sampling import cpu_used, every_while, peak_rss, rss_now
from bench.stages import shipped_twice, stage_medians
from bench.stats import Run, mid
from bench.streams import Streams, retention
from tests.support.credentials import REDIS_PASSWORD
from tests.support.sidecars import AppWithSidecar

TERMINAL = {"shipped", "cancelled"}
SKUS = 100  # spread over many stock levels, so no one key is the hot spot
WINDOW = 32  # orders in flight when placed flat out
IDLE_SECONDS = 3.0  # settling time before the idle footprint is taken
MIN_RATE = 20  # orders/s: below this, a run's orders are reported as not finished
MAX_TRIES = 10  # of an order the front door asks to send again later (429 or 503 with Retry-After)
SHED = " with Retry-After"  # after the status, in `Orders.answers`: the front door shed the load


@dataclass
class Overload:
    """Orders offered at twice the capacity for a while, then at half of it while the
    backlog drains: what the front door answered, how the apps and the backlog fared."""

    rate: float  # orders/s offered
    answers: dict[str, int] = field(default_factory=dict)  # POST /orders: status -> count, retries included
    accepted: int = 0
    ended: int = 0  # of the accepted, shipped or cancelled by the end
    shipped_twice: int = 0  # orders with more than one shipment.scheduled (distinct event ids)
    completed_per_second: float = math.nan  # the overload's orders ending, a second, while the backlog lasted
    max_backlog: int = 0  # the furthest-behind consumer group's backlog at its highest
    failed_probes: dict[str, float] = field(default_factory=dict)  # sidecar -> its app's failed health probes
    unhealthy: dict[str, int] = field(default_factory=dict)  # sidecar -> times it found its app unhealthy
    drained: Run | None = None  # orders at half the capacity, once the backlog had drained
    rss_mb: dict[str, float] = field(default_factory=dict)  # peaks, overload and after
    anon_mb: dict[str, float] = field(default_factory=dict)


@dataclass
class SagaOutcome:
    startup_seconds: float = 0.0
    idle_rss_mb: dict[str, float] = field(default_factory=dict)
    idle_anon_mb: dict[str, float] = field(default_factory=dict)  # the private part of it
    flat: list[Run] = field(default_factory=list)
    capacity: float = math.nan  # orders/s: the median of the flat-out runs
    paced: list[Run] = field(default_factory=list)
    paced_rate: float = math.nan  # orders/s: half the capacity
    paced_rss_mb: dict[str, float] = field(default_factory=dict)  # peak at the paced rate
    paced_anon_mb: dict[str, float] = field(default_factory=dict)
    flat_rss_mb: dict[str, float] = field(default_factory=dict)  # peak flat out
    cpu_ms_per_order: dict[str, float] = field(default_factory=dict)  # flat out
    statuses: dict[str, int] = field(default_factory=dict)
    stages_ms: dict[str, float] = field(default_factory=dict)  # medians over the paced orders
    overload: Overload | None = None
    errors: dict[str, str] = field(default_factory=dict)  # measurement -> why it failed


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
                status = json.loads(record)["record"]["view"]["status"] if record else None
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
        _failed(outcome, "start", error, say)
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
    """Each measurement in turn; one that fails is recorded with its cause, and the next
    that does not need its result still runs."""
    completions = Completions(redis_server.port)
    watcher = asyncio.create_task(completions.watch())
    url = f"http://127.0.0.1:{SAGA_PORTS['orders'].dapr_http}/v1.0/invoke/orders/method/orders"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=WINDOW * 2)) as session:
        orders = Orders(session, url, completions)
        try:
            warm = await orders.run("warm", plan.saga_orders // 10 or 1, None, plan.grace_seconds)
            say(f"  saga: warm-up, {warm.n} orders, p50 {warm.p50:.0f} ms")
            for name, measurement in (("flat out", _flat), ("paced", _paced), ("overload", _overload)):
                try:
                    await measurement(plan, orders, processes, apps, outcome, say, redis_server)
                except Exception as error:  # noqa: BLE001 - recorded; the next measurement runs
                    _failed(outcome, name, error, say)
            for app in apps:
                app.check_alive()
        finally:
            watcher.cancel()
            await completions.close()
    outcome.statuses = orders.statuses()


def _failed(outcome: SagaOutcome, measurement: str, error: Exception, say: Say) -> None:
    outcome.errors[measurement] = f"{type(error).__name__}: {error}"
    say(f"  saga: {measurement} FAILED: {outcome.errors[measurement]}")


async def _flat(plan: Plan, orders: "Orders", processes: dict[str, int], _apps: list[AppWithSidecar],
                outcome: SagaOutcome, say: Say, _redis: Redis) -> None:
    with peak_rss(processes) as peaks, cpu_used(processes) as cpu:
        for rep in range(plan.reps):
            run = await orders.run(f"flat{rep}", plan.saga_orders, None, plan.grace_seconds)
            outcome.flat.append(run)
            say(f"  saga: flat out #{rep + 1}: {run.per_second:,.1f} orders/s sustained")
    outcome.flat_rss_mb = dict(peaks)
    outcome.cpu_ms_per_order = {name: 1e3 * sec / (plan.saga_orders * plan.reps) for name, sec in cpu.items()}
    outcome.capacity = mid([run.per_second for run in outcome.flat])


async def _paced(plan: Plan, orders: "Orders", processes: dict[str, int], _apps: list[AppWithSidecar],
                 outcome: SagaOutcome, say: Say, redis_server: Redis) -> None:
    outcome.paced_rate = rate = _share(outcome, PACED_SHARE)
    with peak_rss(processes) as peaks, peak_rss(processes, "RssAnon") as anon:
        try:
            for rep in range(plan.reps):
                run = await orders.run(f"paced{rep}", round(rate * plan.saga_paced_seconds), rate, plan.grace_seconds)
                outcome.paced.append(run)
                say(f"  saga: {rate:,.1f} orders/s #{rep + 1}: p50 {run.p50:,.0f} ms, p99 {run.p99:,.0f} ms")
        finally:
            outcome.paced_rss_mb, outcome.paced_anon_mb = dict(peaks), dict(anon)
    outcome.stages_ms = stage_medians(redis_server.client, orders.paced_ids, orders.wall_ms)


async def _overload(plan: Plan, orders: "Orders", processes: dict[str, int], apps: list[AppWithSidecar],
                    outcome: SagaOutcome, say: Say, redis_server: Redis) -> None:
    over = outcome.overload = Overload(rate=_share(outcome, OVERLOAD_SHARE))
    before = {app.sidecar.name: (_failed_probes(app), _unhealthy_marks(app)) for app in apps}
    say(f"  saga: overload, {over.rate:,.1f} orders/s for {plan.overload_seconds:g} s, then "
        f"{outcome.paced_rate:,.1f}/s for {plan.after_overload_seconds:g} s and until drained")
    with peak_rss(processes) as peaks, peak_rss(processes, "RssAnon") as anon, backlog(redis_server.port) as worst:
        rate, overloading, offered, answered = outcome.paced_rate, [], [], Counter(orders.answers)
        try:
            overloading = await orders.place("overload", round(over.rate * plan.overload_seconds), over.rate, strict=False)
            offered = overloading + await orders.place(
                "draining", round(rate * plan.after_overload_seconds), rate, strict=False)
            await orders.wait(offered, plan.grace_seconds + len(offered) / MIN_RATE)
            over.completed_per_second = orders.sustained_rate(overloading)
        finally:
            over.rss_mb, over.anon_mb, over.max_backlog = dict(peaks), dict(anon), max(worst, default=0)
            over.answers = dict(orders.answers - answered)
            over.accepted, over.ended = len(offered), sum(o in orders.completions.done for o in offered)
            for app in apps:
                probes, marks = before[app.sidecar.name]
                over.failed_probes[app.sidecar.name] = _failed_probes(app) - probes
                over.unhealthy[app.sidecar.name] = _unhealthy_marks(app) - marks
    over.shipped_twice = shipped_twice(redis_server.client, set(offered))
    over.drained = await orders.run("drained", round(rate * plan.saga_paced_seconds), rate, plan.grace_seconds)
    say(f"  saga: overload: {over.accepted:,} accepted, answers {over.answers}; {over.completed_per_second:,.1f} "
        f"orders/s carried while overloaded; furthest-behind backlog {over.max_backlog:,}; drained, p99 {over.drained.p99:,.0f} ms")


def _share(outcome: SagaOutcome, share: float) -> float:
    if math.isnan(outcome.capacity):
        raise RuntimeError("not measured: the flat-out runs, which measure the capacity, failed")
    return share * outcome.capacity


def _failed_probes(app: AppWithSidecar) -> float:
    """The health probes of its app that the sidecar saw fail so far."""
    name = "dapr_http_healthprobes_completed_count"
    return app.metric(name) - app.metric(name, status="200")


def _unhealthy_marks(app: AppWithSidecar) -> int:
    """How often the sidecar has found its app unhealthy so far (and refused calls to it)."""
    return app.sidecar.log_path.read_text(errors="replace").count("App entered un-healthy status")


@contextmanager
def backlog(port: int) -> Iterator[list[int]]:
    """The furthest-behind consumer group's backlog, sampled every second while the block runs."""
    samples: list[int] = []
    keeps = retention()
    with redis.Redis(port=port, password=REDIS_PASSWORD, decode_responses=True) as client:

        def take() -> None:
            samples.append(max(Streams.read(client, keeps).backlogs.values(), default=0))

        with every_while(take, 1.0, "backlog"):
            yield samples


class Orders:
    """Places orders and times each one from its POST to its terminal state."""

    def __init__(self, session: aiohttp.ClientSession, url: str, completions: Completions) -> None:
        self._session = session
        self._url = url
        self.completions = completions
        self._sent: dict[str, int] = {}  # order id -> when it was due (monotonic ns)
        self.paced_ids: set[str] = set()
        self.answers: Counter[str] = Counter()  # POST /orders: status -> count

    async def run(self, name: str, n: int, rate: float | None, grace_seconds: float) -> Run:
        """`n` orders at `rate` a second, or flat out with None; back when all have ended."""
        ids = await self.place(name, n, rate)
        # Room for a slow machine: a burst of thousands drains at tens of orders a second.
        await self.wait(ids, grace_seconds + n / MIN_RATE)
        if rate is not None:
            self.paced_ids.update(ids)
        return self._timed(ids, steady=rate is None)

    async def place(self, name: str, n: int, rate: float | None, strict: bool = True) -> list[str]:
        """Place `n` orders; the ids of those accepted. A 429 or 503 with Retry-After is
        asked again after it; any other refusal fails the run, or with `strict` off is
        counted (in `answers`) and the order left out."""
        ids: list[str] = []

        async def place_each(seqs: range, due: list[int]) -> None:
            for seq, due_ns in zip(seqs, due, strict=True):
                body = {"customer_id": f"bench-{name}-{seq}", "items": [{"sku": _sku(seq % SKUS), "quantity": 1}]}
                order_id = await self._post(body, strict)
                if order_id is not None:
                    self._sent[order_id] = due_ns
                    ids.append(order_id)

        if rate is None:
            await flat_out(n, 1, WINDOW, place_each)
        else:
            await at_rate(n, rate, 1, WINDOW, place_each)
        return ids

    async def _post(self, body: dict[str, object], strict: bool) -> str | None:
        for _ in range(MAX_TRIES):
            async with self._session.post(self._url, json=body) as response:
                retry_after = response.headers.get("Retry-After")
                self.answers[f"{response.status}{SHED if retry_after else ''}"] += 1
                if response.status == 202:
                    return (await response.json())["order_id"]
                if response.status not in (429, 503) or retry_after is None:
                    if strict:
                        raise RuntimeError(f"POST /orders answered {response.status}: {await response.text()}")
                    return None
            await asyncio.sleep(float(retry_after))
        return None

    async def wait(self, ids: list[str], timeout: float) -> None:
        """Back when every order of `ids` has ended; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not all(order_id in self.completions.done for order_id in ids):
            if time.monotonic() > deadline:
                missing = sum(order_id not in self.completions.done for order_id in ids)
                raise TimeoutError(f"{missing} of {len(ids)} orders not shipped or cancelled after {timeout:.0f}s")
            await asyncio.sleep(0.05)

    def sustained_rate(self, ids: list[str]) -> float:
        """Orders/s at which `ids` ended, between the 10th and the 90th percentile of
        their ends: while a backlog lasts, how much the saga carries."""
        return self._timed(ids, steady=True).per_second if len(ids) >= 10 else math.nan

    def wall_ms(self, ids: set[str]) -> dict[str, tuple[float, float]]:
        """When each ended order of `ids` was due and when it ended, in wall-clock ms, as
        the broker's stream entry ids count."""
        offset = time.time_ns() - time.monotonic_ns()
        done = self.completions.done
        return {i: ((self._sent[i] + offset) / 1e6, (done[i][0] + offset) / 1e6) for i in ids if i in done}

    def _timed(self, ids: list[str], steady: bool) -> Run:
        done = sorted(self.completions.done[order_id][0] for order_id in ids)
        latency = sorted((self.completions.done[i][0] - self._sent[i]) / 1e6 for i in ids)
        if not steady:
            return Run(n=len(ids), seconds=(done[-1] - min(self._sent[i] for i in ids)) / 1e9, latency_ms=latency)
        # Sustained: the rate at which orders completed between the 10th and the 90th
        # percentile of completions, leaving out the pipeline filling and draining.
        low, high = len(done) // 10, len(done) * 9 // 10 - 1
        return Run(n=high - low, seconds=(done[high] - done[low]) / 1e9, latency_ms=latency)

    def statuses(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for order_id in self._sent:
            status = self.completions.done.get(order_id, (0, "unfinished"))[1]
            counted[status] = counted.get(status, 0) + 1
        return counted
