"""The chaos run's plan and audit, fed by hand: every figure that must be 0 can fail."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.chaos.audit import ABSORBED, FaultRecord, Placement, Snapshot, audit, report
from tests.support.chaos.plan import (
    BLACK_HOLE_SECONDS,
    BLACK_HOLES,
    FAULTS,
    Fault,
    fault_times,
    order_command,
)

APPS = Path(__file__).resolve().parents[2] / "apps"
T0 = 1_000_000.0


def record(order_id: str, status: str, items: list[tuple[str, int]], reason: str | None = None,
           shipped_at: float | None = None) -> dict[str, Any]:
    history = [{"event_id": f"{order_id}/order.placed", "type": "order.placed", "data": {}, "recorded_at": _iso(T0)}]
    if shipped_at is not None:
        history.append({"event_id": "s", "type": "shipment.scheduled", "data": {}, "recorded_at": _iso(shipped_at)})
    view = {"order_id": order_id, "status": status, "reason": reason,
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items]}
    return {"history": history, "view": view}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def event(event_type: str, order_id: str, **data: Any) -> dict[str, Any]:
    return {"id": f"{event_type}-{order_id}-{len(data)}", "type": event_type, "data": {"order_id": order_id, **data}}


def a_clean_run() -> tuple[list[Placement], list[FaultRecord], Snapshot]:
    """Three orders: one shipped (2 tea), one declined, one out of stock; tea started at 10."""
    placements = [Placement("k1", T0, 1, "o1"), Placement("k2", T0 + 1, 3, "o2"), Placement("k3", T0 + 6, 1, "o3")]
    orders = {
        "o1": record("o1", "shipped", [("tea", 2)], shipped_at=T0 + 4),
        "o2": record("o2", "cancelled", [("tea", 1)], reason="payment_declined"),
        "o3": record("o3", "cancelled", [("kettle", 1)], reason="out_of_stock"),
    }
    events = [
        event("payment.succeeded", "o1", payment_id="p1"), event("payment.succeeded", "o1", payment_id="p1"),
        event("shipment.scheduled", "o1", shipment_id="s1"), event("payment.failed", "o2"),
    ]
    snapshot = Snapshot(
        orders=orders, stock={"tea": {"available": 8, "holds": {}}, "kettle": {"available": 0, "holds": {}}},
        catalogue={"tea": 10, "kettle": 0}, events=events, absorbed=4, dead_letters=0, pending={},
    )
    return placements, [FaultRecord(Fault("redis", "redis"), T0 + 0.5, T0 + 2.0)], snapshot


def test_a_clean_run_counts_every_order_and_is_clean() -> None:
    figures = audit(*a_clean_run())
    assert (figures.placed, figures.accepted, figures.client_retries, figures.completed) == (3, 3, 2, 1)
    assert figures.cancelled == {"out_of_stock": 1, "payment_declined": 1}
    assert (figures.lost, figures.stuck, figures.double_effects, figures.duplicate_events) == (0, 0, 0, 1)
    assert all(line.balanced for line in figures.stock) and figures.clean
    (recovery,) = figures.recoveries
    assert (recovery.over_after, recovery.shipping_again_after) == (1.5, None)  # o1 was placed before it


def test_recovery_is_until_an_order_placed_after_the_kill_shipped() -> None:
    placements, _, snapshot = a_clean_run()
    (recovery,) = audit(placements, [FaultRecord(FAULTS[0], T0 - 1, T0)], snapshot).recoveries
    assert recovery.shipping_again_after == pytest.approx(5.0)


def test_a_black_hole_is_timed_from_its_end_until_an_order_placed_in_it_shipped_and_all_before_it_finished() -> None:
    placements, _, snapshot = a_clean_run()  # o1 placed at T0, shipped at T0 + 4; o2 placed at T0 + 1
    holes = [FaultRecord(BLACK_HOLES[0], T0 - 1, T0 + 0.5), FaultRecord(BLACK_HOLES[1], T0 + 0.5, T0 + 3)]
    first, second = audit(placements, holes, snapshot).recoveries
    assert (first.over_after, first.shipping_again_after, first.caught_up_after) == (1.5, 3.5, 3.5)
    assert (second.shipping_again_after, second.caught_up_after) == (None, 1.0)  # o2 was cancelled
    unfinished = Snapshot(**{**vars(snapshot), "orders": {**snapshot.orders, "o2": record("o2", "paid", [("tea", 1)])}})
    assert audit(placements, holes, unfinished).recoveries[1].caught_up_after is None


def test_an_accepted_order_never_stored_is_lost_and_an_unfinished_one_stuck() -> None:
    placements, faults, snapshot = a_clean_run()
    placements += [Placement("k4", T0, 1, "o4"), Placement("k5", T0, 1, "o5"), Placement("k6", T0, 9, None)]
    orders = {**snapshot.orders, "o5": record("o5", "paid", [("tea", 1)])}
    stock = {**snapshot.stock, "tea": {"available": 7, "holds": {"o5": 1}}}
    figures = audit(placements, faults, Snapshot(**{**vars(snapshot), "orders": orders, "stock": stock}))
    assert (figures.placed, figures.accepted, figures.lost, figures.stuck) == (6, 5, 1, 1)
    assert figures.stock_off == 0 and not figures.clean


@pytest.mark.parametrize(
    ("extra_events", "orders", "stock", "field"),
    [
        ([event("payment.succeeded", "o1", payment_id="p2")], {}, {}, "charged_twice"),
        ([event("payment.failed", "o1")], {}, {}, "charged_twice"),
        ([event("shipment.scheduled", "o1", shipment_id="s2")], {}, {}, "shipped_twice"),
        ([], {"o9": record("o9", "pending", [("tea", 1)])}, {}, "placed_twice"),
        ([], {}, {"tea": {"available": 7, "holds": {}}}, "stock_off"),
    ],
)
def test_every_double_effect_is_counted(
    extra_events: list[dict[str, Any]], orders: dict[str, Any], stock: dict[str, Any], field: str
) -> None:
    placements, faults, snapshot = a_clean_run()
    changed = Snapshot(**{**vars(snapshot), "events": [*snapshot.events, *extra_events],
                          "orders": {**snapshot.orders, **orders}, "stock": {**snapshot.stock, **stock}})
    figures = audit(placements, faults, changed)
    assert getattr(figures, field) == 1 and figures.double_effects == 1 and not figures.clean


def test_stock_still_held_for_a_finished_order_or_a_pending_delivery_is_not_clean() -> None:
    placements, faults, snapshot = a_clean_run()
    held = Snapshot(**{**vars(snapshot), "stock": {**snapshot.stock, "tea": {"available": 7, "holds": {"o2": 1}}}})
    assert audit(placements, faults, held).held_for_finished == 1
    left_on_shipped = Snapshot(**{**vars(snapshot), "stock": {**snapshot.stock, "tea": {"available": 8, "holds": {"o1": 2}}}})
    figures = audit(placements, faults, left_on_shipped)
    assert (figures.held_for_finished, figures.stock_off) == (2, 0)  # not counted twice
    pending = Snapshot(**{**vars(snapshot), "pending": {"orders/payments": 2}})
    assert not audit(placements, faults, pending).clean


def test_the_report_has_every_figure_fault_and_sku() -> None:
    placements, faults, snapshot = a_clean_run()
    hole = FaultRecord(BLACK_HOLES[1], T0 + 0.5, T0 + 2.0)
    text = report(audit(placements, [*faults, hole], snapshot), "chaos")
    assert "| **lost** (accepted, never stored) | 0 | 0 |" in text
    assert "| Redis | 1.5 s | — |" in text
    assert "| payments app and its sidecar | 1.5 s | — | 2.0 s |" in text  # o2 placed in it, cancelled
    assert "| tea | 10 | 8 | 0 | 2 | yes |" in text
    assert text.endswith("Verdict: clean.\n")


def test_the_plan_kills_an_app_and_a_sidecar_three_times_and_redis_once_while_orders_flow() -> None:
    kills = [fault for fault in FAULTS if not fault.black_hole]
    assert Counter(fault.kind for fault in kills) == {"app": 3, "sidecar": 3, "redis": 1}
    times = fault_times(400.0)
    assert times == sorted(times) and 0 < times[0] and times[-1] < 400.0


def test_the_plan_black_holes_redis_and_an_app_once_each_with_time_to_recover_before_the_next_fault() -> None:
    assert [fault for fault in FAULTS if fault.black_hole] == list(BLACK_HOLES)
    assert {fault.kind for fault in BLACK_HOLES} == {"redis", "app"}
    times = fault_times(400.0)
    for hole in BLACK_HOLES:
        at = FAULTS.index(hole)
        assert times[at + 1] - times[at] > BLACK_HOLE_SECONDS


def test_the_orders_include_every_way_to_be_cancelled() -> None:
    commands = [order_command(n) for n in range(200)]
    skus = {line["sku"] for command in commands for line in command["items"]}
    assert {"espresso-machine", "kettle-gooseneck", "chaos-unknown"} <= skus
    assert any(command["customer_id"].startswith("blocked-") for command in commands)


@pytest.mark.parametrize(("app_id", "marker"), [(a, m) for a, markers in ABSORBED.items() for m in markers])
def test_every_duplicate_the_audit_counts_is_one_an_app_logs(app_id: str, marker: str) -> None:
    sources = "".join(
        path.read_text() for path in (APPS / app_id).rglob("*")
        if path.suffix in {".py", ".go", ".js"} and "node_modules" not in path.parts
    )
    assert marker in sources
