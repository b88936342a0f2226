"""Factories for the tests: contract events wrapped as Dapr delivers them."""

from typing import Any
from uuid import uuid4

from contracts.events import Event, OrderLine, OrderPlaced


def an_order(*lines: tuple[str, int], order_id: str | None = None) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id or uuid4().hex,
        customer_id="c-1",
        items=tuple(OrderLine(sku=sku, quantity=quantity) for sku, quantity in lines),
    )


def delivered(event: Event, **overrides: Any) -> dict[str, Any]:
    """`event` in the CloudEvent envelope a sidecar posts to the app."""
    envelope = {
        "id": event.event_id,
        "source": "test",
        "type": event.type,
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "topic": event.topic,
        "pubsubname": "pubsub",
        "data": event.model_dump(mode="json"),
    }
    return envelope | overrides
