"""The inventory repository: stock levels and reservations, in inventory's state store."""

from collections.abc import Iterable

from common.state import State, Versioned
from contracts.events import Event
from inventory.model import Reservation, StockLevel


class StockStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def levels(self, skus: Iterable[str]) -> dict[str, Versioned[StockLevel]]:
        """The levels of the SKUs that exist, by SKU."""
        found = await self._state.read_many(_level_key(sku) for sku in set(skus))
        levels = (Versioned(StockLevel.model_validate_json(v.value), v.etag) for v in found.values())
        return {level.value.sku: level for level in levels}

    async def add(self, level: StockLevel) -> bool:
        """Store a new SKU; False if it exists already (its level is left as it is)."""
        return await self._state.create(_level_key(level.sku), level.model_dump_json())

    async def replace(self, level: StockLevel, etag: str) -> None:
        """Store a changed level; ConcurrencyError if it changed since read."""
        await self._state.replace(_level_key(level.sku), level.model_dump_json(), etag)

    async def reservation(self, order_id: str) -> Versioned[Reservation] | None:
        found = await self._state.read(_reservation_key(order_id))
        if found is None:
            return None
        return Versioned(Reservation.model_validate_json(found.value), found.etag)

    async def save_reservation(
        self, order_id: str, reservation: Reservation, etag: str | None, announce: Event | None = None
    ) -> None:
        """Store the reservation (guarded by `etag`; None for a new one), announcing the
        fact, if any, in the same transaction; ConcurrencyError if it changed since read."""
        key, data = _reservation_key(order_id), reservation.model_dump_json()
        if announce is not None:
            await self._state.write_and_announce(key, data, etag, announce)
        else:
            assert etag is not None, "a new reservation is always announced"
            await self._state.replace(key, data, etag)


def _level_key(sku: str) -> str:
    return f"stock/{sku}"


def _reservation_key(order_id: str) -> str:
    return f"reservation/{order_id}"
