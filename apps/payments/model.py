"""What the gateway answers, and the payment record per order."""

from pydantic import BaseModel, ConfigDict

from contracts.events import PaymentFailed, PaymentSucceeded


class Charge(BaseModel):
    """One entry of the gateway's ledger: at most one per order."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    payment_id: str
    amount_cents: int
    declined: str | None = None  # why, when the gateway said no


class Payment(BaseModel):
    """The payments service's record of an order: the fact it announced."""

    model_config = ConfigDict(frozen=True)

    succeeded: PaymentSucceeded | None = None
    failed: PaymentFailed | None = None
