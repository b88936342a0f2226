import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contracts.events import StockRejected, StockReserved
from inventory.app import create_app
from inventory.service import InventoryService
from inventory.settings import Settings
from inventory.store import StockStore
from tests.unit.events import an_order, delivered
from tests.unit.fakes import InMemoryState, RecordingPublisher


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(tmp_path: Path, publisher: RecordingPublisher) -> Iterator[TestClient]:
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps({"tea": 5, "mug": 1}))
    service = InventoryService(StockStore(InMemoryState()), publisher)
    with TestClient(create_app(Settings(catalogue_path=catalogue), service)) as client:
        yield client


def stock(client: TestClient, sku: str) -> dict:
    return client.get(f"/stock/{sku}").json()


def test_the_catalogue_is_loaded_at_start(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert stock(client, "tea") == {"sku": "tea", "available": 5, "reserved": 0}
    assert client.get("/stock/caviar").status_code == 404


def test_an_order_in_stock_is_reserved_once(client: TestClient, publisher: RecordingPublisher) -> None:
    order = an_order(("tea", 2), ("mug", 1))

    for _ in range(2):  # the second delivery is a duplicate
        assert client.post("/events/order-placed", json=delivered(order)).json() == {"status": "SUCCESS"}

    assert stock(client, "tea") == {"sku": "tea", "available": 3, "reserved": 2}
    assert stock(client, "mug") == {"sku": "mug", "available": 0, "reserved": 1}
    # The duplicate is answered again with the same fact, which keeps its event id.
    reserved = StockReserved(order_id=order.order_id, items=order.items)
    assert publisher.published == [reserved, reserved]


def test_an_order_beyond_the_stock_is_rejected_and_reserves_nothing(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    order = an_order(("tea", 2), ("mug", 2))

    assert client.post("/events/order-placed", json=delivered(order)).json() == {"status": "SUCCESS"}

    assert stock(client, "tea") == {"sku": "tea", "available": 5, "reserved": 0}
    assert publisher.published == [StockRejected(order_id=order.order_id, reason="out_of_stock", skus=("mug",))]


def test_an_order_placed_event_with_bad_data_is_dropped(client: TestClient) -> None:
    event = delivered(an_order(("tea", 1)))
    event["data"]["items"] = []
    assert client.post("/events/order-placed", json=event).json() == {"status": "DROP"}
