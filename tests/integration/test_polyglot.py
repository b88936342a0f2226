"""shipping (Go) and notifications (Node.js) on real daprd sidecars and a real Redis.

Their own fixtures and ports (Redis 6392, apps 8204/8205, sidecars 3704/3705), so this
module runs beside the rest of the tier. Both sidecars require a Dapr API token, which
the apps must send. Events go in through the Dapr publish API of a sidecar with no app
behind it, under the id of the topic's owner (sidecars 3800/3801): only an owner may
publish to its topic. What comes out is read from the broker itself, the state store
and the notifications feed.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import requests
from jsonschema import Draft202012Validator

from contracts.names import FACT_TOPICS, PUBSUB, EventType, Topic
from tests.support.broker import Broker
from tests.support.credentials import redis_client
from tests.support.processes import Process
from tests.support.sidecars import AppWithSidecar, Ports, sidecar_alone, start_redis
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_PORT = 6392
PORTS = {
    "shipping": Ports(app=8204, dapr_http=3704, dapr_grpc=4704, metrics=9294),
    "notifications": Ports(app=8205, dapr_http=3705, dapr_grpc=4705, metrics=9295),
}
# Who publishes each topic the tests put events on: a sidecar alone, as its owner.
PUBLISHERS = {
    Topic.PAYMENTS: ("payments", Ports(app=0, dapr_http=3800, dapr_grpc=4800, metrics=9800)),
    Topic.ORDERS: ("orders", Ports(app=0, dapr_http=3801, dapr_grpc=4801, metrics=9801)),
}
TOKEN = f"token-{uuid4().hex}"
TIMEOUT = 20
SCHEMA = json.loads((ROOT / "apps" / "contracts" / "schemas" / "events.schema.json").read_text())


@dataclass(frozen=True)
class Polyglot:
    shipping: AppWithSidecar
    notifications: AppWithSidecar
    broker: Broker
    redis: redis.Redis
    publishers: dict[Topic, str]  # the owner's sidecar URL, by topic


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Polyglot]:
    logs = tmp_path_factory.mktemp("polyglot-logs")
    server = start_redis(REDIS_PORT, tmp_path_factory.mktemp("polyglot-redis"), logs)
    started: dict[str, AppWithSidecar] = {}
    publishers: list[Process] = []
    try:
        for app_id, ports in PUBLISHERS.values():
            publishers.append(sidecar_alone(app_id, ports, REDIS_PORT, logs, env={"DAPR_API_TOKEN": TOKEN}))
        for app_id, ports in PORTS.items():
            started[app_id] = AppWithSidecar(app_id, ports, REDIS_PORT, logs, env={"DAPR_API_TOKEN": TOKEN})
        for app in started.values():
            app.wait_ready()
        client = redis_client(REDIS_PORT, decode_responses=True)
        # Subscribed once each sidecar has made its consumer groups on the topics it hears.
        wait_until(lambda: subscribed(client, Topic.PAYMENTS, "shipping"), TIMEOUT)
        for topic in FACT_TOPICS:
            wait_until(lambda topic=topic: subscribed(client, topic, "notifications"), TIMEOUT)
        urls = {topic: f"http://127.0.0.1:{ports.dapr_http}" for topic, (_, ports) in PUBLISHERS.items()}
        yield Polyglot(started["shipping"], started["notifications"], Broker(REDIS_PORT), client, urls)
    finally:
        for app in started.values():
            app.stop()
        for publisher in publishers:
            publisher.stop()
        server.stop()


def subscribed(client: redis.Redis, topic: str, app_id: str) -> bool:
    return client.exists(topic) and any(g["name"] == app_id for g in client.xinfo_groups(topic))


@pytest.fixture
def polyglot(running: Polyglot) -> Iterator[Polyglot]:
    """The running apps, checked before and after each test for a dead process."""
    for app in (running.shipping, running.notifications):
        app.check_alive()
    yield running
    for app in (running.shipping, running.notifications):
        app.check_alive()


def publish(system: Polyglot, topic: Topic, data: Any, event_type: str, event_id: str) -> str:
    """Publish as the topic's owner would, through its sidecar's HTTP API; the stream entry id."""
    response = requests.post(
        f"{system.publishers[topic]}/v1.0/publish/{PUBSUB}/{topic}",
        json=data,
        params={"metadata.cloudevent.type": event_type, "metadata.cloudevent.id": event_id},
        headers={"dapr-api-token": TOKEN},
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text
    return system.broker.last_entry_id(topic)


def paid_order() -> dict[str, Any]:
    return {
        "order_id": f"o-{uuid4().hex}",
        "customer_id": f"c-{uuid4().hex[:8]}",
        "payment_id": f"p-{uuid4().hex[:8]}",
        "amount_cents": 2400,
        "items": [{"sku": "tea-sencha", "quantity": 2}],
    }


def announcements(system: Polyglot, order_id: str) -> list[dict[str, Any]]:
    """The shipment.scheduled CloudEvents on the shipping stream about one order."""
    if not system.redis.exists(Topic.SHIPPING):
        return []
    events = (json.loads(fields["data"]) for _, fields in system.redis.xrange(Topic.SHIPPING))
    return [e for e in events if (e.get("data") or {}).get("order_id") == order_id]


def trace_id(event: dict[str, Any]) -> str:
    """The W3C trace id of a CloudEvent."""
    return event["traceparent"].split("-")[1]


def entry(system: Polyglot, topic: Topic, entry_id: str) -> dict[str, Any]:
    ((_, fields),) = system.redis.xrange(topic, entry_id, entry_id)
    return json.loads(fields["data"])


def shipment_record(system: Polyglot, order_id: str) -> dict[str, str]:
    """The shipment as the Redis state store keeps it: the value (the shipment, and its
    announcement until it is published) and its write count."""
    return system.redis.hgetall(f"shipping||shipment/{order_id}")


def feed(system: Polyglot, customer_id: str) -> list[dict[str, Any]]:
    url = f"{system.notifications.url}/customers/{customer_id}/notifications"
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["notifications"]


def test_the_sidecars_refuse_calls_without_the_api_token(polyglot: Polyglot) -> None:
    for app in (polyglot.shipping, polyglot.notifications):
        assert requests.get(f"{app.dapr_url}/v1.0/metadata", timeout=TIMEOUT).status_code == 401


def test_a_paid_order_is_shipped_and_announced_once_with_its_own_id_and_shown_in_the_feed(
    polyglot: Polyglot,
) -> None:
    payment = paid_order()
    order_id = payment["order_id"]

    paid = publish(polyglot, Topic.PAYMENTS, payment, EventType.PAYMENT_SUCCEEDED, f"{order_id}/p")

    (announced,) = wait_until(lambda: announcements(polyglot, order_id), TIMEOUT)
    # The id is the fact's own (the same however often it is published), set by shipping.
    assert (announced["id"], announced["type"], announced["source"], announced["topic"]) == (
        f"{order_id}/{EventType.SHIPMENT_SCHEDULED}", EventType.SHIPMENT_SCHEDULED, "shipping", Topic.SHIPPING,
    )
    assert announced["datacontenttype"] == "application/json"
    # shipping hands Dapr's trace context on to its sidecar: one trace, payment to shipment.
    assert trace_id(announced) == trace_id(entry(polyglot, Topic.PAYMENTS, paid))
    schema = {**SCHEMA, "$ref": f"#/$defs/{EventType.SHIPMENT_SCHEDULED}"}
    Draft202012Validator(schema).validate(announced["data"])
    stored = json.loads(shipment_record(polyglot, order_id)["data"])["record"]
    assert announced["data"] == {
        "order_id": order_id, "customer_id": payment["customer_id"],
        "shipment_id": stored["shipment_id"], "items": payment["items"],
    }

    shown = wait_until(lambda: len(f := feed(polyglot, payment["customer_id"])) == 2 and f, TIMEOUT)
    # Two topics, delivered side by side: the shipment may be shown before its payment.
    assert sorted((n["type"], n["order_id"]) for n in shown) == [
        (EventType.PAYMENT_SUCCEEDED, order_id), (EventType.SHIPMENT_SCHEDULED, order_id),
    ]
    assert all(n["message"] and n["time"] for n in shown)


def test_a_redelivered_payment_schedules_nothing_twice(polyglot: Polyglot) -> None:
    payment = paid_order()
    event_id = f"{payment['order_id']}/p"
    publish(polyglot, Topic.PAYMENTS, payment, EventType.PAYMENT_SUCCEEDED, event_id)
    wait_until(lambda: len(feed(polyglot, payment["customer_id"])) == 2, TIMEOUT)

    # The same fact again, with the same CloudEvent id, as a redelivery would bring it.
    again = publish(polyglot, Topic.PAYMENTS, payment, EventType.PAYMENT_SUCCEEDED, event_id)

    for app_id in ("shipping", "notifications"):
        wait_until(lambda app_id=app_id: polyglot.broker.consumed(Topic.PAYMENTS, app_id, up_to=again), TIMEOUT)
    # The shipment is written once, then its published announcement cleared off it (its
    # store counts writes); the redelivery finds nothing pending and publishes nothing.
    assert shipment_record(polyglot, payment["order_id"])["version"] == "2"
    assert len(announcements(polyglot, payment["order_id"])) == 1
    shown = sorted(n["type"] for n in feed(polyglot, payment["customer_id"]))
    assert shown == [EventType.PAYMENT_SUCCEEDED, EventType.SHIPMENT_SCHEDULED]


def test_events_for_one_customer_arriving_together_all_reach_the_feed(polyglot: Polyglot) -> None:
    customer_id = f"c-{uuid4().hex[:8]}"
    orders = [f"o-{uuid4().hex}" for _ in range(12)]

    # Delivered side by side, they race on one feed: the ETag makes each loser read again.
    for order_id in orders:
        placed = {"order_id": order_id, "customer_id": customer_id,
                  "items": [{"sku": "tea-sencha", "quantity": 1}]}
        publish(polyglot, Topic.ORDERS, placed, EventType.ORDER_PLACED, f"{order_id}/placed")

    shown = wait_until(lambda: len(f := feed(polyglot, customer_id)) >= len(orders) and f, TIMEOUT)
    assert sorted(n["order_id"] for n in shown) == sorted(orders)


@pytest.mark.parametrize(
    ("data", "event_type"),
    [
        ({"order_id": 42, "items": "many"}, EventType.PAYMENT_SUCCEEDED),
        ({"order_id": "o-1"}, "coupon.redeemed"),
    ],
    ids=["malformed", "unknown-type"],
)
def test_poison_on_payments_is_dead_lettered_by_each_subscriber(
    polyglot: Polyglot, data: dict[str, Any], event_type: str
) -> None:
    poison_id = f"poison-{uuid4().hex}"

    published = publish(polyglot, Topic.PAYMENTS, data, event_type, poison_id)

    # Both shipping and notifications hear payments, and each dead-letters what it refuses.
    def dead_letters() -> list[dict[str, Any]]:
        return [e for e in polyglot.broker.events(Topic.DEAD_LETTERS) if e["id"] == poison_id]

    dead = wait_until(lambda: len(d := dead_letters()) == 2 and d, TIMEOUT)
    assert {e["type"] for e in dead} == {event_type}
    # Each acknowledges the poison once its dead letter is out: no retry storm.
    for app_id in ("shipping", "notifications"):
        wait_until(lambda a=app_id: polyglot.broker.consumed(Topic.PAYMENTS, a, up_to=published), TIMEOUT)
