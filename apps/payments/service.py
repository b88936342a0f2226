"""The payments service: charges a reserved order once and announces the outcome."""

import logging

from common.delivery import Outcome
from common.state import ConcurrencyError
from contracts.events import CloudEvent, StockReserved
from payments import decisions
from payments.gateway import Gateway, GatewayUnavailable
from payments.model import Payment
from payments.store import PaymentStore

log = logging.getLogger("payments")


class PaymentsService:
    def __init__(self, store: PaymentStore, gateway: Gateway) -> None:
        self._store = store
        self._gateway = gateway

    async def stock_reserved(self, event: CloudEvent[StockReserved]) -> Outcome:
        reserved = event.data
        context = {"order_id": reserved.order_id}
        paid = await self._store.get(reserved.order_id)
        if paid is not None:
            log.info("order paid for before; nothing to do", extra=context)
            await self._store.relay(reserved.order_id, paid.version)
            return Outcome.SUCCESS
        try:
            charge = await self._gateway.charge(reserved.order_id, reserved.customer_id, reserved.amount_cents)
        except GatewayUnavailable as error:
            # Dapr redelivers under the resiliency policy's backoff (components/resiliency.yaml).
            log.warning("gateway unavailable; asking Dapr to retry", extra={**context, "reason": str(error)})
            return Outcome.RETRY
        payment = decisions.payment_for(reserved, charge)
        try:
            await self._store.add(reserved.order_id, payment)
        except ConcurrencyError:  # a concurrent delivery paid first: the retry finds it and relays
            return Outcome.RETRY
        log.info("payment %s", "succeeded" if payment.succeeded else "failed", extra=context)
        return Outcome.SUCCESS

    async def get(self, order_id: str) -> Payment | None:
        paid = await self._store.get(order_id)
        return paid.value if paid else None
