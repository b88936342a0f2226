"""Names that more than one app, or an app and its YAML, must agree on.

The YAML under components/ spells the same names; tests/unit/test_wiring.py keeps the
two in step.
"""

from enum import StrEnum

PUBSUB = "pubsub"


class Topic(StrEnum):
    """One topic per bounded context; the CloudEvent `type` names the fact."""

    ORDERS = "orders"
    INVENTORY = "inventory"
    PAYMENTS = "payments"
    SHIPPING = "shipping"
    DEAD_LETTERS = "deadletters"
    # Not a context's facts: the orders app's own queue of accepted POST /orders.
    ORDER_REQUESTS = "order-requests"


# The topics that carry facts, each a context's: what the storefront's live view and
# notifications hear.
FACT_TOPICS = frozenset(Topic) - {Topic.DEAD_LETTERS, Topic.ORDER_REQUESTS}


class EventType(StrEnum):
    ORDER_REQUESTED = "order.requested"
    ORDER_PLACED = "order.placed"
    ORDER_CONFIRMED = "order.confirmed"
    ORDER_CANCELLED = "order.cancelled"
    STOCK_RESERVED = "stock.reserved"
    STOCK_REJECTED = "stock.rejected"
    STOCK_RELEASED = "stock.released"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    SHIPMENT_SCHEDULED = "shipment.scheduled"
