"""The storefront's operator console on real sidecars: closed to customers, open to the
operator token; a replay whose corrected data breaks the contract is refused and
publishes nothing; a customer's page sees its own orders and no one else's."""

import json
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import requests

from contracts.names import Topic
from tests.integration.flows import AS_OPERATOR, TIMEOUT, dead_letters, publish, settled
from tests.support.system import APP_API_TOKEN, System
from tests.support.waiting import wait_until

CONSOLE = (("GET", "/deadletters"), ("POST", "/deadletters/no-such-letter/replay"), ("GET", "/api/saga"))
SAGA_TIMEOUT = 30


def test_the_console_refuses_whoever_lacks_the_operator_token(system: System) -> None:
    storefront = system["storefront"].url
    for method, path in CONSOLE:
        missing = requests.request(method, f"{storefront}{path}", timeout=TIMEOUT)
        assert (missing.status_code, missing.headers.get("www-authenticate")) == (401, "Bearer"), path
        for wrong in ("x" * 64, APP_API_TOKEN):
            forged = requests.request(
                method, f"{storefront}{path}", headers={"authorization": f"Bearer {wrong}"}, timeout=TIMEOUT
            )
            assert forged.status_code == 403, path
    assert requests.get(f"{storefront}/deadletters", headers=AS_OPERATOR, timeout=TIMEOUT).status_code == 200


def test_a_replay_whose_data_breaks_the_contract_is_refused_naming_the_field_and_publishes_nothing(
    system: System,
) -> None:
    poison_id, order_id = f"poison-{uuid4().hex}", uuid4().hex
    broken = {"order_id": order_id, "customer_id": "c-1", "items": [{"sku": "tea-sencha", "quantity": "2"}]}
    publish(system, Topic.ORDERS, broken, "order.placed", poison_id)
    wait_until(lambda: [d for d in dead_letters(system) if d["id"] == poison_id], TIMEOUT)
    replay = f"{system['storefront'].url}/deadletters/{poison_id}/replay"

    # A payment's field smuggled into an order.placed, then a quantity no order can have.
    for forged, field in (
        ({**broken, "items": [{"sku": "tea-sencha", "quantity": 2}], "amount_cents": 0}, ["amount_cents"]),
        ({**broken, "items": [{"sku": "tea-sencha", "quantity": 0}]}, ["items", 0, "quantity"]),
    ):
        answer = requests.post(replay, json={"data": forged}, headers=AS_OPERATOR, timeout=TIMEOUT)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "data", *field]

    (letter,) = [d for d in dead_letters(system) if d["id"] == poison_id]
    assert letter["replays"] == 0
    assert [e["id"] for e in system.broker.about(order_id, Topic.ORDERS)] == [poison_id]


def test_a_customers_page_sees_its_own_orders_and_no_one_elses(system: System) -> None:
    storefront = system["storefront"].url
    mine = place_on_the_storefront(storefront, "c-mine")
    with requests.get(f"{storefront}/api/orders/live", params={"order": mine}, stream=True, timeout=TIMEOUT) as live:
        assert live.status_code == 200
        theirs = place_on_the_storefront(storefront, "c-theirs")
        seen = read_until(live, lambda event: event["type"] == "shipment.scheduled")

    assert {event["order_id"] for event in seen} == {mine}
    assert settled(system, theirs)["status"] == "shipped"  # their saga ran all the while


def place_on_the_storefront(storefront: str, customer_id: str) -> str:
    command = {"customer_id": f"{customer_id}-{uuid4().hex[:6]}", "items": [{"sku": "tea-sencha", "quantity": 1}]}
    answer = requests.post(f"{storefront}/api/orders", json=command, timeout=TIMEOUT)
    assert answer.status_code == 202, answer.text
    return answer.json()["order_id"]


def read_until(stream: requests.Response, last: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The events of a server-sent event stream, up to the first that is `last`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + SAGA_TIMEOUT
    for line in stream.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            seen.append(json.loads(line.removeprefix("data: ")))
            if last(seen[-1]):
                return seen
        assert time.monotonic() < deadline, f"no end in {SAGA_TIMEOUT} s; seen {seen}"
    raise AssertionError(f"the stream ended; seen {seen}")
