from contracts.events import OrderLine, StockRejected, StockReserved
from inventory.handlers import hold, plan_reservation
from inventory.model import StockLevel
from tests.unit.events import an_order


def levels(**available: int) -> dict[str, StockLevel]:
    return {sku: StockLevel(sku=sku, available=units) for sku, units in available.items()}


def test_reserves_every_line_when_all_are_in_stock() -> None:
    order = an_order(("tea", 2), ("mug", 1))
    plan = plan_reservation(order, levels(tea=5, mug=1))
    assert plan.outcome == StockReserved(order_id=order.order_id, items=order.items)
    assert plan.changes["tea"].available == 3
    assert plan.changes["tea"].reserved == 2
    assert plan.changes["mug"].holds == {order.order_id: 1}


def test_reserves_nothing_when_one_line_is_short() -> None:
    order = an_order(("tea", 2), ("mug", 2))
    plan = plan_reservation(order, levels(tea=5, mug=1))
    assert plan.outcome == StockRejected(order_id=order.order_id, reason="out_of_stock", skus=("mug",))
    assert plan.changes == {}


def test_rejects_unknown_skus() -> None:
    order = an_order(("tea", 1), ("caviar", 1))
    plan = plan_reservation(order, levels(tea=5))
    assert plan.outcome == StockRejected(order_id=order.order_id, reason="unknown_sku", skus=("caviar",))
    assert plan.changes == {}


def test_lines_for_the_same_sku_add_up() -> None:
    order = an_order(("tea", 2), ("tea", 2))
    assert isinstance(plan_reservation(order, levels(tea=3)).outcome, StockRejected)
    plan = plan_reservation(order, levels(tea=4))
    assert plan.outcome == StockReserved(order_id=order.order_id, items=(OrderLine(sku="tea", quantity=4),))
    assert plan.changes["tea"].available == 0


def test_holds_from_an_interrupted_attempt_are_not_taken_twice() -> None:
    order = an_order(("tea", 2), ("mug", 1))
    current = levels(tea=5, mug=1)
    current["tea"] = hold(current["tea"], order.order_id, 2)
    plan = plan_reservation(order, current)
    assert isinstance(plan.outcome, StockReserved)
    assert set(plan.changes) == {"mug"}


def test_a_rejection_releases_holds_from_an_interrupted_attempt() -> None:
    order = an_order(("tea", 2), ("mug", 2))
    current = levels(tea=5, mug=1)
    current["tea"] = hold(current["tea"], order.order_id, 2)
    plan = plan_reservation(order, current)
    assert isinstance(plan.outcome, StockRejected)
    assert plan.changes["tea"] == StockLevel(sku="tea", available=5)
