"""Stock levels, with the reservation each order holds on them."""

from pydantic import BaseModel, ConfigDict, Field, computed_field


class StockLevel(BaseModel):
    """One SKU. `available + reserved` only changes by what is shipped or restocked."""

    model_config = ConfigDict(frozen=True)

    sku: str
    available: int = Field(ge=0)
    # order_id -> quantity held for that order. Keeping the holds on the level itself
    # makes every reservation an ETag-guarded single-key write that also records which
    # order it was for, so a redelivered event is recognised on the key it would change.
    holds: dict[str, int] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reserved(self) -> int:
        return sum(self.holds.values())


class StockView(BaseModel):
    """The answer to GET /stock/{sku}."""

    sku: str
    available: int
    reserved: int
