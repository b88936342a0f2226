"""bench/results/latest.md (and latest.json): every repetition, the medians, the ratios to
each baseline, the targets, the footprint; written from one run's results."""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.onehop.measure import Outcome
from bench.plan import Plan
from bench.saga import Overload, SagaOutcome
from bench.stats import Run, mid
from bench.targets import judge

BASELINES = {"celery": "Celery", "redis": "Redis", "redis-batched": "Redis batched"}


@dataclass
class Results:
    started: str
    quick: bool
    plan: Plan
    machine: dict[str, str]
    options: dict[str, str]
    onehop: dict[str, Outcome] = field(default_factory=dict)
    saga: SagaOutcome | None = None
    seconds: float = 0.0


def write(results: Results, out_dir: Path, plots: list[str]) -> Path:
    (out_dir / "latest.json").write_text(json.dumps(_as_json(results), indent=1))
    path = out_dir / "latest.md"
    path.write_text("\n".join(_markdown(results, plots)) + "\n")
    return path


def _markdown(r: Results, plots: list[str]) -> list[str]:
    plan = r.plan
    lines = [f"# eda-shop benchmark — {r.started}", ""]
    if r.quick:
        lines += ["> **Quick run (`--quick`)**: a second or two per scenario, on a machine shared with other work.",
                  "> Noisy: a smoke test of the harness, not a measurement. `make bench` runs the full one.", ""]
    lines += [
        (f"Machine: {r.machine['cpu']}, {r.machine['cores']} cores, {r.machine['memory']}; load average "
        f"{r.machine['load']} at the start. {r.machine['versions']}."),
        "",
        (f"Every contender carries the same 200-byte JSON payload to a fresh private Redis ({r.machine['durability']}); "
        f"{plan.reps} repetitions of each measurement, every one shown; ratios and targets use their median. "
        f"Whole run: {r.seconds / 60:.1f} min. Options: {', '.join(f'{k}={v}' for k, v in r.options.items()) or 'none'}."),
        "",
        "## Targets (issue 15)", "", "| target | measured | met |", "|---|---|---|",
    ]
    for v in judge(r.onehop, r.saga):
        lines.append(f"| {v.target} | {v.measured} | {'—' if v.met is None else 'yes' if v.met else '**no**'} |")
    lines += _one_hop(r) + [f"![{name}]({name})" for name in plots] + [""] + _saga(r) + _overload(r) + _footprint(r)
    return lines


def _runs(values: list[float], fmt: str) -> str:
    return " / ".join(format(v, fmt) for v in values) or "—"


def _ratio(value: float, base: float) -> str:
    return "—" if math.isnan(value) or math.isnan(base) or base == 0 else f"{value / base:.2f}×"


def _one_hop(r: Results) -> list[str]:
    flat = {key: mid([run.per_second for run in o.flat]) for key, o in r.onehop.items()}
    lines = ["", "## One hop: publish → handler", "",
             ("Flat out: probes sent as fast as the publisher can (async clients keep 32 sends in flight, bulk 4 × 100; "
             "redis-py and Celery block on each send), throughput from the first send to the last arrival."), "",
             "| contender | msgs/s, each run | median | " + " | ".join(f"× {b}" for b in BASELINES.values()) + " |",
             "|---|---|---|" + "---|" * len(BASELINES)]
    for key, o in r.onehop.items():
        ratios = " | ".join(_ratio(flat[key], flat.get(b, math.nan)) for b in BASELINES)
        lines.append(f"| {o.label} | {_runs([run.per_second for run in o.flat], ',.0f')} | {flat[key]:,.0f} | {ratios} |"
                     if not o.error else f"| {o.label} | failed: {o.error} | | " + " | " * (len(BASELINES) - 1) + " |")
    lines += ["", "What each process spent, flat out: CPU ms per 1,000 messages (the machine has 2 cores).", "",
              "| contender | CPU ms per 1,000 messages |", "|---|---|"]
    lines += [f"| {o.label} | {', '.join(f'{name} {ms:.0f}' for name, ms in o.cpu_ms_per_1k.items())} |"
              for o in r.onehop.values() if not o.error]
    celery = r.onehop.get("celery")
    celery_p50 = mid([run.p50 for run in celery.paced]) if celery else math.nan
    celery_p99 = mid([run.p99 for run in celery.paced]) if celery else math.nan
    lines += ["", (f"Paced at {r.plan.paced_rate:.0f} msgs/s for {r.plan.paced_seconds:g} s: latency from the time each "
              "probe was due to its handler (a publisher that falls behind shows as latency)."), "",
              "| contender | p50 ms, each run | p99 ms, each run | p50 × Celery | p99 × Celery | kept up |",
              "|---|---|---|---|---|---|"]
    for o in r.onehop.values():
        if o.error:
            continue
        p50, p99 = mid([run.p50 for run in o.paced]), mid([run.p99 for run in o.paced])
        kept = all(run.per_second >= 0.95 * r.plan.paced_rate for run in o.paced)
        lines.append(f"| {o.label} | {_runs([run.p50 for run in o.paced], '.2f')} | {_runs([run.p99 for run in o.paced], '.2f')} "
                     f"| {_ratio(p50, celery_p50)} | {_ratio(p99, celery_p99)} | {'yes' if kept else '**no**'} |")
    lines += ["", "'kept up': every paced run delivered at ≥ 95% of the rate; where not, its latency is mostly queueing.", ""]
    return lines


def _saga(r: Results) -> list[str]:
    s = r.saga
    if s is None:
        return []
    lines = ["## The saga: POST /orders → shipped or cancelled", ""]
    lines += [f"**Failed, {measurement}:** {error}" for measurement, error in s.errors.items()]
    lines += [
        "",
        (f"All six apps with their sidecars (as dapr.yaml runs them), on the bench's ports; orders placed through the "
        f"orders sidecar; completion seen in the orders store. Stock never runs out and the gateway never fails "
        f"(dapr.yaml's 10% transient failures would make p99 the resiliency backoff). Orders, warm-up included: {', '.join(f'{n} {status}' for status, n in s.statuses.items())}."), "",
        "| measurement | each run | median |", "|---|---|---|",
        (f"| capacity: sustained orders/s, flat out ({r.plan.saga_orders} orders, 32 in flight; completions between the "
        f"10th and 90th percentile) | {_runs([run.per_second for run in s.flat], ',.1f')} | {s.capacity:,.1f} |"),
    ]
    for name, pick in (("p50", lambda run: run.p50), ("p99", lambda run: run.p99)):
        values = [pick(run) for run in s.paced]
        lines.append(f"| {name} completion, ms, at half the capacity ({s.paced_rate:,.1f} orders/s) for "
                     f"{r.plan.saga_paced_seconds:g} s | {_runs(values, ',.0f')} | {mid(values):,.0f} |")
    if s.cpu_ms_per_order:
        busiest = sorted(s.cpu_ms_per_order.items(), key=lambda item: -item[1])
        total, cores = sum(s.cpu_ms_per_order.values()), int(r.machine["cores"])
        lines += ["", (f"CPU per order, flat out: **{total:.1f} ms** over all processes, so {cores} cores can carry at most "
                  f"**{cores * 1000 / total:,.0f} orders/s** whatever the pipeline does. Busiest first, ms per order:"), "",
                  ", ".join(f"{name} {ms:.1f}" for name, ms in busiest)]
    if s.stages_ms:
        lines += ["", ("Where a paced order's time goes (median ms; the broker's stream entry times, and the bench's "
                  "own clock at both ends):"), "",
                  "| stage | ms |", "|---|---|"] + [f"| {stage} | {ms:,.0f} |" for stage, ms in s.stages_ms.items()]
    return lines + [""]


def _overload(r: Results) -> list[str]:
    over = r.saga.overload if r.saga else None
    if over is None:
        return []
    drained = over.drained
    lines = ["## Overload: twice the capacity, then half of it", "",
             (f"Orders offered at **{over.rate:,.1f}/s** for {r.plan.overload_seconds:g} s, then at half the capacity for "
              f"{r.plan.after_overload_seconds:g} s and until every order had ended; then a paced run at half the "
              "capacity. The load honours Retry-After."), "",
             "| measurement | value |", "|---|---|",
             f"| POST /orders answers | {', '.join(f'{n:,} × {answer}' for answer, n in over.answers.items())} |",
             f"| accepted, ended, shipped twice | {over.accepted:,}, {over.ended:,}, {over.shipped_twice} |",
             ("| throughput while overloaded: the overload's orders ending, a second (between the 10th and 90th "
              f"percentile of their ends) | {over.completed_per_second:,.1f} |"),
             f"| the furthest-behind consumer group's backlog at its highest (events) | {over.max_backlog:,} |",
             "| health probes failed, by sidecar | "
             + (", ".join(f"{name} {n:.0f}" for name, n in over.failed_probes.items() if n) or "none") + " |",
             "| times a sidecar found its app unhealthy | "
             + (", ".join(f"{name} {n}" for name, n in over.unhealthy.items() if n) or "none") + " |",
             (f"| once drained, at half the capacity: p50 / p99 completion, ms | {drained.p50:,.0f} / {drained.p99:,.0f} |"
              if drained else "| once drained | not measured |"),
             ""]
    return lines


def _footprint(r: Results) -> list[str]:
    lines = ["## Footprint (resident memory, MB)", ""]
    s = r.saga
    if s is not None:
        over = s.overload or Overload(rate=math.nan)
        lines += [f"From starting every app and sidecar to all healthy: **{s.startup_seconds:.1f} s**.", "",
                  ("RSS counts the pages a process shares with others, too: each daprd maps the same 130 MB "
                  "binary, so most of its RSS is shared by all six; 'private' is its anonymous memory (RssAnon)."), "",
                  ("| process | idle | idle, private | peak at half the capacity | private | peak flat out "
                   "| peak overloaded | private |"), "|---|---|---|---|---|---|---|---|"]
        for name in s.idle_rss_mb:
            lines.append(f"| {name} | {s.idle_rss_mb[name]:.0f} | {s.idle_anon_mb.get(name, math.nan):.0f} "
                         f"| {s.paced_rss_mb.get(name, math.nan):.0f} | {s.paced_anon_mb.get(name, math.nan):.0f} "
                         f"| {s.flat_rss_mb.get(name, math.nan):.0f} | {over.rss_mb.get(name, math.nan):.0f} "
                         f"| {over.anon_mb.get(name, math.nan):.0f} |")
    lines += ["", "One hop, the peak of each contender's processes over all its runs:", "",
              "| contender | processes |", "|---|---|"]
    for o in r.onehop.values():
        lines.append(f"| {o.label} | {', '.join(f'{name} {mb:.0f}' for name, mb in o.peak_rss_mb.items())} |")
    return lines


def _as_json(r: Results) -> dict[str, object]:
    def runs(items: list[Run]) -> list[dict[str, object]]:
        return [run.summary() for run in items]

    onehop = {key: {"label": o.label, "flat": runs(o.flat), "paced": runs(o.paced), "peak_rss_mb": o.peak_rss_mb,
                    "cpu_ms_per_1k": o.cpu_ms_per_1k,
                    "error": o.error} for key, o in r.onehop.items()}
    saga = None
    if r.saga is not None:
        saga = {**{k: v for k, v in asdict(r.saga).items() if k not in ("flat", "paced", "overload")},
                "flat": runs(r.saga.flat), "paced": runs(r.saga.paced)}
        if r.saga.overload is not None:
            over = r.saga.overload
            saga["overload"] = {**{k: v for k, v in asdict(over).items() if k != "drained"},
                                "drained": over.drained.summary() if over.drained else None}
    return {"started": r.started, "quick": r.quick, "plan": asdict(r.plan), "machine": r.machine,
            "options": r.options, "seconds": r.seconds, "onehop": onehop, "saga": saga}
