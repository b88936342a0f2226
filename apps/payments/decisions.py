"""Pure decisions of the payments service: the simulated gateway's rules, and the fact
a charge turns into."""

import zlib

from contracts.events import PaymentFailed, PaymentSucceeded, StockReserved
from payments.model import Charge, Payment

BLOCKED_PREFIX = "blocked-"


def decline_reason(customer_id: str, amount_cents: int, limit_cents: int) -> str | None:
    """Why the gateway declines a charge for good, or None when it accepts it.

    The rules are deterministic so that tests and demos can ask for a decline: customers
    whose id starts with "blocked-" are declined, and so is any charge over the limit.
    """
    if customer_id.startswith(BLOCKED_PREFIX):
        return "the customer's card is blocked"
    if amount_cents > limit_cents:
        return f"amount {amount_cents} is over the limit of {limit_cents} cents"
    return None


def fails_transiently(order_id: str, attempt: int, percent: int) -> bool:
    """The gateway's first attempt for `percent` of the orders (picked by a hash of the
    order id, so always the same ones) fails with an error worth retrying."""
    return attempt == 1 and zlib.crc32(order_id.encode()) % 100 < percent


def payment_for(reserved: StockReserved, charge: Charge) -> Payment:
    ids = {"order_id": reserved.order_id, "customer_id": reserved.customer_id}
    if charge.declined is not None:
        failed = PaymentFailed(
            **ids, reason="payment_declined", detail=charge.declined, amount_cents=charge.amount_cents
        )
        return Payment(failed=failed)
    succeeded = PaymentSucceeded(
        **ids, payment_id=charge.payment_id, amount_cents=charge.amount_cents, items=reserved.items
    )
    return Payment(succeeded=succeeded)
