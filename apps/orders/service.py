"""The orders service: loads orders, applies the pure decisions, stores and announces."""

import logging
from collections.abc import Callable
from typing import Any, Protocol
from uuid import uuid4

from common.delivery import Outcome
from common.state import ConcurrencyError
from contracts.events import CloudEvent, Event, StockRejected, StockReserved
from orders import handlers
from orders.model import Order, OrderStatus, PlaceOrder
from orders.store import OrderStore

log = logging.getLogger("orders")

# Attempts at a read-modify-write before the event goes back to Dapr for a retry.
MAX_ATTEMPTS = 5


class Publisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class OrdersService:
    def __init__(self, store: OrderStore, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher

    async def place(self, command: PlaceOrder, idempotency_key: str | None = None) -> Order:
        order_id = uuid4().hex
        if idempotency_key is not None:
            order_id = await self._store.claim_idempotency_key(idempotency_key, order_id)
        order, placed = handlers.place_order(order_id, command)
        if not await self._store.add(order):
            # A repeated Idempotency-Key: the first order stands.
            stored = await self._store.get(order_id)
            assert stored is not None, "orders are never deleted"
            order = stored.value
            if order.status is not OrderStatus.PENDING:
                return order
            # Still pending: the first request may have stopped before announcing it.
            # The announcement keeps its event id, so consumers see a duplicate at worst.
            placed = handlers.announce_placed(order)
        await self._publisher.publish(placed)
        log.info("order placed", extra={"order_id": order_id, "event_type": placed.type})
        return order

    async def get(self, order_id: str) -> Order | None:
        stored = await self._store.get(order_id)
        return stored.value if stored else None

    async def stock_reserved(self, event: CloudEvent[StockReserved]) -> Outcome:
        return await self._apply(event, lambda order: handlers.on_stock_reserved(order, event.data))

    async def stock_rejected(self, event: CloudEvent[StockRejected]) -> Outcome:
        return await self._apply(event, lambda order: handlers.on_stock_rejected(order, event.data))

    async def _apply(
        self, event: CloudEvent[Any], decide: Callable[[Order], Order | None]
    ) -> Outcome:
        """Apply an event to its order with an ETag-guarded read-modify-write."""
        context = {"order_id": event.data.order_id}
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get(event.data.order_id)
            if stored is None:
                log.warning("dropping an event about an unknown order", extra=context)
                return Outcome.DROP
            moved = decide(stored.value)
            if moved is None:
                log.info("ignoring a late or duplicate event", extra=context)
                return Outcome.SUCCESS
            try:
                await self._store.replace(moved, stored.etag)
            except ConcurrencyError:
                continue
            log.info("order is now %s", moved.status, extra=context)
            return Outcome.SUCCESS
        return Outcome.RETRY
