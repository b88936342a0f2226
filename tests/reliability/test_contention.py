"""Contention: 50 workers at once ordering the same few SKUs, which are short, from two
inventory replicas. Inventory's ETag-guarded writes must sell every unit once and no unit
twice; the conflicts they ran into are counted from the replicas' sidecars."""

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from inventory.store import STORE as INVENTORY_STORE
from tests.integration.flows import TIMEOUT, place_order, settled, stock
from tests.support.sidecars import AppWithSidecar, Ports
from tests.support.system import System, running_apart
from tests.support.waiting import wait_until

WORKERS = 50
ORDERS_PER_WORKER = 2
SHORT = ("kettle-gooseneck", "scale-digital", "grinder-burr")  # 5, 3 and 8 in tests/support/catalogue.json
DRAIN_TIMEOUT = 120
REPLICA_PORTS = Ports(app=8612, dapr_http=3312, dapr_grpc=4312, metrics=9612)  # beside HOSTILE_PORTS


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """This module's own system, which it sells the short SKUs out of, with a second
    inventory replica (stopped with the system). Within a replica, a lock per SKU keeps
    its own deliveries from racing; the two replicas meet at the ETags."""
    with running_apart(tmp_path_factory) as system:
        replica = AppWithSidecar("inventory", REPLICA_PORTS, system.redis_port, system.log_dir, name="inventory-2")
        system.extra.append(replica)
        replica.wait_ready()
        yield system


def lines_of(n: int) -> tuple[tuple[str, int], ...]:
    """Order n: one unit of one short SKU, and every fifth order two SKUs at once (all or
    nothing). Each SKU gets far more single-unit orders than it has units, so it sells out."""
    first = SHORT[n % len(SHORT)]
    return ((first, 1), (SHORT[(n + 1) % len(SHORT)], 1)) if n % 5 == 0 else ((first, 1),)


def failed_writes(system: System) -> float:
    """The inventory replicas' state writes that failed: with ETags, each is a conflict
    that was retried."""
    return sum(
        replica.metric("dapr_component_state_count", component=INVENTORY_STORE, success="false")
        for replica in (system["inventory"], *system.extra)
    )


def test_fifty_workers_on_a_few_short_skus_sell_each_unit_exactly_once(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    initial = {sku: stock(system, sku) for sku in SHORT}
    conflicts_before = failed_writes(system)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        lines = [lines_of(n) for n in range(WORKERS * ORDERS_PER_WORKER)]
        order_ids = list(pool.map(lambda order_lines: place_order(system, *order_lines), lines))
    outcomes = [settled(system, order_id, DRAIN_TIMEOUT) for order_id in order_ids]

    assert Counter((o["status"], o["reason"]) for o in outcomes).keys() <= {
        ("shipped", None), ("cancelled", "out_of_stock")
    }
    sold: Counter[str] = Counter()
    for order_lines, outcome in zip(lines, outcomes, strict=True):
        if outcome["status"] == "shipped":
            sold.update({sku: quantity for sku, quantity in order_lines})
    assert sold == {sku: level["available"] for sku, level in initial.items()}  # no oversell, none unsold
    for sku, level in initial.items():
        wait_until(lambda sku=sku, level=level: stock(system, sku) == {**level, "available": 0, "reserved": 0},
                   TIMEOUT)
    # Reported, not asserted: only the two replicas race (4 in one run), so some runs may
    # see none; the counts above hold either way.
    conflicts = failed_writes(system) - conflicts_before
    with capsys.disabled():
        print(f"\n\n{len(order_ids)} orders from {WORKERS} workers: "
              f"{sum(o['status'] == 'shipped' for o in outcomes)} shipped, "
              f"{sum(o['status'] == 'cancelled' for o in outcomes)} cancelled out of stock; "
              f"sold {dict(sold)}; {conflicts:.0f} ETag conflicts in the two inventory replicas, each retried\n")
