"""The payments repository: one payment record per order, in the payments' state store."""

from common.state import State, Version, Versioned
from payments.model import Payment

# Its Dapr state store (components/stores.yaml), scoped to payments alone.
STORE = "payments-store"


class PaymentStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def get(self, order_id: str) -> Versioned[Payment] | None:
        found = await self._state.read_with_pending(_payment_key(order_id))
        return Versioned(Payment.model_validate_json(found.value), found.version) if found else None

    async def add(self, order_id: str, payment: Payment) -> None:
        """Store the payment and announce its fact: both or neither; ConcurrencyError if
        the order has a payment already."""
        fact = payment.succeeded or payment.failed
        assert fact is not None, "a payment either succeeded or failed"
        await self._state.write_and_announce(_payment_key(order_id), payment.model_dump_json(), None, fact)

    async def relay(self, order_id: str, version: Version) -> None:
        """Publish what the order's payment, as read, still has pending."""
        await self._state.relay(_payment_key(order_id), version)


def _payment_key(order_id: str) -> str:
    return f"payment/{order_id}"
