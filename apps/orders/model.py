"""The Order aggregate: its status rule, its history of facts, and its view."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import OrderLine
from contracts.names import EventType


class OrderStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# Ordering rule. The saga has stages, and every fact the orders service hears belongs
# to one: stock is reserved or rejected (1), the payment succeeds or fails (2), the
# shipment is scheduled (3). An order takes a fact only if the fact's stage is beyond the
# order's own, and takes nothing once shipped or cancelled. Events arrive late, twice or
# out of order (at-least-once delivery over several topics): a payment that overtook its
# reservation still moves the order on, and the reservation arriving after it is
# recognised as late and ignored; so is a duplicate.
_STAGE = {OrderStatus.PENDING: 0, OrderStatus.RESERVED: 1, OrderStatus.PAID: 2, OrderStatus.SHIPPED: 3}
FACT_STAGE = {
    EventType.STOCK_RESERVED: 1,
    EventType.STOCK_REJECTED: 1,
    EventType.PAYMENT_SUCCEEDED: 2,
    EventType.PAYMENT_FAILED: 2,
    EventType.SHIPMENT_SCHEDULED: 3,
}
FINAL = frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED})


def takes(status: OrderStatus, fact: EventType) -> bool:
    return status not in FINAL and FACT_STAGE[fact] > _STAGE[status]


class PlaceOrder(BaseModel):
    """The command a client sends: POST /orders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(min_length=1, max_length=64)
    # A list, not a tuple: pydantic reports a bad line of a tuple twice (the line, and
    # the tuple as too short), and a 422 should name only the field that is wrong.
    items: list[OrderLine] = Field(min_length=1, max_length=50)


class Order(BaseModel):
    """The view of an order: what GET /orders/{order_id} answers."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    items: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None
    amount_cents: int | None = None
    payment_id: str | None = None
    shipment_id: str | None = None


class Fact(BaseModel):
    """One entry of an order's history: a fact that changed it, as it arrived."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    type: EventType
    data: dict[str, Any]
    recorded_at: datetime


class OrderRecord(BaseModel):
    """What is stored under one key: the append-only history and the view it folds to.

    Both live in one key so one ETag-guarded write changes them together."""

    model_config = ConfigDict(frozen=True)

    history: tuple[Fact, ...]
    view: Order


class OrderAccepted(BaseModel):
    """The answer to POST /orders."""

    order_id: str
    status: OrderStatus
