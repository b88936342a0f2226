"""Only the sidecar may call an app; tokens that look like placeholders are refused."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from orders.app import create_app as create_orders
from orders.service import OrdersService
from orders.settings import Settings
from orders.store import OrderStore
from storefront.app import create_app as create_storefront
from storefront.service import StorefrontService
from storefront.settings import Settings as StorefrontSettings
from storefront.store import DeadLetterStore
from tests.unit.fakes import InMemoryState
from tests.unit.test_storefront import RecordingClient, StubApps

TOKEN = "a" * 32


def test_every_route_but_the_health_check_wants_the_app_token() -> None:
    app = create_orders(Settings(app_api_token=TOKEN), OrdersService(OrderStore(InMemoryState())))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/orders/o-1").status_code == 401
        assert client.get("/orders/o-1", headers={"dapr-api-token": "b" * 32}).status_code == 401
        assert client.post("/events/stock-reserved", json={}).status_code == 401
        assert client.get("/orders/o-1", headers={"dapr-api-token": TOKEN}).status_code == 404


def test_the_storefront_page_is_public_but_its_event_deliveries_and_subscriptions_are_not() -> None:
    service = StorefrontService(DeadLetterStore(InMemoryState()), RecordingClient())  # type: ignore[arg-type]
    apps = StubApps({"stock": (200, [])})
    app = create_storefront(StorefrontSettings(app_api_token=TOKEN), service, apps)  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert client.get("/api/products").status_code == 200
        assert client.post("/events/saga/orders", json={}).status_code == 401
        assert client.post("/events/saga/orders", json={}, headers={"dapr-api-token": TOKEN}).status_code == 200
        assert client.get("/dapr/subscribe").status_code == 401
        assert client.get("/dapr/subscribe", headers={"dapr-api-token": TOKEN}).status_code == 200


@pytest.mark.parametrize("token", ["changeme", "secret", "short"])
def test_a_placeholder_token_is_refused_with_a_way_to_make_one(token: str) -> None:
    with pytest.raises(ValidationError, match="secrets.token_hex"):
        Settings(app_api_token=token)
