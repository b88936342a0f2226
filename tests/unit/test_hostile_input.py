"""What a hostile caller or a poison message can send the Python apps: each gets a 4xx or
is dead-lettered, never a 5xx."""

import json
from collections.abc import Iterator
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient

from common.apps import MAX_BODY_BYTES
from common.state import stored_key
from orders.app import create_app as create_orders
from orders.service import OrdersService
from orders.settings import Settings
from orders.store import OrderStore
from storefront.app import create_app as create_storefront
from storefront.decisions import MAX_KEPT_BYTES
from storefront.service import StorefrontService
from storefront.settings import Settings as StorefrontSettings
from storefront.store import DeadLetterStore
from tests.unit.fakes import InMemoryState
from tests.unit.test_storefront import RecordingClient, StubApps, dead_letter


@pytest.fixture
def orders() -> Iterator[TestClient]:
    with TestClient(create_orders(Settings(), OrdersService(OrderStore(InMemoryState())))) as client:
        yield client


@pytest.fixture
def storefront() -> Iterator[TestClient]:
    service = StorefrontService(DeadLetterStore(InMemoryState()), RecordingClient())  # type: ignore[arg-type]
    apps = StubApps({})
    operator = "o" * 32  # the operator's token: the dead letters are in its console
    settings = StorefrontSettings(operator_token=operator)
    with TestClient(create_storefront(settings, service, apps), headers={"authorization": f"Bearer {operator}"}) as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize("key", ["order/a||b", "a|b", "100%", "%7C", "order/%7C%7C", "plain/key"])
def test_stored_keys_hold_no_dapr_separator_and_map_back_one_to_one(key: str) -> None:
    assert "||" not in stored_key(key)
    assert unquote(stored_key(key)) == key


def test_distinct_keys_stay_distinct_when_stored() -> None:
    assert stored_key("a||b") != stored_key("a%7C%7Cb")


def test_a_body_over_the_limit_gets_413_before_it_is_read(orders: TestClient) -> None:
    response = orders.post("/orders", content=b"x" * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_an_event_delivery_over_the_limit_gets_413_even_without_a_length(orders: TestClient) -> None:
    chunks = (b"x" * 65536 for _ in range(MAX_BODY_BYTES // 65536 + 1))
    assert orders.post("/events/stock-reserved", content=chunks).status_code == 413


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"type": ["order.placed"]}', b"\xff\xfe"])
def test_poison_on_the_default_route_is_dropped_not_a_server_error(orders: TestClient, body: bytes) -> None:
    response = orders.post("/events/unrouted", content=body)
    assert (response.status_code, response.json()) == (200, {"status": "DROP"})


@pytest.mark.parametrize("order_id", ["a..b", "a?b=1", "a#b", "x" * 65, "a b", "a|b"])
def test_the_storefront_refuses_order_ids_that_could_leave_their_path_segment(
    storefront: TestClient, order_id: str
) -> None:
    response = storefront.get(f"/api/orders/{quote(order_id, safe='')}/events")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "order_id"]


@pytest.mark.parametrize(
    "message",
    [
        {"id": "dl-1", "type": 7, "topic": ["orders"], "data": {}},
        {"id": "dl-2", "type": None, "topic": {"a": 1}},
        {"id": {"nested": True}, "type": "order.placed"},
        {"id": "x" * 1000, "type": "order.placed"},
    ],
)
def test_a_dead_letter_with_attributes_of_the_wrong_type_is_kept_and_cannot_be_replayed(
    storefront: TestClient, message: dict[str, object]
) -> None:
    dead_letter(storefront, json.dumps(message).encode())

    [letter] = storefront.get("/deadletters").json()
    assert (letter["topic"], letter["type"]) in {(None, None), (None, "order.placed")}
    assert storefront.post(f"/deadletters/{letter['id']}/replay").status_code == 409


def test_a_huge_dead_letter_is_kept_cut_short(storefront: TestClient) -> None:
    dead_letter(storefront, json.dumps({"id": "huge", "type": "order.placed", "topic": "orders",
                                        "data": "y" * (MAX_KEPT_BYTES * 2)}).encode())

    [letter] = storefront.get("/deadletters").json()
    assert (letter["id"], letter["type"]) == ("huge", "order.placed")
    assert isinstance(letter["message"], str) and "cut:" in letter["message"]
    assert len(letter["message"]) < MAX_KEPT_BYTES + 100


@pytest.mark.parametrize("delivery", [{"data_base64": "not base64!"}, {"data_base64": 12}, {"no": "payload"}])
def test_a_dead_letter_delivery_without_a_payload_is_kept_as_it_came(
    storefront: TestClient, delivery: dict[str, object]
) -> None:
    assert storefront.post("/events/dead-letter", json=delivery).json() == {"status": "SUCCESS"}

    [letter] = storefront.get("/deadletters").json()
    assert json.loads(letter["message"]) == delivery


def test_a_dead_letter_nested_too_deep_to_store_as_json_is_kept_as_text(storefront: TestClient) -> None:
    nested = '{"id": "deep", "type": "order.placed", "topic": "orders", "data": ' + "[" * 900 + "]" * 900 + "}"
    dead_letter(storefront, nested.encode())

    [letter] = storefront.get("/deadletters").json()
    assert (letter["id"], letter["message"]) == ("deep", nested)


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b"not json", b"[1, 2]", b"\xff"])
def test_the_saga_view_acknowledges_whatever_it_hears(storefront: TestClient, body: bytes) -> None:
    assert storefront.post("/events/saga/orders", content=body).json() == {"status": "SUCCESS"}
