"""One contender's turn: a fresh Redis, its processes, a warm-up, then every repetition
flat out and paced, with the memory its processes reached."""

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.infra import Redis
from bench.load import Sender, at_rate, flat_out, probes
from bench.onehop.contenders import Contender, Setting
from bench.plan import Plan, Say
from bench.sampling import cpu_used, peak_rss
from bench.stats import Run


@dataclass
class Outcome:
    key: str
    label: str
    flat: list[Run] = field(default_factory=list)
    paced: list[Run] = field(default_factory=list)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_1k: dict[str, float] = field(default_factory=dict)  # flat out: what each process spent
    error: str | None = None


async def measure(contender: Contender, setting: Setting, plan: Plan, say: Say) -> Outcome:
    outcome = Outcome(contender.key, contender.label)
    for folder in (setting.results_dir, setting.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    redis = Redis(setting.redis_port, setting.run_dir / "redis")
    try:
        async with contender.start(setting, redis) as running:
            processes = {**running.processes, "redis-server": redis.pid}
            # The harness publishes, so its CPU counts; its memory (plots, every client) does not.
            with peak_rss(processes) as peaks:
                await _race(running.sender, contender.key, setting.results_dir, plan, say, outcome,
                            {"publisher (harness)": os.getpid(), **processes})
            outcome.peak_rss_mb = dict(peaks)
    except Exception as error:  # noqa: BLE001 - one contender failing must not cost the others their turn
        outcome.error = f"{type(error).__name__}: {error}"
        say(f"  {contender.key}: FAILED {outcome.error}")
    finally:
        redis.stop()
    return outcome


async def _race(
    sender: Sender, key: str, results: Path, plan: Plan, say: Say, outcome: Outcome, processes: dict[str, int]
) -> None:
    def flat(n: int) -> Callable[[str], Awaitable[None]]:
        return lambda run: flat_out(n, sender.batch, sender.window, probes(sender, run, n))

    def paced(n: int) -> Callable[[str], Awaitable[None]]:
        return lambda run: at_rate(n, plan.paced_rate, sender.batch, sender.window, probes(sender, run, n))

    def size(rate: float) -> int:
        return max(plan.warmup_probes, min(plan.max_probes, int(rate * plan.flat_seconds)))

    # The warm-up proves the path end to end (a sidecar that has not subscribed yet
    # shows here). Its rate includes the start-up, so an unreported run sized by it
    # measures the rate that sizes the reported runs.
    rate = (await _one_run(flat(plan.warmup_probes), key, plan.warmup_probes, results, plan.grace_seconds + 30)).per_second
    rate = (await _one_run(flat(size(rate)), key, size(rate), results, 3 * plan.flat_seconds + plan.grace_seconds)).per_second
    n_flat = size(rate)
    say(f"  {key}: warmed up at {rate:,.0f}/s; flat out with {n_flat:,} probes a run")
    with cpu_used(processes) as cpu:
        for rep in range(plan.reps):
            run = await _one_run(flat(n_flat), key, n_flat, results, timeout=3 * n_flat / rate + plan.grace_seconds)
            outcome.flat.append(run)
            say(f"  {key}: flat out #{rep + 1}: {run.per_second:,.0f} msgs/s")
    outcome.cpu_ms_per_1k = {name: 1e6 * seconds / (n_flat * plan.reps) for name, seconds in cpu.items()}
    n_paced = int(plan.paced_rate * plan.paced_seconds)
    for rep in range(plan.reps):
        run = await _one_run(paced(n_paced), key, n_paced, results,
                             timeout=plan.paced_seconds + plan.grace_seconds)
        outcome.paced.append(run)
        say(f"  {key}: paced {plan.paced_rate:.0f}/s #{rep + 1}: p50 {run.p50:.2f} ms, p99 {run.p99:.2f} ms")


async def _one_run(send: Callable[[str], Awaitable[None]], key: str, n: int, results: Path, timeout: float) -> Run:
    """Send one run's probes, then wait for the consumer's record of all n of them."""
    run = f"{key}-{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + timeout
    await send(run)
    arrivals = results / f"{run}.json"
    while not arrivals.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run}: not all {n} probes arrived within {timeout:.0f}s")
        await asyncio.sleep(0.02)
    found = json.loads(arrivals.read_text())
    return Run(
        n=n,
        seconds=(found["last_arrived_ns"] - found["first_sent_ns"]) / 1e9,
        latency_ms=sorted(ns / 1e6 for ns in found["latency_ns"]),
    )
