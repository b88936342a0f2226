"""Assembly of the payments app: routes, the Dapr client, the service, the gateway."""

from typing import Annotated

from dapr.aio.clients import DaprClient
from fastapi import Depends, FastAPI, HTTPException, Request, status

from common.apps import new_app, serving
from common.delivery import event_endpoint, unrouted_event
from common.logs import configure_logging
from common.state import DaprState
from contracts.events import StockReserved
from payments.gateway import Gateway
from payments.model import Payment
from payments.service import PaymentsService
from payments.settings import Settings
from payments.store import STORE, PaymentStore


def create_app(settings: Settings | None = None, service: PaymentsService | None = None) -> FastAPI:
    """The payments app. Without `service`, it builds one on the app's own sidecar."""
    settings = settings or Settings()
    configure_logging("payments")

    def build_service(client: DaprClient) -> PaymentsService:
        state = DaprState(client, STORE)
        gateway = Gateway(state, settings.decline_over_cents, settings.transient_failure_percent)
        return PaymentsService(PaymentStore(state), gateway)

    app = new_app("payments", settings, serving(build_service, settings, service))
    app.get("/payments/{order_id}")(get_payment)
    # Which event goes to which handler, on the paths the routing rules of
    # components/subscriptions.yaml name; facts outside them take the default route.
    app.post("/events/stock-reserved")(event_endpoint(StockReserved, PaymentsService.stock_reserved))
    app.post("/events/unrouted")(unrouted_event)
    return app


async def get_service(request: Request) -> PaymentsService:
    return request.app.state.service


async def get_payment(order_id: str, service: Annotated[PaymentsService, Depends(get_service)]) -> Payment:
    payment = await service.get(order_id)
    if payment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment for order {order_id}")
    return payment
