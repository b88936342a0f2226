"""A crash between a record's write and its announcement (common.state's outbox), made
certain rather than hoped for: Redis refuses every XADD, so the orders app's publish of
`order.placed` waits in its sidecar's retries after the order's record is written; then
the app, or its sidecar, is SIGKILLed there. Once both are back, the command's redelivery
finds the order placed and relays `order.placed`: the order ships, nothing announced was
not stored, and each fact has one event id however often it was published."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
import redis

from contracts.names import FACT_TOPICS, EventType, Topic
from tests.integration.flows import settled
from tests.support.credentials import redis_client
from tests.support.system import System
from tests.support.waiting import wait_until

# A message a killed sidecar held comes back after the pub/sub's processingTimeout
# (components/pubsub.yaml: 120 s), looked for every redeliverInterval (5 s).
REDELIVERED_WITHIN_S = 180
WRITTEN_WITHIN_S = 10
# Who puts the command on the broker while the sidecars' user may not: a Redis user of
# the test's own, with every right.
INJECTOR = "outbox-crash-test"


@pytest.fixture
def injector(system: System) -> Iterator[redis.Redis]:
    admin = redis_client(system.redis_port)
    password = uuid4().hex
    admin.acl_setuser(INJECTOR, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"], commands=["+@all"])
    try:
        yield redis.Redis(port=system.redis_port, username=INJECTOR, password=password)
    finally:
        admin.acl_setuser("default", enabled=True, commands=["+xadd"])
        admin.acl_deluser(INJECTOR)


@pytest.mark.parametrize("killed", ["app", "sidecar"])
def test_a_crash_between_the_write_and_the_publish_loses_nothing_and_announces_once(
    system: System, injector: redis.Redis, killed: str
) -> None:
    order_id = uuid4().hex
    command = {
        "id": f"{order_id}/{EventType.ORDER_REQUESTED}", "specversion": "1.0", "source": "orders",
        "type": EventType.ORDER_REQUESTED, "datacontenttype": "application/json",
        "topic": Topic.ORDER_REQUESTS, "pubsubname": "pubsub",
        "data": {"order_id": order_id, "customer_id": "c-crash", "items": [{"sku": "tea-sencha", "quantity": 1}]},
    }
    orders = system["orders"]

    injector.acl_setuser("default", enabled=True, commands=["-xadd"])
    injector.xadd(Topic.ORDER_REQUESTS, {"data": json.dumps(command)})
    record = wait_until(lambda: stored(injector, order_id), WRITTEN_WITHIN_S)
    assert [event["id"] for event in record["pending"]] == [f"{order_id}/{EventType.ORDER_PLACED}"]
    if killed == "app":
        orders.app.kill()
        orders.start_app()
    else:
        orders.sidecar.kill()
        orders.start_sidecar()
    injector.acl_setuser("default", enabled=True, commands=["+xadd"])
    orders.wait_ready()

    assert settled(system, order_id, REDELIVERED_WITHIN_S)["status"] == "shipped"
    published = [event for topic in FACT_TOPICS for event in system.broker.about(order_id, topic)]
    ids_by_type: dict[str, set[str]] = {}
    for event in published:
        ids_by_type.setdefault(event["type"], set()).add(event["id"])
    assert ids_by_type == {
        EventType.ORDER_PLACED: {f"{order_id}/{EventType.ORDER_PLACED}"},
        EventType.STOCK_RESERVED: {f"{order_id}/{EventType.STOCK_RESERVED}"},
        EventType.PAYMENT_SUCCEEDED: {f"{order_id}/{EventType.PAYMENT_SUCCEEDED}"},
        EventType.SHIPMENT_SCHEDULED: {f"{order_id}/{EventType.SHIPMENT_SCHEDULED}"},
        EventType.ORDER_CONFIRMED: {f"{order_id}/{EventType.ORDER_CONFIRMED}"},
    }
    history = stored(injector, order_id)
    assert history is not None
    assert [fact["type"] for fact in history["record"]["history"]] == [
        EventType.ORDER_PLACED, EventType.STOCK_RESERVED, EventType.PAYMENT_SUCCEEDED, EventType.SHIPMENT_SCHEDULED,
    ]


def stored(client: redis.Redis, order_id: str) -> dict[str, Any] | None:
    """The order's record as the orders store keeps it, with the events pending on it."""
    data = client.hget(f"orders||order/{order_id}", "data")
    return json.loads(data) if data is not None else None
