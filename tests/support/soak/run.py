"""Running a soak: the whole system on ports of its own, its capacity measured with a burst
of orders flat out, then orders at half of it for the soak's minutes while every
process's memory, Redis's and the streams' lengths are sampled. As `make bench` does
(bench/saga.py), orders go in through the orders sidecar, which calls its own app without
looking for it by name, and each one's end is seen in the orders store: nothing polls the
apps under test, and no order reaches another system's orders app (the storefront, which
finds it by Dapr's mDNS name resolution, would: see `make chaos`)."""

import asyncio
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiohttp

from bench.saga import WINDOW, Completions, Orders, write_catalogue
from bench.sampling import every_while, rss_now
from bench.streams import Streams, retention
from tests.support.credentials import redis_client
from tests.support.soak.report import REDIS, Sample, Soak
from tests.support.system import DAPR_API_TOKEN, System, numbered, running
from tests.support.tracing import dapr_config

# Ports of its own: it runs beside `make run` and the test tiers.
REDIS_PORT = 6398
PORTS = numbered(app=8700, dapr_http=3200, dapr_grpc=4200, metrics=9700)
WARM_ORDERS = 50  # through every app once before the burst is timed
GRACE_SECONDS = 60.0  # past the expected end, for the last orders to finish
Say = Callable[[str], None]
PRINT: Say = partial(print, flush=True)  # progress shows as it comes, in a log file too


@dataclass(frozen=True)
class Options:
    minutes: float = 30.0  # of orders at half the capacity
    every: float = 5.0  # seconds between samples
    # Orders flat out, to measure the capacity: a thousand on two busy cores starved the apps'
    # health checks, and a sidecar refuses calls to an app it finds unhealthy.
    burst: int = 300


def run(options: Options, work: Path, say: Say = PRINT) -> Soak:
    """The soak, every process stopped at the end; `work` holds the logs and Redis's data.
    A failure on the way (an order refused or not finished in time, a process that died)
    is in the result's `error`, with what was sampled until then."""
    (work / "logs").mkdir(parents=True, exist_ok=True)
    # Stock that never runs out; the sidecars' spans made as usual and sent nowhere.
    env = {"CATALOGUE_PATH": str(write_catalogue(work / "catalogue.json"))}
    config = dapr_config(work / "config.yaml", zipkin=None)
    with running(work / "logs", work / "redis", config=config, env=env, at=(REDIS_PORT, PORTS)) as system:
        soak = asyncio.run(_drive(system, options, say))
        try:
            system.check_alive()
        except RuntimeError as died:
            soak = dataclasses.replace(soak, error=soak.error or str(died))
        return soak


async def _drive(system: System, options: Options, say: Say) -> Soak:
    with redis_client(REDIS_PORT) as client:
        client.config_set("notify-keyspace-events", "Kh")  # what Completions hears
    processes = {name: pid for app in system.apps.values()
                 for name, pid in ((app.name, app.app.pid), (f"{app.name}-daprd", app.sidecar.pid))}
    processes[REDIS] = system.redis.pid
    completions = Completions(REDIS_PORT)
    watcher = asyncio.create_task(completions.watch())
    samples: list[Sample] = []
    capacity = rate = p50 = p99 = math.nan  # what a failed run did not get to measure
    error = None
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=WINDOW * 2),
                                     headers={"dapr-api-token": DAPR_API_TOKEN}) as session:
        orders = Orders(session, f"{system['orders'].dapr_url}/v1.0/invoke/orders/method/orders", completions)
        try:
            await orders.run("warm", WARM_ORDERS, None, GRACE_SECONDS)
            say(f"measuring the capacity: {options.burst:,} orders flat out")
            # From the burst's first order to its last one's end: a little under the sustained
            # rate (the pipeline fills and drains in it), which a soak wants to stay clear of.
            started = time.monotonic()
            await orders.run("burst", options.burst, None, GRACE_SECONDS)
            capacity = options.burst / (time.monotonic() - started)
            rate = capacity / 2
            n = max(1, round(rate * options.minutes * 60))
            say(f"flat out: {capacity:,.1f} orders/s; now {n:,} orders at {rate:,.1f}/s, "
                f"sampled every {options.every:g} s")
            with sampling(processes, options.every, samples, say):
                paced = await orders.run("soak", n, rate, GRACE_SECONDS)
            p50, p99 = paced.p50, paced.p99
        except (RuntimeError, TimeoutError, aiohttp.ClientError) as failure:
            error = f"{type(failure).__name__}: {failure}"
            say(f"FAILED: {error}")
        finally:
            watcher.cancel()
            await completions.close()
    return Soak(options.minutes, capacity, rate, samples, orders.statuses(), p50, p99, error)


@contextmanager
def sampling(processes: dict[str, int], every: float, samples: list[Sample], say: Say) -> Iterator[None]:
    """Append a sample to `samples` at once, every `every` seconds while the block runs,
    and at its end; say how it stands about once a minute."""
    keeps = retention()
    start = time.monotonic()
    with redis_client(REDIS_PORT, decode_responses=True) as client:

        def take() -> None:
            streams = Streams.read(client, keeps)
            samples.append(Sample(time.monotonic() - start, rss_now(processes), streams.used_memory / 2**20,
                                  streams.lengths, max(streams.backlogs.values(), default=0)))
            if len(samples) % max(1, round(60 / every)) == 0:
                last = samples[-1]
                say(f"  {last.seconds / 60:.0f} min: RSS {sum(last.rss_mb.values()):,.0f} MB in all, "
                    f"Redis {last.redis_used_mb:,.1f} MB used, furthest-behind backlog {last.backlog:,}")

        with every_while(take, every, "soak"):
            yield
