"""The orders repository: each order's record (history and view) and idempotency keys,
in the orders' state store."""

from common.state import State, Version, Versioned
from contracts.events import Event, OrderRequested
from orders.model import OrderRecord

# Its Dapr state store (components/stores.yaml), scoped to orders alone.
STORE = "orders-store"


class OrderStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def get(self, order_id: str) -> Versioned[OrderRecord] | None:
        found = await self._state.read_with_pending(_order_key(order_id))
        if found is None:
            return None
        return Versioned(OrderRecord.model_validate_json(found.value), found.version)

    async def save(self, record: OrderRecord, version: Version | None, announce: Event | None) -> None:
        """Store the record (if still at `version`; None for a new order) and announce the
        fact, if any: both or neither; ConcurrencyError if it changed since read."""
        await self._state.write_and_announce(_order_key(record.view.order_id), record.model_dump_json(), version, announce)

    async def relay(self, order_id: str, version: Version) -> None:
        """Publish what the order's record, as read, still has pending."""
        await self._state.relay(_order_key(order_id), version)

    async def request(self, command: OrderRequested) -> None:
        """Hand the command to the broker, for the orders app to hear."""
        await self._state.publish(command)

    async def claim_idempotency_key(self, key: str, order_id: str) -> str:
        """Bind `key` to `order_id` unless it is bound already; the bound order id."""
        stored_key = f"idempotency-key/{key}"
        if await self._state.create(stored_key, order_id):
            return order_id
        bound = await self._state.read(stored_key)
        assert bound is not None, "idempotency keys are never deleted"
        return bound.value.decode()


def _order_key(order_id: str) -> str:
    return f"order/{order_id}"
