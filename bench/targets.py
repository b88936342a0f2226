"""Issue 7's targets, judged on the medians of the repetitions in this run."""

import math
import os
from dataclasses import dataclass

from bench.onehop.measure import Outcome
from bench.plan import Plan
from bench.saga import SagaOutcome
from bench.stats import mid

DAPR = ("dapr-http", "dapr-grpc", "dapr-bulk")
PYTHON_APPS = ("storefront", "orders", "inventory", "payments")
DAPRD_MB, PYTHON_APP_MB = 60, 80


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


def judge(onehop: dict[str, Outcome], saga: SagaOutcome | None, plan: Plan) -> list[Verdict]:
    return [*_one_hop(onehop), *_saga(saga, plan)]


def _p(outcome: Outcome | None, which: str) -> float:
    return mid([getattr(run, which) for run in outcome.paced]) if outcome else math.nan


def _flat(outcome: Outcome | None) -> float:
    return mid([run.per_second for run in outcome.flat]) if outcome else math.nan


def _verdict(target: str, value: float, limit: float, measured: str, at_least: bool = False) -> Verdict:
    if math.isnan(value) or math.isnan(limit):
        return Verdict(target, "not measured", None)
    return Verdict(target, measured, value >= limit if at_least else value <= limit)


def _one_hop(onehop: dict[str, Outcome]) -> list[Verdict]:
    celery, batched = onehop.get("celery"), onehop.get("redis-batched")
    verdicts = []
    for key in DAPR:
        dapr = onehop.get(key)
        p50, p99 = _p(dapr, "p50"), _p(dapr, "p99")
        verdicts.append(_verdict(f"{key}, paced: p50 no worse than Celery's", p50, _p(celery, "p50"),
                                 f"{p50:.2f} ms vs {_p(celery, 'p50'):.2f} ms"))
        verdicts.append(_verdict(f"{key}, paced: p99 ≤ 2× Celery's", p99, 2 * _p(celery, "p99"),
                                 f"{p99:.2f} ms vs 2 × {_p(celery, 'p99'):.2f} ms"))
    bulk = _flat(onehop.get("dapr-bulk"))
    verdicts.append(_verdict("dapr-bulk, flat out: ≥ 10× Celery's tasks/s", bulk, 10 * _flat(celery),
                             f"{bulk:,.0f}/s = {bulk / _flat(celery):.1f}× Celery", at_least=True))
    verdicts.append(_verdict("dapr-bulk, flat out: ≥ 25% of batched raw Redis Streams", bulk, 0.25 * _flat(batched),
                             f"{bulk:,.0f}/s = {100 * bulk / _flat(batched):.0f}% of {_flat(batched):,.0f}/s",
                             at_least=True))
    return verdicts


def _saga(saga: SagaOutcome | None, plan: Plan) -> list[Verdict]:
    flat = mid([run.per_second for run in saga.flat]) if saga else math.nan
    p99 = mid([run.p99 for run in saga.paced]) if saga else math.nan
    under_load = saga.paced_rss_mb if saga else {}
    daprd = max((mb for name, mb in under_load.items() if name.endswith("-daprd")), default=math.nan)
    python = max((mb for name, mb in under_load.items() if name in PYTHON_APPS), default=math.nan)
    sustained = _verdict("saga: ≥ 200 orders/s sustained", flat, 200, f"{flat:,.1f} orders/s", at_least=True)
    cpu_ms = sum(saga.cpu_ms_per_order.values()) if saga else 0.0
    ceiling = (os.cpu_count() or 1) * 1000 / cpu_ms if cpu_ms else math.inf
    # More than the machine's cores can carry (with a margin: the CPU per order also holds
    # what 13 processes spend idling through the run) means no steady state was reached.
    if flat > 1.25 * ceiling:
        sustained = Verdict(sustained.target, f"{flat:,.1f} orders/s from too short a burst: the CPU per order "
                            f"caps it at {ceiling:,.0f}/s", None)
    return [
        sustained,
        _verdict(f"saga: p99 completion ≤ 50 ms at {plan.saga_rate:.0f} orders/s", p99, 50, f"{p99:,.0f} ms"),
        _verdict(f"every daprd ≤ {DAPRD_MB} MB RSS at {plan.saga_rate:.0f} orders/s", daprd, DAPRD_MB,
                 f"largest {daprd:.1f} MB"),
        _verdict(f"every Python app ≤ {PYTHON_APP_MB} MB RSS at {plan.saga_rate:.0f} orders/s", python, PYTHON_APP_MB,
                 f"largest {python:.1f} MB"),
    ]
