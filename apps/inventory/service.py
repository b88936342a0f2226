"""The inventory service: loads stock, applies the pure decisions, stores the stock and
announces what it decided, the announcement in one write with its record."""

import logging
from collections.abc import Iterable, Mapping

from common.delivery import Outcome
from common.locks import KeyLocks
from common.state import ConcurrencyError, Versioned
from contracts.events import CloudEvent, OrderPlaced, PaymentFailed, ShipmentScheduled
from inventory import decisions
from inventory.model import CatalogueEntry, StockLevel
from inventory.store import StockStore

log = logging.getLogger("inventory")

# Attempts at a read-modify-write before the event goes back to Dapr for a retry.
MAX_ATTEMPTS = 5


class InventoryService:
    def __init__(self, store: StockStore) -> None:
        self._store = store
        # One write at a time per SKU: with a hundred deliveries in flight for the same
        # few SKUs, they otherwise spend every attempt on each other's ETags and go to the
        # dead letters (make chaos, after a backlog).
        self._skus = KeyLocks()

    async def load_catalogue(self, catalogue: Mapping[str, CatalogueEntry]) -> None:
        """Create the SKUs that do not exist yet; levels already stored are kept."""
        for sku, entry in catalogue.items():
            await self._store.add(StockLevel(sku=sku, available=entry.available, price_cents=entry.price_cents))

    async def stock_of(self, skus: Iterable[str]) -> list[StockLevel]:
        """The levels of those of `skus` that exist, in the order asked."""
        skus = list(skus)
        found = await self._store.levels(skus)
        return [found[sku].value for sku in skus if sku in found]

    async def order_placed(self, event: CloudEvent[OrderPlaced]) -> Outcome:
        """Reserve the order's stock, all or nothing, and answer reserved or rejected."""
        order = event.data
        async with self._skus.holding(line.sku for line in order.items):
            for _ in range(MAX_ATTEMPTS):
                answered = await self._store.reservation(order.order_id)
                if answered is not None:
                    log.info("order answered before; nothing to do", extra={"order_id": order.order_id})
                    await self._store.relay(order.order_id, answered.version)
                    return Outcome.SUCCESS
                stored = await self._store.levels(line.sku for line in order.items)
                plan = decisions.plan_reservation(order, _values(stored))
                try:
                    await self._write(plan.changes, stored)
                    await self._store.save_reservation(order.order_id, plan.answer, None, announce=plan.outcome)
                except ConcurrencyError:
                    continue
                log.info("answered with %s", plan.outcome.type, extra={"order_id": order.order_id})
                return Outcome.SUCCESS
        return _conflicted(order.order_id)

    async def payment_failed(self, event: CloudEvent[PaymentFailed]) -> Outcome:
        """Compensation: give the order's reserved stock back and announce it."""
        order_id = event.data.order_id
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.reservation(order_id)
            if stored is None or stored.value.reserved is None or stored.value.released:
                log.info("nothing held for the order", extra={"order_id": order_id})
                if stored is not None:
                    await self._store.relay(order_id, stored.version)
                return Outcome.SUCCESS
            reserved = stored.value.reserved
            async with self._skus.holding(line.sku for line in reserved.items):
                levels = await self._store.levels(line.sku for line in reserved.items)
                changes, released = decisions.plan_release(reserved, _values(levels))
                try:
                    await self._write(changes, levels)
                    done = stored.value.model_copy(update={"released": True})
                    await self._store.save_reservation(order_id, done, stored.version, announce=released)
                except ConcurrencyError:
                    continue
            log.info("released the order's stock", extra={"order_id": order_id})
            return Outcome.SUCCESS
        return _conflicted(order_id)

    async def shipment_scheduled(self, event: CloudEvent[ShipmentScheduled]) -> Outcome:
        """Shipped stock leaves the shop: the order's holds are dropped."""
        order_id = event.data.order_id
        async with self._skus.holding(line.sku for line in event.data.items):
            for _ in range(MAX_ATTEMPTS):
                stored = await self._store.reservation(order_id)
                if stored is None or stored.value.shipped:
                    log.info("shipment heard before; nothing to do", extra={"order_id": order_id})
                    if stored is not None:
                        await self._store.relay(order_id, stored.version)
                    return Outcome.SUCCESS
                levels = await self._store.levels(line.sku for line in event.data.items)
                try:
                    await self._write(decisions.plan_shipment(order_id, _values(levels)), levels)
                    done = stored.value.model_copy(update={"shipped": True})
                    await self._store.save_reservation(order_id, done, stored.version)
                except ConcurrencyError:
                    continue
                log.info("the order's stock has shipped", extra={"order_id": order_id})
                return Outcome.SUCCESS
        return _conflicted(order_id)

    async def _write(self, changes: decisions.Changes, read: Mapping[str, Versioned[StockLevel]]) -> None:
        # One SKU at a time, in a fixed order; a conflict restarts the caller from a fresh
        # read, which sees the holds this attempt has already written.
        for sku in sorted(changes):
            await self._store.replace(changes[sku], read[sku].version)


def _conflicted(order_id: str) -> Outcome:
    log.warning("the stock kept changing under us; Dapr will retry", extra={"order_id": order_id})
    return Outcome.RETRY


def _values(stored: Mapping[str, Versioned[StockLevel]]) -> dict[str, StockLevel]:
    return {sku: versioned.value for sku, versioned in stored.items()}
