"""Issue 15's targets, judged on this run: the medians of its repetitions, or for the one-hop
latency, every repetition."""

import math
from dataclasses import dataclass

from bench.onehop.measure import Outcome
from bench.plan import OVERLOAD_SHARE
from bench.saga import SHED, Overload, SagaOutcome
from bench.stats import mid
from tests.support.sidecars import PYTHON_APPS, RUN_APPS

# The Node.js apps of dapr.yaml, as their commands start them (the Python ones: PYTHON_APPS).
NODE_APPS = tuple(app["appID"] for app in RUN_APPS if app["command"][0] == "node")
PYTHON_APP_MB, NODE_APP_MB, DAPRD_PRIVATE_MB = 80, 120, 30
SAGA_P50_MS, SAGA_P99_MS = 25, 50
CPU_MS_PER_ORDER = 15
OVERLOAD_THROUGHPUT_SHARE = 0.9  # of the capacity, while overloaded
BULK_SHARE_OF_BATCHED_REDIS = 0.25


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


def judge(onehop: dict[str, Outcome], saga: SagaOutcome | None) -> list[Verdict]:
    return [*_saga(saga), *_overload(saga.overload if saga else None), *_memory(saga), *_one_hop(onehop)]


def _verdict(target: str, value: float, limit: float, measured: str, at_least: bool = False) -> Verdict:
    if math.isnan(value) or math.isnan(limit):
        return Verdict(target, "not measured", None)
    return Verdict(target, measured, value >= limit if at_least else value <= limit)


def _saga(saga: SagaOutcome | None) -> list[Verdict]:
    p50 = mid([run.p50 for run in saga.paced]) if saga else math.nan
    p99 = mid([run.p99 for run in saga.paced]) if saga else math.nan
    rate = f"at {saga.paced_rate:,.1f} orders/s (half the capacity)" if saga else "at half the capacity"
    cpu = sum(saga.cpu_ms_per_order.values()) if saga and saga.cpu_ms_per_order else math.nan
    return [
        _verdict(f"saga: p50 completion ≤ {SAGA_P50_MS} ms {rate}", p50, SAGA_P50_MS, f"{p50:,.0f} ms"),
        _verdict(f"saga: p99 completion ≤ {SAGA_P99_MS} ms {rate}", p99, SAGA_P99_MS, f"{p99:,.0f} ms"),
        _verdict(f"CPU per order ≤ {CPU_MS_PER_ORDER} ms over all processes", cpu, CPU_MS_PER_ORDER, f"{cpu:.1f} ms"),
    ]


def _overload(over: Overload | None) -> list[Verdict]:
    if over is None:
        return [Verdict("overload (2× the capacity)", "not measured", None)]
    refused = sum(n for answer, n in over.answers.items() if answer.startswith("5") and SHED not in answer)
    unhealthy = sum(over.unhealthy.values())
    share = over.completed_per_second / (over.rate / OVERLOAD_SHARE)
    drained = over.drained.p99 if over.drained else math.nan
    return [
        Verdict("overload: POST /orders never answers 5xx (503 with Retry-After sheds load)",
                f"{refused:,} of {sum(over.answers.values()):,} answers", refused == 0),
        Verdict("overload: no app is marked unhealthy by its sidecar",
                ", ".join(f"{name} {n}×" for name, n in over.unhealthy.items() if n) or "none", unhealthy == 0),
        _verdict(f"overload: throughput ≥ {OVERLOAD_THROUGHPUT_SHARE:.0%} of the capacity", share,
                 OVERLOAD_THROUGHPUT_SHARE, f"{share:.0%} ({over.completed_per_second:,.1f} orders/s)", at_least=True),
        Verdict("overload: every accepted order ends, none shipped twice",
                f"{over.ended:,} of {over.accepted:,} ended; {over.shipped_twice} shipped twice",
                over.ended == over.accepted and over.shipped_twice == 0),
        _verdict(f"overload: p99 back to ≤ {SAGA_P99_MS} ms once drained", drained, SAGA_P99_MS, f"{drained:,.0f} ms"),
    ]


def _memory(saga: SagaOutcome | None) -> list[Verdict]:
    verdicts = []
    phases = (("at half the capacity", saga.paced_rss_mb, saga.paced_anon_mb),) if saga else ()
    if saga and saga.overload:
        phases += (("overloaded", saga.overload.rss_mb, saga.overload.anon_mb),)
    for phase, rss, anon in phases:
        python = max((mb for name, mb in rss.items() if name in PYTHON_APPS), default=math.nan)
        node = max((mb for name, mb in rss.items() if name in NODE_APPS), default=math.nan)
        daprd = max((mb for name, mb in anon.items() if name.endswith("-daprd")), default=math.nan)
        verdicts += [
            _verdict(f"every Python app ≤ {PYTHON_APP_MB} MB RSS {phase}", python, PYTHON_APP_MB, f"largest {python:.1f} MB"),
            _verdict(f"the Node.js app ≤ {NODE_APP_MB} MB RSS {phase}", node, NODE_APP_MB, f"{node:.1f} MB"),
            _verdict(f"every daprd ≤ {DAPRD_PRIVATE_MB} MB private (RssAnon) {phase}", daprd, DAPRD_PRIVATE_MB,
                     f"largest {daprd:.1f} MB"),
        ]
    return verdicts or [Verdict("memory under load", "not measured", None)]


def _one_hop(onehop: dict[str, Outcome]) -> list[Verdict]:
    celery, http, bulk, batched = (onehop.get(k) for k in ("celery", "dapr-http", "dapr-bulk", "redis-batched"))
    verdicts = []
    if celery and http and celery.paced and len(http.paced) == len(celery.paced):
        pairs = list(zip(http.paced, celery.paced, strict=True))
        measured = ", ".join(f"{h.p50:.2f} vs {c.p50:.2f} ms" for h, c in pairs)
        verdicts.append(Verdict("dapr-http one hop: p50 ≤ Celery's in every run", measured,
                                all(h.p50 <= c.p50 for h, c in pairs)))
    else:
        verdicts.append(Verdict("dapr-http one hop: p50 ≤ Celery's in every run", "not measured", None))
    bulk_rate = mid([run.per_second for run in bulk.flat]) if bulk else math.nan
    batched_rate = mid([run.per_second for run in batched.flat]) if batched else math.nan
    verdicts.append(_verdict(f"dapr-bulk flat out: ≥ {BULK_SHARE_OF_BATCHED_REDIS:.0%} of batched raw Redis Streams",
                             bulk_rate, BULK_SHARE_OF_BATCHED_REDIS * batched_rate,
                             f"{bulk_rate:,.0f}/s = {100 * bulk_rate / batched_rate:.0f}% of {batched_rate:,.0f}/s",
                             at_least=True))
    return verdicts
