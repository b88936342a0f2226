import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storefront.app import create_app
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


@pytest.fixture
def client(sidecar: RecordingClient) -> Iterator[TestClient]:
    service = StorefrontService(DeadLetterStore(InMemoryState()), sidecar)  # type: ignore[arg-type]
    with TestClient(create_app(Settings(), service)) as client:
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


def test_what_was_no_cloudevent_cannot_be_replayed(client: TestClient) -> None:
    dead_letter(client, b"\x00garbage")
    (letter,) = client.get("/deadletters").json()
    assert client.post(f"/deadletters/{letter['id']}/replay").status_code == 409
    assert client.post("/deadletters/nope/replay").status_code == 404
