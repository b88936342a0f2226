"""The payments repository: one payment record per order, in the payments' state store."""

from common.state import State
from payments.model import Payment


class PaymentStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def get(self, order_id: str) -> Payment | None:
        found = await self._state.read(_payment_key(order_id))
        return Payment.model_validate_json(found.value) if found else None

    async def add(self, order_id: str, payment: Payment) -> None:
        """Store the payment and announce its fact in the same transaction."""
        fact = payment.succeeded or payment.failed
        assert fact is not None, "a payment either succeeded or failed"
        await self._state.write_and_announce(_payment_key(order_id), payment.model_dump_json(), None, fact)


def _payment_key(order_id: str) -> str:
    return f"payment/{order_id}"
