"""The orders service: loads an order's record, applies the pure decisions, stores the
record and announces what changed, both or neither (common.state's outbox)."""

import logging
from typing import Any
from uuid import uuid4

from common.delivery import Outcome
from common.locks import KeyLocks
from common.state import ConcurrencyError
from contracts.events import CloudEvent, OrderRequested
from orders import decisions
from orders.model import Fact, Order, PlaceOrder
from orders.store import OrderStore

log = logging.getLogger("orders")

# Attempts at a read-modify-write before the event goes back to Dapr for a retry.
MAX_ATTEMPTS = 5


class OrdersService:
    def __init__(self, store: OrderStore) -> None:
        self._store = store
        # One delivery at a time per order: its facts come milliseconds apart (a shipment
        # while its payment is still being written), and would otherwise refuse each
        # other's writes and read again.
        self._orders = KeyLocks()

    async def accept(self, command: PlaceOrder, idempotency_key: str | None = None) -> Order:
        """Make the order durable as a command on the broker, which the orders app hears
        (`place`): a crash after the answer loses nothing, and a client need not retry."""
        order_id = uuid4().hex
        if idempotency_key is not None:
            order_id = await self._store.claim_idempotency_key(idempotency_key, order_id)
            stored = await self._store.get(order_id)
            if stored is not None:  # a repeated Idempotency-Key: the first order stands
                return stored.value.view
        requested, order = decisions.request_order(order_id, command)
        await self._store.request(requested)
        return order

    async def place(self, event: CloudEvent[OrderRequested]) -> Outcome:
        """Store the requested order and announce it placed."""
        context = {"order_id": event.data.order_id}
        async with self._orders.holding([event.data.order_id]):
            stored = await self._store.get(event.data.order_id)
            if stored is not None:
                log.info("order placed before; nothing to do", extra=context)
                await self._store.relay(event.data.order_id, stored.version)
                return Outcome.SUCCESS
            record, placed = decisions.place_order(event.data)
            try:
                await self._store.save(record, version=None, announce=placed)
            except ConcurrencyError:  # placed by another replica: the retry finds it and relays
                return Outcome.RETRY
        log.info("order placed", extra=context)
        return Outcome.SUCCESS

    async def get(self, order_id: str) -> Order | None:
        stored = await self._store.get(order_id)
        return stored.value.view if stored else None

    async def history(self, order_id: str) -> tuple[Fact, ...] | None:
        stored = await self._store.get(order_id)
        return stored.value.history if stored else None

    async def record(self, event: CloudEvent[Any]) -> Outcome:
        """Append a fact about an order to its history, with an ETag-guarded write."""
        context = {"order_id": event.data.order_id}
        async with self._orders.holding([event.data.order_id]):
            for _ in range(MAX_ATTEMPTS):
                stored = await self._store.get(event.data.order_id)
                if stored is None:
                    log.warning("dropping an event about an unknown order", extra=context)
                    return Outcome.DROP
                decision = decisions.record(stored.value, event.id, event.data)
                if decision is None:
                    log.info("ignoring a late or duplicate event", extra=context)
                    await self._store.relay(event.data.order_id, stored.version)
                    return Outcome.SUCCESS
                record, announce = decision
                try:
                    await self._store.save(record, stored.version, announce)
                except ConcurrencyError:
                    continue
                log.info("order is now %s", record.view.status, extra=context)
                return Outcome.SUCCESS
        return Outcome.RETRY
