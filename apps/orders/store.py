"""The orders repository: each order's record (history and view) and idempotency keys,
in the orders' state store."""

from common.state import State, Versioned
from contracts.events import Event
from orders.model import OrderRecord


class OrderStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def get(self, order_id: str) -> Versioned[OrderRecord] | None:
        found = await self._state.read(_order_key(order_id))
        if found is None:
            return None
        return Versioned(OrderRecord.model_validate_json(found.value), found.etag)

    async def save(self, record: OrderRecord, etag: str | None, announce: Event | None) -> None:
        """Store the record (guarded by `etag`; None for a new order), and announce the
        fact, if any, in the same transaction; ConcurrencyError if it changed since read."""
        key, data = _order_key(record.view.order_id), record.model_dump_json()
        if announce is not None:
            await self._state.write_and_announce(key, data, etag, announce)
        else:
            assert etag is not None, "a new order is always announced"
            await self._state.replace(key, data, etag)

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
