"""What a soak saw, how fast each process's memory grew after the warm-up, and the report:
Markdown tables and an SVG plot. Pure: the unit tests feed it by hand."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import linear_regression
from xml.sax.saxutils import escape

TARGET_MB_PER_HOUR = 5.0  # issue 17: no process grows faster once warmed up
WARM_UP_SHARE = 0.2  # the first fifth of the paced orders' time is left out of the slopes
REDIS = "redis-server"  # holds every order by design: its growth is data, not judged
TABLE_ROWS = 12  # the over-time table shows about this many samples


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the paced orders began
    rss_mb: Mapping[str, float]  # process -> resident memory (VmRSS)
    redis_used_mb: float  # INFO memory: used_memory
    streams: Mapping[str, int]  # stream -> entries it keeps (XLEN)
    backlog: int  # events the furthest-behind subscriber has yet to handle


@dataclass(frozen=True)
class Soak:
    minutes: float
    capacity: float  # orders/s, flat out
    rate: float  # orders/s, paced: half the capacity
    samples: Sequence[Sample]
    statuses: Mapping[str, int]  # every order of the run: shipped, cancelled or unfinished
    p50_ms: float  # completion of the paced orders, from when each was due
    p99_ms: float
    error: str | None = None

    @property
    def warm_up_seconds(self) -> float:
        return WARM_UP_SHARE * self.minutes * 60


@dataclass(frozen=True)
class Growth:
    process: str
    start_mb: float
    warm_mb: float  # at the end of the warm-up
    end_mb: float
    mb_per_hour: float | None  # None: fewer than two samples after the warm-up

    @property
    def over_target(self) -> bool | None:
        """None where no verdict applies: Redis, or no slope."""
        if self.process == REDIS or self.mb_per_hour is None:
            return None
        return self.mb_per_hour > TARGET_MB_PER_HOUR


def slope_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """The least-squares slope of (seconds, MB) points, in MB per hour."""
    if len({seconds for seconds, _ in points}) < 2:
        return None
    seconds, mb = zip(*points, strict=True)
    return linear_regression(seconds, mb).slope * 3600


def growth(samples: Sequence[Sample], warm_up_seconds: float) -> list[Growth]:
    """Each process's memory at the start, after the warm-up and at the end, and its slope
    after the warm-up; a process missing from a sample (it had died) is left out there."""
    names = sorted({name for sample in samples for name in sample.rss_mb}, key=_process_order)
    found = []
    for name in names:
        seen = [(s.seconds, s.rss_mb[name]) for s in samples if name in s.rss_mb]
        warm = [point for point in seen if point[0] >= warm_up_seconds] or seen[-1:]
        found.append(Growth(name, seen[0][1], warm[0][1], seen[-1][1], slope_per_hour(warm)))
    return found


def _process_order(name: str) -> tuple[bool, str]:
    return name == REDIS, name  # apps and their sidecars by name, Redis last


def verdict(growths: Sequence[Growth]) -> str:
    judged = [g for g in growths if g.over_target is not None]
    over = [g.process for g in judged if g.over_target]
    if not judged:
        return "no slope: the run was too short for two samples after the warm-up"
    if over:
        return f"**over {TARGET_MB_PER_HOUR:g} MB/h**: {', '.join(over)}"
    return f"every app and sidecar within {TARGET_MB_PER_HOUR:g} MB/h"


def report(soak: Soak, title: str, plot_name: str) -> str:
    """The soak's report in Markdown: the orders, each process's growth, Redis and the
    streams over time, and the plot."""
    growths = growth(soak.samples, soak.warm_up_seconds)
    ended = ", ".join(f"{status} {n:,}" for status, n in sorted(soak.statuses.items())) or "none"
    lines = [
        f"# {title}", "",
        (f"Flat out, {_figure(soak.capacity, '.1f', ' orders/s')}; then {soak.minutes:g} min at "
         f"{_figure(soak.rate, '.1f', ' orders/s')} (half). Every order of the run: {ended}. The paced orders' "
         f"completion, from when each was due: p50 {_figure(soak.p50_ms, '.0f', ' ms')}, "
         f"p99 {_figure(soak.p99_ms, '.0f', ' ms')}."),
        "",
        (f"Resident memory, sampled {len(soak.samples)} times; the slopes are least-squares fits after the "
        f"warm-up (the first {soak.warm_up_seconds / 60:.1f} min). Target: no app or sidecar grows more than "
        f"{TARGET_MB_PER_HOUR:g} MB/h. Redis is not judged: it keeps every order, and the streams up to "
        "their `maxLenApprox`."), "",
        ("| process | RSS at start (MB) | after the warm-up | at the end | slope after the warm-up (MB/h) | "
        f"over {TARGET_MB_PER_HOUR:g} MB/h |"),
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {g.process} | {g.start_mb:.1f} | {g.warm_mb:.1f} | {g.end_mb:.1f} | "
        f"{'—' if g.mb_per_hour is None else f'{g.mb_per_hour:+.1f}'} | "
        f"{ {None: '—', True: '**yes**', False: 'no'}[g.over_target] } |"
        for g in growths
    ]
    lines += ["", f"Verdict: {verdict(growths)}.", "", *_over_time(soak.samples), "", f"![the soak over time]({plot_name})"]
    if soak.error:
        lines += ["", f"**The run failed**: {soak.error}"]
    return "\n".join(lines) + "\n"


def _figure(value: float, form: str, unit: str) -> str:
    return "not measured" if math.isnan(value) else f"{value:,{form}}{unit}"


def _over_time(samples: Sequence[Sample]) -> list[str]:
    if not samples:
        return ["No samples."]
    streams = sorted({name for sample in samples for name in sample.streams})
    redis_slope = slope_per_hour([(s.seconds, s.redis_used_mb) for s in samples])
    shown = list(samples[:: math.ceil(len(samples) / TABLE_ROWS)])
    if shown[-1] is not samples[-1]:
        shown.append(samples[-1])
    lines = [
        "Redis's used memory and every stream's length (XLEN) over time"
        + ("" if redis_slope is None else f"; used memory grew {redis_slope:+,.1f} MB/h over the run") + ":", "",
        f"| minute | Redis used (MB) | {' | '.join(streams)} | furthest-behind backlog |",
        f"|---|---|{'---|' * len(streams)}---|",
    ]
    lines += [
        f"| {s.seconds / 60:.1f} | {s.redis_used_mb:,.1f} | "
        f"{' | '.join(f'{s.streams.get(name, 0):,}' for name in streams)} | {s.backlog:,} |"
        for s in shown
    ]
    return lines


# The plot: three panels over the same minutes, the warm-up shaded.
WIDTH, PANEL_HEIGHT, LEFT, PLOT_WIDTH, TOP_GAP = 980, 190, 70, 640, 45
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


@dataclass(frozen=True)
class _Frame:
    top: float
    seconds: float
    low: float
    high: float

    def x(self, seconds: float) -> float:
        return LEFT + PLOT_WIDTH * seconds / self.seconds

    def y(self, value: float) -> float:
        return self.top + PANEL_HEIGHT * (1 - (value - self.low) / (self.high - self.low))


def plot(soak: Soak) -> str:
    """An SVG: each process's RSS change since the end of the warm-up, Redis's used memory,
    and every stream's length, over the minutes of the paced orders."""
    samples = soak.samples
    warm = {g.process: g.warm_mb for g in growth(samples, soak.warm_up_seconds)}
    rss = {name: [(s.seconds, s.rss_mb[name] - base) for s in samples if name in s.rss_mb]
           for name, base in warm.items()}
    streams = sorted({name for s in samples for name in s.streams})
    panels = [
        ("RSS change since the end of the warm-up (MB)", rss),
        ("Redis used memory (MB)", {"used_memory": [(s.seconds, s.redis_used_mb) for s in samples]}),
        ("stream length (entries)", {name: [(s.seconds, s.streams.get(name, 0)) for s in samples] for name in streams}),
    ]
    seconds = max([s.seconds for s in samples] + [1.0])
    height = len(panels) * (PANEL_HEIGHT + TOP_GAP + 20) + 20
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>')]
    for i, (title, series) in enumerate(panels):
        top = TOP_GAP + i * (PANEL_HEIGHT + TOP_GAP + 20)
        parts += _panel(title, series, _frame(top, seconds, series), soak.warm_up_seconds)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _frame(top: float, seconds: float, series: Mapping[str, Sequence[tuple[float, float]]]) -> _Frame:
    values = [v for points in series.values() for _, v in points] or [0.0]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1.0
    return _Frame(top, seconds, 0.0 if 0 <= low < pad else low - pad, high + pad)


def _panel(title: str, series: Mapping[str, Sequence[tuple[float, float]]], f: _Frame, warm_up: float) -> list[str]:
    bottom = f.top + PANEL_HEIGHT
    parts = [
        f'<text x="{LEFT}" y="{f.top - 8}" font-size="13">{escape(title)}</text>',
        (f'<rect x="{LEFT}" y="{f.top}" width="{f.x(min(warm_up, f.seconds)) - LEFT:.1f}" height="{PANEL_HEIGHT}" '
        'fill="#eee"/>'),
        f'<rect x="{LEFT}" y="{f.top}" width="{PLOT_WIDTH}" height="{PANEL_HEIGHT}" fill="none" stroke="#888"/>',
        f'<text x="{LEFT + 4}" y="{bottom - 6}" fill="#888">warm-up</text>',
    ]
    for k in range(5):
        value = f.low + (f.high - f.low) * k / 4
        label = f"{value:,.0f}" if f.high - f.low > 100 else f"{value:,.1f}"
        parts.append(f'<text x="{LEFT - 6}" y="{f.y(value) + 4:.1f}" text-anchor="end">{label}</text>')
        minute = f.seconds * k / 4 / 60
        parts.append(f'<text x="{f.x(minute * 60):.1f}" y="{bottom + 14}" text-anchor="middle">{minute:.1f} min</text>')
    apps = sorted({name.removesuffix("-daprd") for name in series})
    for n, (name, points) in enumerate(series.items()):
        app = name.removesuffix("-daprd")
        colour = "#000" if name == REDIS else COLOURS[apps.index(app) % len(COLOURS)]
        dash = ' stroke-dasharray="5,3"' if name.endswith("-daprd") else ""
        line = " ".join(f"{f.x(t):.1f},{f.y(v):.1f}" for t, v in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
        y = f.top + 6 + n * 14
        parts.append(f'<line x1="{LEFT + PLOT_WIDTH + 15}" y1="{y}" x2="{LEFT + PLOT_WIDTH + 40}" y2="{y}" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{LEFT + PLOT_WIDTH + 46}" y="{y + 4}">{escape(name)}</text>')
    return parts
