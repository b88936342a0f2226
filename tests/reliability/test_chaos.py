"""make chaos, small: orders placed while an app, a sidecar and Redis are SIGKILLed and
restarted, three times each but Redis's once, or while the network to Redis and between
payments and its sidecar drops every packet for 30 s; every order must end shipped or
cancelled, once."""

from pathlib import Path

from tests.support.chaos.audit import report
from tests.support.chaos.plan import BLACK_HOLES, FAULTS
from tests.support.chaos.run import Options, run

KILLS = tuple(fault for fault in FAULTS if not fault.black_hole)


def test_orders_survive_killed_apps_sidecars_and_redis_with_none_lost_stuck_or_applied_twice(
    tmp_path: Path,
) -> None:
    figures = run(Options(orders=200, rate=8, faults=KILLS), tmp_path)
    print(report(figures, "chaos, small"))
    assert figures.accepted == figures.placed == 200
    assert (figures.lost, figures.stuck, figures.double_effects) == (0, 0, 0)
    assert figures.completed > 0 and set(figures.cancelled) == {"out_of_stock", "payment_declined", "unknown_sku"}
    assert all(line.balanced for line in figures.stock) and figures.held_for_finished == 0
    assert figures.pending == {}


def test_orders_ride_out_30_second_black_holes_with_none_lost_stuck_dead_lettered_or_applied_twice(
    tmp_path: Path,
) -> None:
    figures = run(Options(orders=240, rate=4, faults=BLACK_HOLES), tmp_path)
    print(report(figures, "black holes, small"))
    assert figures.accepted == figures.placed == 240
    assert (figures.lost, figures.stuck, figures.double_effects, figures.dead_letters) == (0, 0, 0, 0)
    assert all(line.balanced for line in figures.stock) and figures.held_for_finished == 0
    assert figures.pending == {}
