"""The orders repository: orders and idempotency keys, in the orders' state store."""

from common.state import State, Versioned
from orders.model import Order


class OrderStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def get(self, order_id: str) -> Versioned[Order] | None:
        found = await self._state.read(_order_key(order_id))
        if found is None:
            return None
        return Versioned(Order.model_validate_json(found.value), found.etag)

    async def add(self, order: Order) -> bool:
        """Store a new order; False if one with its id exists already."""
        return await self._state.create(_order_key(order.order_id), order.model_dump_json())

    async def replace(self, order: Order, etag: str) -> None:
        """Store a changed order; ConcurrencyError if it changed since read."""
        await self._state.replace(_order_key(order.order_id), order.model_dump_json(), etag)

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
