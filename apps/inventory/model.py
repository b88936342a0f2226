"""Stock levels with the holds orders have on them, and inventory's answer per order."""

from pydantic import BaseModel, ConfigDict, Field, computed_field

from contracts.events import StockRejected, StockReserved


class CatalogueEntry(BaseModel):
    available: int = Field(ge=0)
    price_cents: int = Field(ge=0)


class StockLevel(BaseModel):
    """One SKU. `available + reserved` only changes by what is shipped or restocked."""

    model_config = ConfigDict(frozen=True)

    sku: str
    available: int = Field(ge=0)
    price_cents: int = Field(ge=0)
    # order_id -> units held for that order. Keeping the holds on the level itself makes
    # every change an ETag-guarded single-key write that also records which order it was
    # for, so a redelivered event is recognised on the very key it would change.
    holds: dict[str, int] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reserved(self) -> int:
        return sum(self.holds.values())


class Reservation(BaseModel):
    """Inventory's answer to one order, and what became of the stock it held."""

    model_config = ConfigDict(frozen=True)

    reserved: StockReserved | None = None
    rejected: StockRejected | None = None
    released: bool = False
    shipped: bool = False


class StockView(BaseModel):
    """The answer to GET /stock/{sku}."""

    sku: str
    available: int
    reserved: int
    price_cents: int
