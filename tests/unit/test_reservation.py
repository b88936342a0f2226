from contracts.events import OrderLine, StockRejected, StockReleased, StockReserved
from inventory.decisions import hold, plan_release, plan_reservation, plan_shipment
from inventory.model import StockLevel
from tests.unit.events import an_order

PRICES = {"tea": 1200, "mug": 1800}


def levels(**available: int) -> dict[str, StockLevel]:
    return {sku: StockLevel(sku=sku, available=units, price_cents=PRICES[sku]) for sku, units in available.items()}


def test_reserves_every_line_when_all_are_in_stock_and_prices_the_order() -> None:
    order = an_order(("tea", 2), ("mug", 1))
    plan = plan_reservation(order, levels(tea=5, mug=1))
    assert plan.outcome == StockReserved(
        order_id=order.order_id, customer_id="c-1", items=order.items, amount_cents=2 * 1200 + 1800
    )
    assert (plan.changes["tea"].available, plan.changes["tea"].reserved) == (3, 2)
    assert plan.changes["mug"].holds == {order.order_id: 1}


def test_reserves_nothing_when_one_line_is_short() -> None:
    order = an_order(("tea", 2), ("mug", 2))
    plan = plan_reservation(order, levels(tea=5, mug=1))
    assert plan.outcome == StockRejected(order_id=order.order_id, customer_id="c-1", reason="out_of_stock", skus=("mug",))
    assert plan.changes == {}


def test_rejects_unknown_skus() -> None:
    order = an_order(("tea", 1), ("caviar", 1))
    plan = plan_reservation(order, levels(tea=5))
    assert plan.outcome == StockRejected(order_id=order.order_id, customer_id="c-1", reason="unknown_sku", skus=("caviar",))
    assert plan.changes == {}


def test_lines_for_the_same_sku_add_up() -> None:
    order = an_order(("tea", 2), ("tea", 2))
    assert isinstance(plan_reservation(order, levels(tea=3)).outcome, StockRejected)
    plan = plan_reservation(order, levels(tea=4))
    assert isinstance(plan.outcome, StockReserved)
    assert plan.outcome.items == (OrderLine(sku="tea", quantity=4),)
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
    assert plan.changes["tea"] == levels(tea=5)["tea"]


def test_a_release_gives_back_exactly_what_was_held() -> None:
    order = an_order(("tea", 2))
    held = plan_reservation(order, levels(tea=5))
    assert isinstance(held.outcome, StockReserved)
    changes, released = plan_release(held.outcome, dict(held.changes))
    assert changes["tea"] == levels(tea=5)["tea"]
    assert released == StockReleased(order_id=order.order_id, customer_id="c-1", items=order.items)
    assert plan_release(held.outcome, dict(changes))[0] == {}  # released already: nothing more


def test_shipped_stock_leaves_without_coming_back() -> None:
    order = an_order(("tea", 2))
    held = plan_reservation(order, levels(tea=5)).changes
    shipped = plan_shipment(order.order_id, dict(held))
    assert (shipped["tea"].available, shipped["tea"].reserved) == (3, 0)
