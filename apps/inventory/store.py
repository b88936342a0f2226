"""The inventory repository: stock levels and answered orders, in inventory's state store."""

from collections.abc import Iterable

from pydantic import BaseModel

from common.state import State, Versioned
from contracts.events import StockRejected, StockReserved
from inventory.model import StockLevel

StockOutcome = StockReserved | StockRejected


class _RecordedOutcome(BaseModel):
    reserved: StockReserved | None = None
    rejected: StockRejected | None = None


class StockStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def levels(self, skus: Iterable[str]) -> dict[str, Versioned[StockLevel]]:
        """The levels of the SKUs that exist, by SKU."""
        found = await self._state.read_many(_level_key(sku) for sku in skus)
        levels = (Versioned(StockLevel.model_validate_json(v.value), v.etag) for v in found.values())
        return {level.value.sku: level for level in levels}

    async def add(self, level: StockLevel) -> bool:
        """Store a new SKU; False if it exists already (its level is left as it is)."""
        return await self._state.create(_level_key(level.sku), level.model_dump_json())

    async def replace(self, level: StockLevel, etag: str) -> None:
        """Store a changed level; ConcurrencyError if it changed since read."""
        await self._state.replace(_level_key(level.sku), level.model_dump_json(), etag)

    async def outcome(self, order_id: str) -> StockOutcome | None:
        """What inventory answered for an order, if it has answered."""
        found = await self._state.read(_outcome_key(order_id))
        if found is None:
            return None
        recorded = _RecordedOutcome.model_validate_json(found.value)
        return recorded.reserved or recorded.rejected

    async def record_outcome(self, outcome: StockOutcome) -> StockOutcome:
        """Record the answer for an order unless one is recorded; the recorded one."""
        recorded = (
            _RecordedOutcome(reserved=outcome)
            if isinstance(outcome, StockReserved)
            else _RecordedOutcome(rejected=outcome)
        )
        if await self._state.create(_outcome_key(outcome.order_id), recorded.model_dump_json()):
            return outcome
        first = await self.outcome(outcome.order_id)
        assert first is not None, "outcomes are never deleted"
        return first


def _level_key(sku: str) -> str:
    return f"stock/{sku}"


def _outcome_key(order_id: str) -> str:
    return f"outcome/{order_id}"
