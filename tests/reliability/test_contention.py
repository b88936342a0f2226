"""Contention: 50 workers at once ordering the same few SKUs, which are short. Inventory's
ETag-guarded writes must sell every unit once and no unit twice; the conflicts they ran
into are counted from inventory's sidecar."""

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from contracts.names import INVENTORY_STORE
from tests.integration.flows import TIMEOUT, place_order, settled, stock
from tests.support.system import System, running_apart
from tests.support.waiting import wait_until

WORKERS = 50
ORDERS_PER_WORKER = 2
SHORT = ("kettle-gooseneck", "scale-digital", "grinder-burr")  # 5, 3 and 8 in tests/support/catalogue.json
DRAIN_TIMEOUT = 120


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """This module's own system: it sells the short SKUs out."""
    with running_apart(tmp_path_factory) as system:
        yield system


def lines_of(n: int) -> tuple[tuple[str, int], ...]:
    """Order n: one unit of one short SKU, and every fifth order two SKUs at once (all or
    nothing). Each SKU gets far more single-unit orders than it has units, so it sells out."""
    first = SHORT[n % len(SHORT)]
    return ((first, 1), (SHORT[(n + 1) % len(SHORT)], 1)) if n % 5 == 0 else ((first, 1),)


def failed_writes(system: System) -> float:
    """inventory's state writes that failed: with ETags, each is a conflict that was retried."""
    return system["inventory"].metric("dapr_component_state_count", component=INVENTORY_STORE, success="false")


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
    conflicts = failed_writes(system) - conflicts_before
    with capsys.disabled():
        print(f"\n\n{len(order_ids)} orders from {WORKERS} workers: "
              f"{sum(o['status'] == 'shipped' for o in outcomes)} shipped, "
              f"{sum(o['status'] == 'cancelled' for o in outcomes)} cancelled out of stock; "
              f"sold {dict(sold)}; {conflicts:.0f} ETag conflicts in inventory, each retried\n")
    assert conflicts > 0  # the workers did contend: the ETags, not luck, kept the counts
