"""Names that more than one app, or an app and its YAML, must agree on.

The YAML under components/ spells the same names; tests/unit/test_wiring.py keeps the
two in step.
"""

from enum import StrEnum

PUBSUB = "pubsub"
ORDERS_STORE = "orders-store"
INVENTORY_STORE = "inventory-store"


class Topic(StrEnum):
    """One topic per bounded context; the CloudEvent `type` names the fact."""

    ORDERS = "orders"
    INVENTORY = "inventory"
    DEAD_LETTERS = "deadletters"


class EventType(StrEnum):
    ORDER_PLACED = "order.placed"
    STOCK_RESERVED = "stock.reserved"
    STOCK_REJECTED = "stock.rejected"
