"""Assembly of the orders app: routes, the Dapr client, the service."""

from typing import Annotated

from dapr.aio.clients import DaprClient
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response, status

from common.apps import new_app, serving
from common.delivery import event_endpoint, unrouted_event
from common.logs import configure_logging
from common.state import DaprState
from common.tracing import about_order
from contracts.events import (
    OrderRequested,
    PaymentFailed,
    PaymentSucceeded,
    ShipmentScheduled,
    StockRejected,
    StockReserved,
)
from orders.model import Fact, Order, OrderAccepted, PlaceOrder
from orders.service import OrdersService
from orders.settings import Settings
from orders.store import STORE, OrderStore


def create_app(settings: Settings | None = None, service: OrdersService | None = None) -> FastAPI:
    """The orders app. Without `service`, it builds one on the app's own sidecar."""
    settings = settings or Settings()
    configure_logging("orders")

    def build_service(client: DaprClient) -> OrdersService:
        return OrdersService(OrderStore(DaprState(client, STORE)))

    app = new_app("orders", settings, serving(build_service, settings, service))
    app.post("/orders", status_code=status.HTTP_202_ACCEPTED)(place_order)
    app.get("/orders/{order_id}")(get_order)
    app.get("/orders/{order_id}/events")(get_order_events)
    # Which event goes to which handler, on the paths the routing rules of
    # components/subscriptions.yaml name; facts outside them take the default route.
    app.post("/events/order-requested")(event_endpoint(OrderRequested, OrdersService.place))
    app.post("/events/stock-reserved")(event_endpoint(StockReserved, OrdersService.record))
    app.post("/events/stock-rejected")(event_endpoint(StockRejected, OrdersService.record))
    app.post("/events/payment-succeeded")(event_endpoint(PaymentSucceeded, OrdersService.record))
    app.post("/events/payment-failed")(event_endpoint(PaymentFailed, OrdersService.record))
    app.post("/events/shipment-scheduled")(event_endpoint(ShipmentScheduled, OrdersService.record))
    app.post("/events/unrouted")(unrouted_event)
    return app


async def get_service(request: Request) -> OrdersService:
    return request.app.state.service


Service = Annotated[OrdersService, Depends(get_service)]


async def place_order(
    command: PlaceOrder,
    response: Response,
    service: Service,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> OrderAccepted:
    order = await service.accept(command, idempotency_key)
    about_order(order.order_id)
    response.headers["Location"] = f"/orders/{order.order_id}"
    return OrderAccepted(order_id=order.order_id, status=order.status)


async def get_order(order_id: str, service: Service) -> Order:
    order = await service.get(order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    return order


async def get_order_events(order_id: str, service: Service) -> tuple[Fact, ...]:
    """The order's history: every fact that changed it, oldest first."""
    history = await service.history(order_id)
    if history is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    return history
