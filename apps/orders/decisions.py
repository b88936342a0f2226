"""Pure decisions of the orders service: a command or an event in; the order's new
history, its view, and the fact to announce out."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.events import (
    EVENTS,
    Event,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderRequested,
)
from contracts.names import EventType
from orders.model import Fact, Order, OrderRecord, OrderStatus, PlaceOrder, takes


def request_order(order_id: str, command: PlaceOrder) -> tuple[OrderRequested, Order]:
    """The command that makes a client's order durable, and the order as it will be placed."""
    requested = OrderRequested(order_id=order_id, customer_id=command.customer_id, items=tuple(command.items))
    return requested, Order(order_id=order_id, customer_id=command.customer_id, items=requested.items)


def place_order(requested: OrderRequested) -> tuple[OrderRecord, OrderPlaced]:
    placed = OrderPlaced(order_id=requested.order_id, customer_id=requested.customer_id, items=requested.items)
    history = (_fact(f"{placed.order_id}/{placed.type}", placed),)
    return OrderRecord(history=history, view=rebuild(history)), placed


def record(current: OrderRecord, event_id: str, event: Event) -> tuple[OrderRecord, Event | None] | None:
    """The order with `event` appended and the fact to announce, if any; None when the
    event changes nothing (a duplicate, or late: see the ordering rule in model.py)."""
    if any(fact.event_id == event_id for fact in current.history):
        return None
    moved = _move(current.view, event)
    if moved is None:
        return None
    history = (*current.history, _fact(event_id, event))
    return OrderRecord(history=history, view=moved), _announcement(current.view, moved)


def rebuild(history: tuple[Fact, ...]) -> Order:
    """The view as a fold of the history: the first fact creates the order, each next
    one moves it."""
    first, *rest = (EVENTS[fact.type].model_validate(fact.data) for fact in history)
    assert isinstance(first, OrderPlaced), "an order's history starts with order.placed"
    order = Order(order_id=first.order_id, customer_id=first.customer_id, items=first.items)
    for event in rest:
        order = _move(order, event) or order
    return order


# What each fact the orders service hears does to an order.
_TRANSITIONS: dict[EventType, Callable[[Any], dict[str, Any]]] = {
    EventType.STOCK_RESERVED: lambda e: {"status": OrderStatus.RESERVED, "amount_cents": e.amount_cents},
    EventType.STOCK_REJECTED: lambda e: {"status": OrderStatus.CANCELLED, "reason": e.reason},
    EventType.PAYMENT_SUCCEEDED: lambda e: {
        "status": OrderStatus.PAID, "payment_id": e.payment_id, "amount_cents": e.amount_cents,
    },
    EventType.PAYMENT_FAILED: lambda e: {"status": OrderStatus.CANCELLED, "reason": e.reason},
    EventType.SHIPMENT_SCHEDULED: lambda e: {"status": OrderStatus.SHIPPED, "shipment_id": e.shipment_id},
}


def _move(order: Order, event: Event) -> Order | None:
    if not takes(order.status, event.type):
        return None
    return order.model_copy(update=_TRANSITIONS[event.type](event))


def _announcement(before: Order, order: Order) -> Event | None:
    """The orders service announces that an order is confirmed (paid) or cancelled. A
    shipment that overtook its payment confirms the order too: it was paid, or it would
    not have shipped, and the payment arriving after it is late and changes nothing."""
    confirmed = order.status is OrderStatus.PAID or (
        order.status is OrderStatus.SHIPPED and before.status is not OrderStatus.PAID
    )
    if confirmed:
        return OrderConfirmed(
            order_id=order.order_id, customer_id=order.customer_id, amount_cents=order.amount_cents or 0
        )
    if order.status is OrderStatus.CANCELLED:
        return OrderCancelled(order_id=order.order_id, customer_id=order.customer_id, reason=order.reason)
    return None


def _fact(event_id: str, event: Event) -> Fact:
    return Fact(event_id=event_id, type=event.type, data=event.model_dump(mode="json"), recorded_at=datetime.now(UTC))
