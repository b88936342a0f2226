"""The inventory repository: stock levels and reservations, in inventory's state store."""

from collections.abc import Iterable

from common.state import State, Version, Versioned
from contracts.events import Event
from inventory.model import Reservation, StockLevel

# Its Dapr state store (components/stores.yaml), scoped to inventory alone.
STORE = "inventory-store"


class StockStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def levels(self, skus: Iterable[str]) -> dict[str, Versioned[StockLevel]]:
        """The levels of the SKUs that exist, by SKU."""
        found = await self._state.read_many(_level_key(sku) for sku in set(skus))
        levels = (Versioned(StockLevel.model_validate_json(v.value), v.version) for v in found.values())
        return {level.value.sku: level for level in levels}

    async def add(self, level: StockLevel) -> bool:
        """Store a new SKU; False if it exists already (its level is left as it is)."""
        return await self._state.create(_level_key(level.sku), level.model_dump_json())

    async def replace(self, level: StockLevel, version: Version) -> None:
        """Store a changed level; ConcurrencyError if it changed since read."""
        await self._state.replace(_level_key(level.sku), level.model_dump_json(), version)

    async def reservation(self, order_id: str) -> Versioned[Reservation] | None:
        found = await self._state.read_with_pending(_reservation_key(order_id))
        if found is None:
            return None
        return Versioned(Reservation.model_validate_json(found.value), found.version)

    async def save_reservation(
        self, order_id: str, reservation: Reservation, version: Version | None, announce: Event | None = None
    ) -> None:
        """Store the reservation (if still at `version`; None for a new one) and announce
        the fact, if any: both or neither; ConcurrencyError if it changed since read."""
        key, data = _reservation_key(order_id), reservation.model_dump_json()
        await self._state.write_and_announce(key, data, version, announce)

    async def relay(self, order_id: str, version: Version) -> None:
        """Publish what the order's reservation, as read, still has pending."""
        await self._state.relay(_reservation_key(order_id), version)


def _level_key(sku: str) -> str:
    return f"stock/{sku}"


def _reservation_key(order_id: str) -> str:
    return f"reservation/{order_id}"
