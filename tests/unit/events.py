"""Factories for the tests: contract events, and events wrapped as Dapr delivers them."""

from typing import Any
from uuid import uuid4

from contracts.events import Event, OrderLine, OrderPlaced, StockReserved


def an_order(*lines: tuple[str, int], order_id: str | None = None, customer_id: str = "c-1") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id or uuid4().hex,
        customer_id=customer_id,
        items=tuple(OrderLine(sku=sku, quantity=quantity) for sku, quantity in lines),
    )


def reserved(order: OrderPlaced, amount_cents: int = 2400) -> StockReserved:
    return StockReserved(
        order_id=order.order_id, customer_id=order.customer_id, items=order.items, amount_cents=amount_cents
    )


def delivered(event: Event, event_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """`event` in the CloudEvent envelope a sidecar posts to the app."""
    envelope = {
        "id": event_id or uuid4().hex,
        "source": "test",
        "type": event.type,
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "topic": event.topic,
        "pubsubname": "pubsub",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": event.model_dump(mode="json"),
    }
    return envelope | overrides
