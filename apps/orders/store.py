"""The orders repository over the Dapr state API (store `orders-store`)."""

from typing import Protocol

from dapr.aio.clients import DaprClient

from common.state import StateRepository, Versioned
from contracts.names import ORDERS_STORE
from orders.model import Order


class OrderStore(Protocol):
    async def get(self, order_id: str) -> Versioned[Order] | None: ...

    async def add(self, order: Order) -> bool:
        """Store a new order; False if one with its id exists already."""

    async def replace(self, order: Order, etag: str) -> None:
        """Store a changed order; ConcurrencyError if it changed since read."""

    async def claim_idempotency_key(self, key: str, order_id: str) -> str:
        """Bind `key` to `order_id` unless it is bound already; the bound order id."""


class DaprOrderStore:
    def __init__(self, client: DaprClient) -> None:
        self._state = StateRepository(client, ORDERS_STORE)

    async def get(self, order_id: str) -> Versioned[Order] | None:
        found = await self._state.read(_order_key(order_id))
        if found is None:
            return None
        return Versioned(Order.model_validate_json(found.value), found.etag)

    async def add(self, order: Order) -> bool:
        return await self._state.create(_order_key(order.order_id), order.model_dump_json())

    async def replace(self, order: Order, etag: str) -> None:
        await self._state.replace(_order_key(order.order_id), order.model_dump_json(), etag)

    async def claim_idempotency_key(self, key: str, order_id: str) -> str:
        stored_key = f"idempotency-key/{key}"
        if await self._state.create(stored_key, order_id):
            return order_id
        bound = await self._state.read(stored_key)
        assert bound is not None, "idempotency keys are never deleted"
        return bound.value.decode()


def _order_key(order_id: str) -> str:
    return f"order/{order_id}"
