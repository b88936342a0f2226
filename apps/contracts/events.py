"""Event models: facts in the past tense, immutable, one class per CloudEvent `type`.

Every event's data carries the `order_id` it is about, so a consumer can find the
aggregate to change and a reader can follow one order through every topic.
"""

from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.names import EventType, Topic

class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    quantity: int = Field(ge=1, le=1000)


class Event(BaseModel):
    """Base of every event: immutable, and strict about what it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: ClassVar[Topic]
    type: ClassVar[EventType]

    order_id: str = Field(min_length=1, max_length=64)

    @property
    def event_id(self) -> str:
        """The CloudEvent id: each fact happens at most once per order, so a re-announced
        fact keeps its id and consumers recognise the duplicate."""
        return f"{self.order_id}/{self.type}"


class OrderPlaced(Event):
    topic = Topic.ORDERS
    type = EventType.ORDER_PLACED

    customer_id: str = Field(min_length=1, max_length=64)
    items: tuple[OrderLine, ...] = Field(min_length=1, max_length=50)


class StockReserved(Event):
    topic = Topic.INVENTORY
    type = EventType.STOCK_RESERVED

    items: tuple[OrderLine, ...] = Field(min_length=1)


class StockRejected(Event):
    topic = Topic.INVENTORY
    type = EventType.STOCK_REJECTED

    reason: Literal["out_of_stock", "unknown_sku"]
    skus: tuple[str, ...] = Field(min_length=1, description="the SKUs that could not be reserved")


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
