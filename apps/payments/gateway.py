"""A simulated payment gateway, with the two behaviours real ones have: transient
errors worth retrying, and idempotency — asked twice for one order, it charges once."""

from collections import Counter
from uuid import uuid4

from common.state import State
from payments import decisions
from payments.model import Charge


class GatewayUnavailable(Exception):
    """A transient failure: the same charge may succeed if asked again."""


class Gateway:
    def __init__(self, ledger: State, limit_cents: int, transient_failure_percent: int) -> None:
        self._ledger = ledger
        self._limit_cents = limit_cents
        self._transient_failure_percent = transient_failure_percent
        self._attempts = Counter[str]()

    async def charge(self, order_id: str, customer_id: str, amount_cents: int) -> Charge:
        self._attempts[order_id] += 1
        if decisions.fails_transiently(order_id, self._attempts[order_id], self._transient_failure_percent):
            raise GatewayUnavailable(f"gateway timed out charging order {order_id}")
        del self._attempts[order_id]
        charge = Charge(
            order_id=order_id,
            payment_id=uuid4().hex,
            amount_cents=amount_cents,
            declined=decisions.decline_reason(customer_id, amount_cents, self._limit_cents),
        )
        key = f"gateway-ledger/{order_id}"
        if await self._ledger.create(key, charge.model_dump_json()):
            return charge
        first = await self._ledger.read(key)  # charged before: the first charge stands
        assert first is not None, "ledger entries are never deleted"
        return Charge.model_validate_json(first.value)
