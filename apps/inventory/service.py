"""The inventory service: loads stock, applies the pure decisions, stores and announces."""

import logging
from collections.abc import Mapping
from typing import Protocol

from common.delivery import Outcome
from common.state import ConcurrencyError
from contracts.events import CloudEvent, Event, OrderPlaced
from inventory import handlers
from inventory.model import StockLevel
from inventory.store import StockStore

log = logging.getLogger("inventory")

# Attempts at a reservation before the event goes back to Dapr for a retry.
MAX_ATTEMPTS = 5


class Publisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class InventoryService:
    def __init__(self, store: StockStore, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher

    async def load_catalogue(self, catalogue: Mapping[str, int]) -> None:
        """Create the SKUs that do not exist yet; levels already stored are kept."""
        for sku, available in catalogue.items():
            await self._store.add(StockLevel(sku=sku, available=available))

    async def stock(self, sku: str) -> StockLevel | None:
        found = await self._store.levels([sku])
        return found[sku].value if sku in found else None

    async def order_placed(self, event: CloudEvent[OrderPlaced]) -> Outcome:
        order = event.data
        context = {"order_id": order.order_id}
        for _ in range(MAX_ATTEMPTS):
            # A redelivered order: it was answered, so announce the same answer again.
            answered = await self._store.outcome(order.order_id)
            if answered is not None:
                log.info("order answered before; announcing it again", extra=context)
                await self._publisher.publish(answered)
                return Outcome.SUCCESS

            stored = await self._store.levels(line.sku for line in order.items)
            plan = handlers.plan_reservation(order, {sku: v.value for sku, v in stored.items()})
            try:
                # One SKU at a time, in a fixed order; a conflict restarts from a fresh read,
                # which sees the holds this attempt has already written.
                for sku in sorted(plan.changes):
                    await self._store.replace(plan.changes[sku], stored[sku].etag)
            except ConcurrencyError:
                continue
            outcome = await self._store.record_outcome(plan.outcome)
            await self._publisher.publish(outcome)
            log.info("answered with %s", outcome.type, extra=context)
            return Outcome.SUCCESS
        return Outcome.RETRY
