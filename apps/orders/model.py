"""The Order aggregate and the one rule for moving it through the saga."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import OrderLine


class OrderStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# Ordering rule: an order only moves forward along
#     pending -> reserved -> paid -> shipped
# or to cancelled from any state before shipped. Events may arrive late or twice
# (at-least-once delivery, redelivery after a crash); one that would move an order
# backwards, sideways or out of a final state is recognised here and ignored.
_PROGRESS = [OrderStatus.PENDING, OrderStatus.RESERVED, OrderStatus.PAID, OrderStatus.SHIPPED]
FINAL = frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED})


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    if current in FINAL:
        return False
    if target is OrderStatus.CANCELLED:
        return True
    return _PROGRESS.index(target) > _PROGRESS.index(current)


class PlaceOrder(BaseModel):
    """The command a client sends: POST /orders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(min_length=1, max_length=64)
    # A list, not a tuple: pydantic reports a bad line of a tuple twice (the line, and
    # the tuple as too short), and a 422 should name only the field that is wrong.
    items: list[OrderLine] = Field(min_length=1, max_length=50)


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    items: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None


class OrderAccepted(BaseModel):
    """The answer to POST /orders."""

    order_id: str
    status: OrderStatus
