import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contracts.events import PaymentFailed, ShipmentScheduled, StockRejected, StockReleased
from inventory.app import create_app
from inventory.service import InventoryService
from inventory.settings import Settings
from inventory.store import StockStore
from tests.unit.events import an_order, delivered, reserved
from tests.unit.fakes import InMemoryState


@pytest.fixture
def state() -> InMemoryState:
    return InMemoryState()


@pytest.fixture
def client(tmp_path: Path, state: InMemoryState) -> Iterator[TestClient]:
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps({"tea": {"available": 5, "price_cents": 1200}, "mug": {"available": 1, "price_cents": 1800}}))
    service = InventoryService(StockStore(state))
    with TestClient(create_app(Settings(catalogue_path=catalogue), service)) as client:
        yield client


def stock(client: TestClient, sku: str) -> dict:
    return client.get(f"/stock/{sku}").json()


def test_the_catalogue_is_loaded_at_start(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert stock(client, "tea") == {"sku": "tea", "available": 5, "reserved": 0, "price_cents": 1200}
    assert client.get("/stock/caviar").status_code == 404


def levels(client: TestClient, sku: str) -> tuple[int, int]:
    found = stock(client, sku)
    return found["available"], found["reserved"]


def test_an_order_in_stock_is_reserved_and_announced_once(client: TestClient, state: InMemoryState) -> None:
    order = an_order(("tea", 2), ("mug", 1))

    for _ in range(2):  # the second delivery is a duplicate
        assert client.post("/events/order-placed", json=delivered(order)).json() == {"status": "SUCCESS"}

    assert (levels(client, "tea"), levels(client, "mug")) == ((3, 2), (0, 1))
    assert state.announced == [reserved(order, amount_cents=2 * 1200 + 1800)]


def test_an_order_beyond_the_stock_is_rejected_and_reserves_nothing(client: TestClient, state: InMemoryState) -> None:
    order = an_order(("tea", 2), ("mug", 2))

    assert client.post("/events/order-placed", json=delivered(order)).json() == {"status": "SUCCESS"}

    assert levels(client, "tea") == (5, 0)
    assert state.announced == [
        StockRejected(order_id=order.order_id, customer_id="c-1", reason="out_of_stock", skus=("mug",))
    ]


def test_a_failed_payment_gives_the_stock_back_once(client: TestClient, state: InMemoryState) -> None:
    order = an_order(("tea", 2))
    client.post("/events/order-placed", json=delivered(order))
    failed = PaymentFailed(
        order_id=order.order_id, customer_id="c-1", reason="payment_declined", detail="no", amount_cents=2400
    )

    for _ in range(2):  # the second delivery is a duplicate
        assert client.post("/events/payment-failed", json=delivered(failed)).json() == {"status": "SUCCESS"}

    assert levels(client, "tea") == (5, 0)
    assert state.announced[1:] == [StockReleased(order_id=order.order_id, customer_id="c-1", items=order.items)]


def test_shipped_stock_leaves_the_shop(client: TestClient) -> None:
    order = an_order(("tea", 2))
    client.post("/events/order-placed", json=delivered(order))
    shipped = ShipmentScheduled(order_id=order.order_id, customer_id="c-1", shipment_id="s-1", items=order.items)

    assert client.post("/events/shipment-scheduled", json=delivered(shipped)).json() == {"status": "SUCCESS"}

    assert levels(client, "tea") == (3, 0)


def test_an_order_placed_event_with_bad_data_is_dropped(client: TestClient) -> None:
    event = delivered(an_order(("tea", 1)))
    event["data"]["items"] = []
    assert client.post("/events/order-placed", json=event).json() == {"status": "DROP"}
