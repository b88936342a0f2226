"""make chaos, small: orders placed while an app, a sidecar and Redis are SIGKILLed and
restarted, three times each but Redis's once; every order must end shipped or cancelled,
once. make chaos's black holes are left out: a delivery that fails for all of a 30 s hole
outlasts the inbound retries and is dead-lettered (docs/reliability.md: Chaos)."""

from pathlib import Path

from tests.support.chaos.audit import report
from tests.support.chaos.plan import FAULTS
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
