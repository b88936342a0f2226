"""Assembly of the inventory app: routes, the Dapr client, the service, the catalogue."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status

from common.apps import new_app
from common.delivery import event_endpoint, unrouted_event
from common.logs import configure_logging
from common.state import DaprState
from common.tracing import dapr_client
from contracts.events import OrderPlaced, PaymentFailed, ShipmentScheduled
from inventory.model import CatalogueEntry, StockLevel, StockView
from inventory.service import InventoryService
from inventory.settings import Settings
from inventory.store import STORE, StockStore

log = logging.getLogger("inventory")

# The sidecar starts after the app's port opens, so the catalogue is loaded in the
# background; /healthz says 503 until then, and Dapr delivers no events before that.
CATALOGUE_ATTEMPTS = 60
CATALOGUE_RETRY_SECONDS = 1.0


def create_app(settings: Settings | None = None, service: InventoryService | None = None) -> FastAPI:
    """The inventory app. Without `service`, it builds one on the app's own sidecar."""
    settings = settings or Settings()
    configure_logging("inventory")
    catalogue = {
        sku: CatalogueEntry.model_validate(entry)
        for sku, entry in json.loads(settings.catalogue_path.read_text()).items()
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.service = service
            await load_catalogue(app, catalogue)
            yield
            return
        async with dapr_client(settings.dapr_grpc_address) as client:
            app.state.service = InventoryService(StockStore(DaprState(client, STORE)))
            loading = asyncio.create_task(load_catalogue(app, catalogue))
            yield
            loading.cancel()

    app = new_app("inventory", settings, lifespan)
    app.state.catalogue = sorted(catalogue)
    app.get("/stock")(list_stock)
    app.get("/stock/{sku}")(get_stock)
    # Which event goes to which handler, on the paths the routing rules of
    # components/subscriptions.yaml name; facts outside them take the default route.
    app.post("/events/order-placed")(event_endpoint(OrderPlaced, InventoryService.order_placed))
    app.post("/events/payment-failed")(event_endpoint(PaymentFailed, InventoryService.payment_failed))
    app.post("/events/shipment-scheduled")(event_endpoint(ShipmentScheduled, InventoryService.shipment_scheduled))
    app.post("/events/unrouted")(unrouted_event)
    return app


async def load_catalogue(app: FastAPI, catalogue: dict[str, CatalogueEntry]) -> None:
    for _ in range(CATALOGUE_ATTEMPTS):
        try:
            await app.state.service.load_catalogue(catalogue)
        except Exception as error:  # noqa: BLE001 - the sidecar is not up yet: try again shortly
            log.info("waiting for the sidecar to load the catalogue", extra={"reason": str(error)})
            await asyncio.sleep(CATALOGUE_RETRY_SECONDS)
            continue
        app.state.ready = True
        log.info("catalogue loaded: %d SKUs", len(catalogue))
        return
    log.error("gave up loading the catalogue; the app stays unhealthy")


async def get_service(request: Request) -> InventoryService:
    return request.app.state.service


Service = Annotated[InventoryService, Depends(get_service)]


async def list_stock(request: Request, service: Service) -> list[StockView]:
    """Every SKU of the catalogue, with its stock."""
    levels = await service.stock_of(request.app.state.catalogue)
    return [_view(level) for level in levels]


async def get_stock(sku: str, service: Service) -> StockView:
    found = await service.stock_of([sku])
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no SKU {sku}")
    return _view(found[0])


def _view(level: StockLevel) -> StockView:
    return StockView(sku=level.sku, available=level.available, reserved=level.reserved, price_cents=level.price_cents)
