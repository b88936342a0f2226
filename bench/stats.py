"""What one run measured, and the numbers drawn from it."""

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Any


@dataclass(frozen=True)
class Run:
    n: int
    seconds: float  # from the first send to the last arrival (or the steady span: saga)
    latency_ms: list[float] = field(repr=False)  # sorted

    @property
    def per_second(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else math.inf

    @property
    def p50(self) -> float:
        return percentile(self.latency_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latency_ms, 99)

    def summary(self) -> dict[str, Any]:
        return {"n": self.n, "seconds": round(self.seconds, 3), "per_second": round(self.per_second, 1),
                "p50_ms": round(self.p50, 2), "p99_ms": round(self.p99, 2)}


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank: the smallest value that at least p% of the values do not exceed."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def mid(values: list[float]) -> float:
    """The median of the repetitions: the number a ratio or a target is judged on."""
    return median(values) if values else math.nan
