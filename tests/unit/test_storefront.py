import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.state import ConcurrencyError
from storefront.app import create_app
from storefront.model import DeadLetter
from storefront.saga import SagaFeed
from storefront.service import StorefrontService
from storefront.settings import Settings
from storefront.store import DeadLetterStore
from tests.unit.events import an_order, delivered
from tests.unit.fakes import InMemoryState


class RecordingClient:
    """Takes the storefront's publish calls, as its sidecar would."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish_event(self, **call: Any) -> None:
        self.published.append(call)


@pytest.fixture
def sidecar() -> RecordingClient:
    return RecordingClient()


class StubApps:
    """The other apps, as service invocation reaches them: fixed answers by method."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, str, Any]] = []
        self.headers: list[dict[str, str]] = []

    async def call(
        self, app_id: str, method: str, verb: str = "GET", body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        self.calls.append((app_id, method, verb, body))
        self.headers.append(headers or {})
        return self.answers[method]


@pytest.fixture
def apps() -> StubApps:
    return StubApps({
        "stock": (200, [{"sku": "tea", "available": 5, "reserved": 0, "price_cents": 1200}]),
        "orders": (422, {"detail": [{"loc": ["body", "customer_id"], "msg": "Field required"}]}),
    })


OPERATOR_TOKEN = "o" * 32
AS_OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def client(sidecar: RecordingClient, apps: StubApps) -> Iterator[TestClient]:
    """The storefront, called by its operator (and by customers, who send no token)."""
    service = StorefrontService(DeadLetterStore(InMemoryState()), sidecar)  # type: ignore[arg-type]
    settings = Settings(operator_token=OPERATOR_TOKEN)
    with TestClient(create_app(settings, service, apps), headers=AS_OPERATOR) as client:  # type: ignore[arg-type]
        yield client


def dead_letter(client: TestClient, raw: bytes) -> None:
    """Deliver `raw` as the dead-letter subscription does: wrapped, base64, raw payload."""
    delivery = {"id": "x", "type": "com.dapr.event.sent", "data_base64": base64.b64encode(raw).decode()}
    assert client.post("/events/dead-letter", json=delivery).json() == {"status": "SUCCESS"}


def test_dead_letters_are_kept_once_each_and_listed_in_order(client: TestClient) -> None:
    poison = delivered(an_order(("tea", 1)), event_id="poison-1")
    dead_letter(client, json.dumps(poison).encode())
    dead_letter(client, b"not json at all")
    dead_letter(client, json.dumps(poison).encode())  # it came back

    letters = client.get("/deadletters").json()
    assert [(letter["id"], letter["topic"], letter["type"]) for letter in letters] == [
        ("poison-1", "orders", "order.placed"),
        (letters[1]["id"], None, None),
    ]
    assert letters[1]["message"] == "not json at all"


def test_a_dead_letter_kept_but_not_listed_is_listed_when_delivered_again() -> None:
    """Its first delivery stored it, then lost every race for the index and failed (so Dapr
    delivers it again): the second delivery lists it, once."""
    asyncio.run(kept_but_not_listed_then_delivered_again())


async def kept_but_not_listed_then_delivered_again() -> None:
    state = InMemoryState()
    store = DeadLetterStore(state)  # type: ignore[arg-type]
    letter = DeadLetter(id="poison-3", topic="orders", type="order.placed", received_at=datetime.now(UTC), message={})
    replace = state.replace

    async def always_stale(key: str, data: str, etag: str) -> None:
        raise ConcurrencyError(key)

    await store.put(DeadLetter(id="other", topic=None, type=None, received_at=datetime.now(UTC), message="x"))
    state.replace = always_stale  # type: ignore[method-assign]
    with pytest.raises(ConcurrencyError):
        await store.put(letter)
    state.replace = replace  # type: ignore[method-assign]
    await store.put(letter)

    assert [kept.id for kept in await store.all()] == ["other", "poison-3"]


def test_a_replay_publishes_the_event_again_with_corrected_data(client: TestClient, sidecar: RecordingClient) -> None:
    poison = delivered(an_order(("tea", 1)), event_id="poison-2")
    dead_letter(client, json.dumps(poison).encode())
    fixed = {**poison["data"], "customer_id": "c-9"}

    response = client.post("/deadletters/poison-2/replay", json={"data": fixed})

    assert response.status_code == 202
    assert response.json()["replays"] == 1
    (call,) = sidecar.published
    assert (call["topic_name"], json.loads(call["data"])) == ("orders", fixed)
    assert call["publish_metadata"] == {"cloudevent.type": "order.placed", "cloudevent.id": "poison-2"}


def test_a_correction_that_breaks_the_contract_is_refused_naming_the_field(
    client: TestClient, sidecar: RecordingClient
) -> None:
    poison = delivered(an_order(("tea", 1)), event_id="poison-4")
    dead_letter(client, json.dumps(poison).encode())

    forged = {**poison["data"], "payment_id": "p-1"}
    response = client.post("/deadletters/poison-4/replay", json={"data": forged})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "data", "payment_id"]]
    assert sidecar.published == []


def test_a_replay_is_logged_with_the_operator_and_the_fields_changed(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    poison = delivered(an_order(("tea", 1)), event_id="poison-5")
    dead_letter(client, json.dumps(poison).encode())

    with caplog.at_level("INFO", logger="storefront"):
        client.post("/deadletters/poison-5/replay", json={"data": {**poison["data"], "customer_id": "c-9"}})

    (line,) = [record for record in caplog.records if record.getMessage() == "replayed a dead letter"]
    assert (line.operator, line.changed_fields) == ("operator at testclient", ["customer_id"])  # type: ignore[attr-defined]


def test_the_console_wants_the_operator_token_and_is_closed_without_one(sidecar: RecordingClient) -> None:
    service = StorefrontService(DeadLetterStore(InMemoryState()), sidecar)  # type: ignore[arg-type]
    for settings in (Settings(operator_token=OPERATOR_TOKEN), Settings()):
        with TestClient(create_app(settings, service)) as customer:
            missing = customer.get("/deadletters")
            assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
            assert customer.get("/deadletters", headers={"authorization": "Bearer " + "x" * 32}).status_code == 403
            assert customer.post("/deadletters/any/replay").status_code == 401
            assert customer.get("/api/saga").status_code == 401
    with TestClient(create_app(Settings(), service), headers=AS_OPERATOR) as nobody:
        assert nobody.get("/deadletters").status_code == 403  # no token set: no operator at all


def test_a_customers_stream_takes_up_to_50_order_ids_and_nothing_that_is_none(client: TestClient) -> None:
    too_many = client.get("/api/orders/live", params={"order": [f"o-{n}" for n in range(51)]})
    not_an_id = client.get("/api/orders/live", params={"order": "../orders"})
    assert [(r.status_code, r.json()["detail"][0]["loc"]) for r in (too_many, not_an_id)] == [
        (422, ["query", "order"]), (422, ["query", "order", 0])
    ]


def test_a_watcher_of_some_orders_hears_only_theirs() -> None:
    asyncio.run(hear_only_their_orders())


async def hear_only_their_orders() -> None:
    feed = SagaFeed()
    mine, everyone = feed.watch(frozenset({"o-1"})), feed.watch()
    assert await anext(mine) == await anext(everyone) == ": watching the saga\n\n"
    for order_id in ("o-2", "o-1"):
        feed.publish({"order_id": order_id})

    assert json.loads((await anext(mine)).split("data: ")[1]) == {"order_id": "o-1"}
    assert [json.loads((await anext(everyone)).split("data: ")[1])["order_id"] for _ in range(2)] == ["o-2", "o-1"]


def test_a_watcher_of_some_orders_first_hears_what_was_heard_of_them_before_it_came() -> None:
    """A saga can end before the page that placed the order has its stream open."""
    asyncio.run(hear_their_past())


async def hear_their_past() -> None:
    feed = SagaFeed()
    for order_id in ("o-1", "o-2"):
        feed.publish({"order_id": order_id})
    mine, everyone = feed.watch(frozenset({"o-1"})), feed.watch()
    assert await anext(mine) == await anext(everyone) == ": watching the saga\n\n"
    feed.publish({"order_id": "o-3"})

    assert json.loads((await asyncio.wait_for(anext(mine), 1)).split("data: ")[1]) == {"order_id": "o-1"}
    assert json.loads((await asyncio.wait_for(anext(everyone), 1)).split("data: ")[1]) == {"order_id": "o-3"}


def test_what_was_no_cloudevent_cannot_be_replayed(client: TestClient) -> None:
    dead_letter(client, b"\x00garbage")
    (letter,) = client.get("/deadletters").json()
    assert client.post(f"/deadletters/{letter['id']}/replay").status_code == 409
    assert client.post("/deadletters/nope/replay").status_code == 404


def test_the_page_and_its_api_pass_questions_and_commands_on_to_the_apps(client: TestClient, apps: StubApps) -> None:
    assert "Place an order" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/products").json()[0]["sku"] == "tea"
    refused = client.post("/api/orders", json={"items": []})
    assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "customer_id"])
    assert apps.calls[-1] == ("orders", "orders", "POST", {"items": []})


def test_an_order_goes_on_with_the_clients_idempotency_key_or_one_of_its_own(
    client: TestClient, apps: StubApps
) -> None:
    client.post("/api/orders", json={"items": []}, headers={"Idempotency-Key": "k-1"})
    assert apps.headers[-1] == {"Idempotency-Key": "k-1"}
    client.post("/api/orders", json={"items": []})
    client.post("/api/orders", json={"items": []})
    own = [headers["Idempotency-Key"] for headers in apps.headers[-2:]]
    assert all(own) and own[0] != own[1]


def test_every_saga_event_heard_is_acknowledged(client: TestClient) -> None:
    event = delivered(an_order(("tea", 1)))
    assert client.post("/events/saga/orders", json=event).json() == {"status": "SUCCESS"}
