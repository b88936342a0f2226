"""The soak's slopes, verdict, report and plot, fed by hand (tests/support/soak/report.py)."""

import math
from xml.etree import ElementTree

import pytest

from tests.support.soak.report import (
    REDIS,
    Growth,
    Sample,
    Soak,
    growth,
    plot,
    report,
    slope_per_hour,
    verdict,
)

SVG = "{http://www.w3.org/2000/svg}"


def a_soak(rss: dict[str, list[float]], every: float = 60.0, minutes: float = 10.0) -> Soak:
    """A soak sampled every `every` seconds, each process at the values given in turn."""
    count = len(next(iter(rss.values())))
    samples = [
        Sample(i * every, {name: values[i] for name, values in rss.items() if i < len(values)},
               redis_used_mb=5.0 + i, streams={"orders": 100 * i, "payments": 50 * i}, backlog=i % 3)
        for i in range(count)
    ]
    return Soak(minutes, capacity=60.0, rate=30.0, samples=samples, statuses={"shipped": 900, "cancelled": 100},
                p50_ms=40.0, p99_ms=300.0)


def test_the_slope_is_a_least_squares_fit_in_mb_per_hour() -> None:
    assert slope_per_hour([(0, 100.0), (720, 101.0), (1440, 102.0)]) == pytest.approx(5.0)
    # A saw-tooth is fitted, not judged by its ends (3 MB in 3 minutes would be 60 MB/h).
    assert slope_per_hour([(0, 100.0), (60, 103.0), (120, 100.0), (180, 103.0)]) == pytest.approx(36.0)


def test_no_slope_from_fewer_than_two_moments() -> None:
    assert slope_per_hour([]) is None
    assert slope_per_hour([(60, 100.0), (60, 101.0)]) is None


def test_what_grew_during_the_warm_up_is_left_out_of_the_slope() -> None:
    soak = a_soak({"orders": [60, 80, 90, 90, 90, 90, 90, 90, 90, 90, 90]})

    (orders,) = growth(soak.samples, soak.warm_up_seconds)

    assert (orders.start_mb, orders.warm_mb, orders.end_mb) == (60, 90, 90)
    assert orders.mb_per_hour == pytest.approx(0.0)
    assert orders.over_target is False


def test_growth_past_the_target_is_flagged_and_named_but_redis_is_not_judged() -> None:
    steady = [90.0] * 11
    creeping = [100 + 0.1 * i for i in range(11)]  # 0.1 MB a minute: 6 MB/h
    soak = a_soak({"notifications": creeping, "orders-daprd": steady, REDIS: [20 + i for i in range(11)]})

    found = {g.process: g for g in growth(soak.samples, soak.warm_up_seconds)}

    assert found["notifications"].mb_per_hour == pytest.approx(6.0)
    assert (found["notifications"].over_target, found["orders-daprd"].over_target) == (True, False)
    assert found[REDIS].mb_per_hour == pytest.approx(60.0) and found[REDIS].over_target is None
    assert list(found)[-1] == REDIS
    assert verdict(list(found.values())) == "**over 5 MB/h**: notifications"


def test_a_process_that_died_is_measured_on_the_samples_it_is_in() -> None:
    soak = a_soak({"orders": [90.0] * 11, "payments": [80.0] * 4})

    payments = next(g for g in growth(soak.samples, soak.warm_up_seconds) if g.process == "payments")

    assert payments.end_mb == 80.0 and payments.mb_per_hour == pytest.approx(0.0)


def test_too_short_a_run_gives_no_verdict_rather_than_a_false_one() -> None:
    growths = [Growth("orders", 90, 90, 90, None), Growth(REDIS, 20, 20, 20, 1.0)]

    assert verdict(growths).startswith("no slope")


def test_the_report_has_a_row_per_process_the_streams_over_time_and_the_plot() -> None:
    soak = a_soak({"orders": [90.0] * 11, "orders-daprd": [60.0] * 11, REDIS: [20.0] * 11})

    text = report(soak, "soak, by hand", "latest.svg")

    assert text.startswith("# soak, by hand\n")
    assert "| orders | 90.0 | 90.0 | 90.0 | +0.0 | no |" in text
    assert "| orders-daprd | 60.0 | 60.0 | 60.0 | +0.0 | no |" in text
    assert f"| {REDIS} | 20.0 | 20.0 | 20.0 | +0.0 | — |" in text
    assert "| minute | Redis used (MB) | orders | payments | furthest-behind backlog |" in text
    assert "| 10.0 | 15.0 | 1,000 | 500 | 1 |" in text  # the last sample is always shown
    assert "Verdict: every app and sidecar within 5 MB/h." in text
    assert "![the soak over time](latest.svg)" in text


def test_the_over_time_table_keeps_to_about_a_dozen_rows() -> None:
    text = report(a_soak({"orders": [90.0] * 361}, every=5.0, minutes=30.0), "long", "latest.svg")

    assert 12 <= sum(line.startswith("| ") and line[2].isdigit() and "min" not in line
                     for line in text.split("Redis's used memory")[1].splitlines()) <= 14


def test_a_failed_run_says_so() -> None:
    soak = a_soak({"orders": [90.0] * 3})
    failed = Soak(soak.minutes, 60.0, 30.0, soak.samples, {"shipped": 46, "unfinished": 4}, math.nan, math.nan,
                  error="TimeoutError: 4 of 50")

    text = report(failed, "failed", "latest.svg")

    assert "**The run failed**: TimeoutError: 4 of 50" in text
    assert "shipped 46, unfinished 4" in text and "p50 not measured ms" not in text


def test_the_plot_is_an_svg_with_a_line_per_process_for_redis_and_per_stream() -> None:
    soak = a_soak({"orders": [90.0 + i for i in range(11)], "orders-daprd": [60.0] * 11, REDIS: [20.0] * 11})

    svg = ElementTree.fromstring(plot(soak))

    assert svg.tag == f"{SVG}svg"
    assert len(svg.findall(f"{SVG}polyline")) == 3 + 1 + 2
    labels = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"orders", "orders-daprd", REDIS, "used_memory", "payments", "warm-up"} <= labels
