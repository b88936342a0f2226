"""make chaos's black holes, small: orders placed while, for 30 s each, every packet
between Redis and the sidecars, then between payments and its sidecar, is dropped, so
connections hang rather than fail; every order must end shipped or cancelled, once.
It needs root and iptables (tests/support/network.py), and fails without them."""

from pathlib import Path

from tests.support.chaos.audit import report
from tests.support.chaos.plan import BLACK_HOLES
from tests.support.chaos.run import Options, run
from tests.support.network import is_open
from tests.support.system import numbered

# Ports of its own, which only its black holes cut: no other system here loses its Redis.
REDIS_PORT = 6388
PORTS = numbered(app=8800, dapr_http=3400, dapr_grpc=4400, metrics=9900)


def test_orders_survive_black_holes_to_redis_and_to_an_app_with_none_lost_stuck_or_applied_twice(
    tmp_path: Path,
) -> None:
    # Orders for 120 s: each hole opens while they flow, the first closes 10 s before the
    # second opens, and orders flow 10 s past the second.
    figures = run(Options(orders=480, rate=4, faults=BLACK_HOLES), tmp_path, at=(REDIS_PORT, PORTS))
    print(report(figures, "black holes, small"))
    assert [recovery.fault for recovery in figures.recoveries] == list(BLACK_HOLES)
    assert figures.client_retries > 0  # requests hung in the hole to Redis, and were sent again
    assert figures.accepted == figures.placed == 480
    assert (figures.lost, figures.stuck, figures.double_effects) == (0, 0, 0)
    assert all(line.balanced for line in figures.stock) and figures.held_for_finished == 0
    assert figures.pending == {}
    assert not is_open(REDIS_PORT) and not is_open(PORTS["payments"].app)
