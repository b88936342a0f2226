import pytest

from contracts.events import (
    OrderCancelled,
    OrderConfirmed,
    PaymentFailed,
    PaymentSucceeded,
    ShipmentScheduled,
    StockRejected,
)
from contracts.names import EventType
from orders import decisions
from orders.model import OrderRecord, OrderStatus, PlaceOrder, takes
from tests.unit.events import reserved

S, E = OrderStatus, EventType


@pytest.mark.parametrize(
    ("status", "fact", "taken"),
    [
        (S.PENDING, E.STOCK_RESERVED, True),
        (S.PENDING, E.STOCK_REJECTED, True),
        (S.RESERVED, E.PAYMENT_SUCCEEDED, True),
        (S.RESERVED, E.PAYMENT_FAILED, True),
        (S.PAID, E.SHIPMENT_SCHEDULED, True),
        (S.PENDING, E.PAYMENT_SUCCEEDED, True),  # the payment overtook its reservation
        (S.RESERVED, E.STOCK_RESERVED, False),  # a duplicate
        (S.PAID, E.STOCK_RESERVED, False),  # ...and that reservation, arriving late
        (S.PAID, E.PAYMENT_FAILED, False),  # a payment does not fail once it succeeded
        (S.PAID, E.STOCK_REJECTED, False),
        (S.SHIPPED, E.PAYMENT_FAILED, False),  # final
        (S.CANCELLED, E.SHIPMENT_SCHEDULED, False),  # final
    ],
)
def test_an_order_takes_only_facts_of_a_later_stage(status: OrderStatus, fact: EventType, taken: bool) -> None:
    assert takes(status, fact) is taken


def placed() -> tuple[OrderRecord, decisions.OrderPlaced]:
    requested, _ = decisions.request_order("o-1", PlaceOrder(customer_id="c-1", items=[{"sku": "tea", "quantity": 2}]))
    return decisions.place_order(requested)


def follow(record: OrderRecord, *events: decisions.Event) -> OrderRecord:
    for event in events:
        decision = decisions.record(record, f"e-{event.type}", event)
        assert decision is not None, event
        record, _ = decision
    return record


def test_placing_an_order_starts_its_history_and_announces_it() -> None:
    record, event = placed()
    assert (event.order_id, event.customer_id, [line.sku for line in event.items]) == ("o-1", "c-1", ["tea"])
    assert [fact.type for fact in record.history] == ["order.placed"]
    assert record.view.status is S.PENDING


def test_the_happy_path_ends_shipped_and_announces_the_confirmation() -> None:
    record, order = placed()
    record = follow(record, reserved(order))
    paid = PaymentSucceeded(order_id="o-1", customer_id="c-1", payment_id="p-1", amount_cents=2400, items=order.items)
    decision = decisions.record(record, "e-paid", paid)
    assert decision is not None
    record, announced = decision
    assert announced == OrderConfirmed(order_id="o-1", customer_id="c-1", amount_cents=2400)
    record = follow(record, ShipmentScheduled(order_id="o-1", customer_id="c-1", shipment_id="s-1", items=order.items))
    assert (record.view.status, record.view.payment_id, record.view.shipment_id) == (S.SHIPPED, "p-1", "s-1")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (StockRejected(order_id="o-1", customer_id="c-1", reason="out_of_stock", skus=("tea",)), "out_of_stock"),
        (PaymentFailed(order_id="o-1", customer_id="c-1", reason="payment_declined", detail="no", amount_cents=1), "payment_declined"),
    ],
)
def test_a_rejection_or_a_decline_cancels_and_announces_it(event: decisions.Event, reason: str) -> None:
    record, _ = placed()
    decision = decisions.record(record, "e-1", event)
    assert decision is not None
    record, announced = decision
    assert (record.view.status, record.view.reason) == (S.CANCELLED, reason)
    assert announced == OrderCancelled(order_id="o-1", customer_id="c-1", reason=reason)


def test_a_repeated_event_id_changes_nothing() -> None:
    record, order = placed()
    record = follow(record, reserved(order))
    assert decisions.record(record, "e-stock.reserved", reserved(order)) is None


def test_a_late_event_changes_nothing_even_with_a_new_id() -> None:
    record, order = placed()
    record = follow(record, reserved(order))
    late = StockRejected(order_id="o-1", customer_id="c-1", reason="out_of_stock", skus=("tea",))
    shipped = ShipmentScheduled(order_id="o-1", customer_id="c-1", shipment_id="s-1", items=order.items)
    record = follow(record, shipped)
    assert decisions.record(record, "e-late", late) is None


def test_rebuilding_from_the_history_gives_the_stored_view() -> None:
    record, order = placed()
    record = follow(
        record,
        reserved(order),
        PaymentFailed(order_id="o-1", customer_id="c-1", reason="payment_declined", detail="no", amount_cents=1),
    )
    assert decisions.rebuild(record.history) == record.view


def test_a_shipment_that_overtook_its_payment_ships_the_order_and_confirms_it() -> None:
    record, order = placed()
    record = follow(record, reserved(order, amount_cents=2400))
    shipped = ShipmentScheduled(order_id="o-1", customer_id="c-1", shipment_id="s-1", items=order.items)
    decision = decisions.record(record, "e-shipped", shipped)
    assert decision is not None
    record, announced = decision
    assert record.view.status is S.SHIPPED
    assert announced == OrderConfirmed(order_id="o-1", customer_id="c-1", amount_cents=2400)
    paid = PaymentSucceeded(order_id="o-1", customer_id="c-1", payment_id="p-1", amount_cents=2400, items=order.items)
    assert decisions.record(record, "e-paid", paid) is None  # late: it changes nothing


def test_a_shipment_after_its_payment_announces_nothing_more() -> None:
    record, order = placed()
    paid = PaymentSucceeded(order_id="o-1", customer_id="c-1", payment_id="p-1", amount_cents=2400, items=order.items)
    record = follow(record, reserved(order), paid)
    shipped = ShipmentScheduled(order_id="o-1", customer_id="c-1", shipment_id="s-1", items=order.items)
    decision = decisions.record(record, "e-shipped", shipped)
    assert decision is not None and decision[1] is None


def test_a_payment_that_overtook_its_reservation_confirms_the_amount_charged() -> None:
    record, order = placed()
    paid = PaymentSucceeded(order_id="o-1", customer_id="c-1", payment_id="p-1", amount_cents=2400, items=order.items)
    decision = decisions.record(record, "e-paid", paid)
    assert decision is not None
    record, announced = decision
    assert (record.view.status, record.view.amount_cents) == (S.PAID, 2400)
    assert announced == OrderConfirmed(order_id="o-1", customer_id="c-1", amount_cents=2400)
