from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from contracts.events import (
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    OrderRequested,
    StockRejected,
    StockReserved,
)
from orders.app import create_app
from orders.service import OrdersService
from orders.settings import Settings
from orders.store import OrderStore
from tests.unit.events import delivered
from tests.unit.fakes import InMemoryState, PublishFailed

AN_ORDER = {"customer_id": "c-1", "items": [{"sku": "tea-sencha", "quantity": 2}]}


@pytest.fixture
def state() -> InMemoryState:
    return InMemoryState()


@pytest.fixture
def client(state: InMemoryState) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), OrdersService(OrderStore(state)))) as client:
        yield client


def request(client: TestClient, **headers: str) -> str:
    response = client.post("/orders", json=AN_ORDER, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["order_id"]


def deliver_request(client: TestClient, state: InMemoryState, order_id: str) -> dict[str, str]:
    """The broker's delivery of the order's command back to the orders app."""
    (command,) = {e for e in state.announced if isinstance(e, OrderRequested) and e.order_id == order_id}
    return client.post("/events/order-requested", json=delivered(command, f"{order_id}/order.requested")).json()


def place(client: TestClient, state: InMemoryState, **headers: str) -> str:
    order_id = request(client, **headers)
    assert deliver_request(client, state, order_id) == {"status": "SUCCESS"}
    return order_id


def placed(state: InMemoryState) -> list[OrderPlaced]:
    return [e for e in state.announced if isinstance(e, OrderPlaced)]


def test_an_accepted_order_is_a_command_on_the_broker_until_the_orders_app_hears_it(
    client: TestClient, state: InMemoryState
) -> None:
    response = client.post("/orders", json=AN_ORDER)

    assert response.status_code == 202
    order_id = response.json()["order_id"]
    assert response.json() == {"order_id": order_id, "status": "pending"}
    assert response.headers["Location"] == f"/orders/{order_id}"
    assert state.announced == [OrderRequested.model_validate({"order_id": order_id, **AN_ORDER})]
    assert client.get(f"/orders/{order_id}").status_code == 404


def test_placing_an_order_stores_it_and_announces_it(client: TestClient, state: InMemoryState) -> None:
    order_id = place(client, state)

    order = client.get(f"/orders/{order_id}").json()
    assert {k: order[k] for k in ("order_id", "customer_id", "items", "status", "reason")} == {
        "order_id": order_id,
        "customer_id": "c-1",
        "items": AN_ORDER["items"],
        "status": "pending",
        "reason": None,
    }
    assert placed(state) == [OrderPlaced.model_validate({"order_id": order_id, **AN_ORDER})]


def test_an_order_stored_but_not_announced_is_announced_when_its_command_comes_again(
    client: TestClient, state: InMemoryState
) -> None:
    order_id = request(client)
    state.publishing = False  # the broker refuses, as if the app died after its write
    with pytest.raises(PublishFailed):
        deliver_request(client, state, order_id)
    assert client.get(f"/orders/{order_id}").json()["status"] == "pending"
    assert placed(state) == []

    state.publishing = True
    for _ in range(2):  # the redelivery relays it; one more finds nothing pending
        assert deliver_request(client, state, order_id) == {"status": "SUCCESS"}
    assert [e.order_id for e in placed(state)] == [order_id]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": AN_ORDER["items"]}, ["body", "customer_id"]),
        ({**AN_ORDER, "customer_id": ""}, ["body", "customer_id"]),
        ({**AN_ORDER, "items": []}, ["body", "items"]),
        ({**AN_ORDER, "items": [{"sku": "tea", "quantity": 1}] * 51}, ["body", "items"]),
        ({**AN_ORDER, "items": [{"sku": "tea", "quantity": 0}]}, ["body", "items", 0, "quantity"]),
        ({**AN_ORDER, "items": [{"sku": "tea", "quantity": "two"}]}, ["body", "items", 0, "quantity"]),
        ({**AN_ORDER, "coupon": "FREE"}, ["body", "coupon"]),
    ],
)
def test_a_bad_order_gets_422_naming_the_field(
    client: TestClient, state: InMemoryState, body: dict, field: list
) -> None:
    response = client.post("/orders", json=body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [field]
    assert state.announced == []


def test_a_repeated_idempotency_key_returns_the_first_order(client: TestClient, state: InMemoryState) -> None:
    first = place(client, state, **{"Idempotency-Key": "k-1"})
    assert request(client, **{"Idempotency-Key": "k-1"}) == first
    assert place(client, state, **{"Idempotency-Key": "k-2"}) != first
    assert len(placed(state)) == 2


def test_an_unknown_order_is_404(client: TestClient) -> None:
    assert client.get("/orders/nope").status_code == 404


def stock_reserved(order_id: str) -> StockReserved:
    line = OrderLine(sku="tea-sencha", quantity=2)
    return StockReserved(order_id=order_id, customer_id="c-1", items=(line,), amount_cents=2400)


def test_reserved_stock_moves_the_order_on_once_and_is_recorded(client: TestClient, state: InMemoryState) -> None:
    order_id = place(client, state)
    event = delivered(stock_reserved(order_id))

    for _ in range(2):  # the second delivery is a duplicate
        assert client.post("/events/stock-reserved", json=event).json() == {"status": "SUCCESS"}
    assert client.get(f"/orders/{order_id}").json()["status"] == "reserved"
    history = client.get(f"/orders/{order_id}/events").json()
    assert [(fact["type"], fact["event_id"]) for fact in history][1:] == [("stock.reserved", event["id"])]


def test_rejected_stock_cancels_the_order_and_announces_it(client: TestClient, state: InMemoryState) -> None:
    order_id = place(client, state)
    event = delivered(StockRejected(order_id=order_id, customer_id="c-1", reason="out_of_stock", skus=("tea-sencha",)))

    assert client.post("/events/stock-rejected", json=event).json() == {"status": "SUCCESS"}
    order = client.get(f"/orders/{order_id}").json()
    assert (order["status"], order["reason"]) == ("cancelled", "out_of_stock")
    assert state.announced[-1] == OrderCancelled(order_id=order_id, customer_id="c-1", reason="out_of_stock")


def test_the_history_of_an_unknown_order_is_404(client: TestClient) -> None:
    assert client.get("/orders/nope/events").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"id": "1", "type": "stock.reserved"}',
        b'{"id": "1", "source": "x", "type": "stock.reserved", "specversion": "1.0", "data": {"order_id": 7}}',
    ],
)
def test_a_malformed_event_is_dropped_to_the_dead_letters(client: TestClient, body: bytes) -> None:
    response = client.post("/events/stock-reserved", content=body)
    assert response.json() == {"status": "DROP"}


def test_an_event_about_an_unknown_order_is_dropped(client: TestClient) -> None:
    event = delivered(stock_reserved("nope"))
    assert client.post("/events/stock-reserved", json=event).json() == {"status": "DROP"}


def test_unrouted_events_are_acknowledged_when_known_and_dropped_when_not(client: TestClient) -> None:
    known = delivered(stock_reserved("o"))
    assert client.post("/events/unrouted", json=known).json() == {"status": "SUCCESS"}
    assert client.post("/events/unrouted", json={**known, "type": "coupon.redeemed"}).json() == {"status": "DROP"}
    assert client.post("/events/unrouted", content=b"[]").json() == {"status": "DROP"}
