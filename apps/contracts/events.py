"""Event models: facts in the past tense, immutable, one class per CloudEvent `type`.

The contract itself is the JSON Schema next to each event in schemas/ (and the AsyncAPI
document that names who sends and receives it); tests/unit/test_contract.py proves these
models accept and refuse what the schemas do.

Every event's data carries the `order_id` it is about and the `customer_id` it is for,
so a consumer finds the aggregate to change and a reader can follow one order, or one
customer, through every topic. Each fact happens at most once per order.
"""

from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.names import EventType, Topic

Id = Field(min_length=1, max_length=64)
Cents = Field(ge=0, strict=True)  # no "12" for 12: the schema says integer


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    quantity: int = Field(ge=1, le=1000, strict=True)


Lines = tuple[OrderLine, ...]


class Event(BaseModel):
    """Base of every event: immutable, and strict about what it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[Topic]
    type: ClassVar[EventType]

    order_id: str = Id
    customer_id: str = Id


class OrderRequested(Event):
    """A command, not a fact: an order accepted at the front door, for the orders app
    itself to place (POST /orders is answered once the broker holds it)."""

    topic, type = Topic.ORDER_REQUESTS, EventType.ORDER_REQUESTED
    items: Lines = Field(min_length=1, max_length=50)


class OrderPlaced(Event):
    topic, type = Topic.ORDERS, EventType.ORDER_PLACED
    items: Lines = Field(min_length=1, max_length=50)


class OrderConfirmed(Event):
    """The order is paid for and will be shipped."""

    topic, type = Topic.ORDERS, EventType.ORDER_CONFIRMED
    amount_cents: int = Cents


CancelReason = Literal["out_of_stock", "unknown_sku", "payment_declined"]


class OrderCancelled(Event):
    topic, type = Topic.ORDERS, EventType.ORDER_CANCELLED
    reason: CancelReason


class StockReserved(Event):
    topic, type = Topic.INVENTORY, EventType.STOCK_RESERVED
    items: Lines = Field(min_length=1)
    amount_cents: int = Cents


class StockRejected(Event):
    topic, type = Topic.INVENTORY, EventType.STOCK_REJECTED
    reason: Literal["out_of_stock", "unknown_sku"]
    skus: tuple[str, ...] = Field(min_length=1, description="the SKUs that could not be reserved")


class StockReleased(Event):
    """Compensation: a reservation given back after the payment failed."""

    topic, type = Topic.INVENTORY, EventType.STOCK_RELEASED
    items: Lines = Field(min_length=1)


class PaymentSucceeded(Event):
    topic, type = Topic.PAYMENTS, EventType.PAYMENT_SUCCEEDED
    payment_id: str = Id
    amount_cents: int = Cents
    items: Lines = Field(min_length=1)


class PaymentFailed(Event):
    topic, type = Topic.PAYMENTS, EventType.PAYMENT_FAILED
    reason: Literal["payment_declined"]
    detail: str = Field(max_length=200)
    amount_cents: int = Cents


class ShipmentScheduled(Event):
    topic, type = Topic.SHIPPING, EventType.SHIPMENT_SCHEDULED
    shipment_id: str = Id
    items: Lines = Field(min_length=1)


EVENTS: dict[EventType, type[Event]] = {
    model.type: model
    for model in (
        OrderRequested, OrderPlaced, OrderConfirmed, OrderCancelled, StockReserved, StockRejected,
        StockReleased, PaymentSucceeded, PaymentFailed, ShipmentScheduled,
    )
}

DataT = TypeVar("DataT", bound=BaseModel)


class CloudEvent(BaseModel, Generic[DataT]):
    """The CloudEvents envelope Dapr delivers: the core attributes, typed `data`.

    Dapr adds attributes of its own (topic, pubsubname, traceparent, ...); they are
    allowed and kept, never required.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    specversion: str
    data: DataT

    def attribute(self, name: str) -> Any:
        """An extension attribute Dapr added (`topic`, `traceparent`, ...), if present."""
        return (self.model_extra or {}).get(name)
