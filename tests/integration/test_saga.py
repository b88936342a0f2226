"""The first slice of the saga through real sidecars and a real broker."""

from typing import Any
from uuid import uuid4

import requests

from contracts.names import PUBSUB, Topic
from tests.integration.conftest import System
from tests.support.waiting import wait_until

TIMEOUT = 10


def place_order(system: System, *lines: tuple[str, int], **headers: str) -> str:
    """POST /orders through the orders sidecar's service invocation API."""
    body = {"customer_id": f"c-{uuid4().hex[:8]}", "items": [{"sku": s, "quantity": q} for s, q in lines]}
    response = requests.post(
        f"{system.orders.dapr_url}/v1.0/invoke/orders/method/orders", json=body, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 202, response.text
    return response.json()["order_id"]


def order(system: System, order_id: str) -> dict[str, Any]:
    response = requests.get(f"{system.orders.url}/orders/{order_id}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def stock(system: System, sku: str) -> dict[str, Any]:
    response = requests.get(f"{system.inventory.url}/stock/{sku}", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def final_order(system: System, order_id: str) -> dict[str, Any]:
    return wait_until(lambda: (o := order(system, order_id))["status"] != "pending" and o, TIMEOUT)


def publish(system: System, topic: Topic, data: Any, event_type: str, event_id: str) -> None:
    """Publish as the orders app would, through its sidecar's HTTP API."""
    response = requests.post(
        f"{system.orders.dapr_url}/v1.0/publish/{PUBSUB}/{topic}",
        json=data,
        params={"metadata.cloudevent.type": event_type, "metadata.cloudevent.id": event_id},
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text


def test_an_order_in_stock_reserves_the_stock_and_moves_on(system: System) -> None:
    before = stock(system, "tea-sencha")

    order_id = place_order(system, ("tea-sencha", 3))

    assert final_order(system, order_id)["status"] == "reserved"
    after = stock(system, "tea-sencha")
    assert after["available"] == before["available"] - 3
    assert after["reserved"] == before["reserved"] + 3


def test_an_order_beyond_the_stock_is_cancelled_out_of_stock(system: System) -> None:
    before = stock(system, "kettle-gooseneck")

    order_id = place_order(system, ("tea-earl-grey", 1), ("kettle-gooseneck", before["available"] + 1))

    cancelled = final_order(system, order_id)
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "out_of_stock")
    assert stock(system, "kettle-gooseneck") == before


def test_a_repeated_idempotency_key_places_one_order(system: System) -> None:
    key = uuid4().hex
    first = place_order(system, ("mug-stoneware", 1), **{"Idempotency-Key": key})
    assert place_order(system, ("mug-stoneware", 1), **{"Idempotency-Key": key}) == first


def test_a_redelivered_order_placed_event_reserves_nothing_twice(system: System) -> None:
    order_id = place_order(system, ("tea-earl-grey", 2))
    placed = final_order(system, order_id)
    before = stock(system, "tea-earl-grey")

    # The same fact again, with the same CloudEvent id, as a redelivery would bring it.
    data = {k: placed[k] for k in ("order_id", "customer_id", "items")}
    publish(system, Topic.ORDERS, data, "order.placed", f"{order_id}/order.placed")
    published = system.broker.last_entry_id(Topic.ORDERS)

    wait_until(lambda: system.broker.consumed(Topic.ORDERS, "inventory", up_to=published), TIMEOUT)
    assert stock(system, "tea-earl-grey") == before
    assert order(system, order_id)["status"] == "reserved"


def test_a_malformed_event_is_dead_lettered_and_valid_traffic_flows(system: System) -> None:
    poison_id = f"poison-{uuid4().hex}"

    publish(system, Topic.ORDERS, {"order_id": 42, "items": "many"}, "order.placed", poison_id)
    order_id = place_order(system, ("tea-sencha", 1))

    dead = wait_until(lambda: [e for e in system.broker.dead_letters() if e["id"] == poison_id], TIMEOUT)
    assert dead[0]["type"] == "order.placed"
    assert final_order(system, order_id)["status"] == "reserved"


def test_an_event_of_unknown_type_is_dead_lettered(system: System) -> None:
    stray_id = f"stray-{uuid4().hex}"

    publish(system, Topic.ORDERS, {"order_id": "o-1"}, "coupon.redeemed", stray_id)

    wait_until(lambda: any(e["id"] == stray_id for e in system.broker.dead_letters()), TIMEOUT)
