"""The report's plots: throughput bars (every run a dot) and latency distributions."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.onehop.measure import Outcome
from bench.saga import SagaOutcome
from bench.stats import mid


def draw(onehop: dict[str, Outcome], saga: SagaOutcome | None, out_dir: Path, rate: float) -> list[str]:
    """Write the plots; their file names, for the report."""
    measured = [o for o in onehop.values() if o.flat]
    names = []
    if measured:
        names += [_throughput(measured, out_dir), _latency(measured, saga, out_dir, rate)]
    return names


def _throughput(outcomes: list[Outcome], out_dir: Path) -> str:
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.55 * len(outcomes)))
    for i, o in enumerate(outcomes):
        rates = [run.per_second for run in o.flat]
        ax.barh(i, mid(rates), color="tab:blue" if o.key.startswith("dapr") else "tab:gray")
        ax.plot(rates, [i] * len(rates), "k.", markersize=5)
    ax.set_yticks(range(len(outcomes)), [o.label for o in outcomes])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("messages/s, flat out (bar: median; dots: each run; log scale)")
    ax.set_title("One hop, publisher → handler: throughput")
    return _save(fig, out_dir / "latest-throughput.png")


def _latency(outcomes: list[Outcome], saga: SagaOutcome | None, out_dir: Path, rate: float) -> str:
    panels = 2 if saga and saga.paced else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    ax = axes[0][0]
    for o in outcomes:
        latency = sorted(ms for run in o.paced for ms in run.latency_ms)
        ax.plot(latency, [(i + 1) / len(latency) for i in range(len(latency))], label=o.label,
                linestyle="-" if o.key.startswith("dapr") else "--")
    ax.set_xscale("log")
    ax.set_xlabel("ms from due to handler (log scale)")
    ax.set_ylabel("share of probes")
    ax.set_title(f"One hop, paced at {rate:.0f}/s: latency (all runs)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if panels == 2 and saga:
        ax = axes[0][1]
        for i, run in enumerate(saga.paced):
            ax.plot(run.latency_ms, [(k + 1) / len(run.latency_ms) for k in range(len(run.latency_ms))], label=f"run {i + 1}")
        ax.set_xlabel("ms from the order's due time to shipped")
        ax.set_title("Saga, paced: order completion time")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _save(fig, out_dir / "latest-latency.png")


def _save(fig: plt.Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name
