"""The apps' state API (common.state) against a real sidecar and Redis: a write through the
outbox with a stale ETag is a ConcurrencyError that the handlers retry, not a 500 (Dapr
1.18 answers it with INTERNAL "failed to set key"); one with no ETag replaces the key, as
Dapr's transactions take no first-write option; on Redis, the refused write is announced
all the same; an announcement whose state never comes is dropped; one the broker refuses
for a while is published when it takes it again."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from uuid import uuid4

import pytest
from dapr.aio.clients import DaprClient
from dapr.conf import settings as dapr_settings
from redis import Redis

from common.state import ConcurrencyError, DaprState
from contracts.events import OrderCancelled
from contracts.names import ORDERS_STORE, Topic
from tests.support.credentials import redis_client
from tests.support.processes import Process
from tests.support.sidecars import Ports, sidecar_alone, start_redis

REDIS_PORT = 6394  # a Redis of its own: what the outbox announces here reaches no app
PORTS = Ports(app=0, dapr_http=3720, dapr_grpc=4720, metrics=9720)
# Where the orders sidecar's outbox puts each announcement until its state is committed:
# daprd's internal topic <namespace><app-id><topic>outbox, read by the group "orders".
OUTBOX_STREAM = "defaultordersordersoutbox"
# daprd holds each announcement 1 s before it publishes it, and looks for a missing
# state for 10 s before it drops the announcement.
ANNOUNCED_WITHIN_S = 10.0
DISCARD_WITHIN_S = 30.0


@pytest.fixture(scope="module")
def orders_sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    logs = tmp_path_factory.mktemp("state-logs")
    server = start_redis(REDIS_PORT, tmp_path_factory.mktemp("state-redis"), logs)
    try:
        sidecar = sidecar_alone("orders", PORTS, REDIS_PORT, logs)
        yield sidecar
        sidecar.stop()
    finally:
        server.stop()


@pytest.fixture
def orders_api(orders_sidecar: Process, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lone orders sidecar, for the Dapr client: it waits for its sidecar's health on
    the HTTP port, which an app is told by its environment before it starts."""
    monkeypatch.setattr(dapr_settings, "DAPR_HTTP_PORT", PORTS.dapr_http)


@asynccontextmanager
async def orders_state() -> AsyncIterator[DaprState]:
    async with DaprClient(address=f"127.0.0.1:{PORTS.dapr_grpc}") as client:
        yield DaprState(client, ORDERS_STORE)


async def writes(key: str) -> tuple[bool, bytes]:
    """Write `key`, write it again with its ETag, try once more with the first, now stale,
    ETag, then write with none: whether the stale write raised ConcurrencyError, and
    what the key holds at the end."""
    event = OrderCancelled(order_id=key, customer_id="c-state", reason="payment_declined")
    async with orders_state() as state:
        await state.write_and_announce(key, '{"v": 1}', None, event)
        first = await state.read(key)
        assert first is not None
        await state.write_and_announce(key, '{"v": 2}', first.etag, event)
        try:
            await state.write_and_announce(key, '{"v": 3}', first.etag, event)
            refused = False
        except ConcurrencyError:
            refused = True
        stale = await state.read(key)
        assert stale is not None and stale.value == b'{"v": 2}'  # the stale write changed nothing
        await state.write_and_announce(key, '{"v": 4}', None, event)
        last = await state.read(key)
    assert last is not None
    return refused, last.value


def test_an_outbox_write_with_a_stale_etag_is_a_concurrency_error_and_one_without_replaces(
    orders_api: None,
) -> None:
    assert asyncio.run(writes(f"order/{uuid4().hex}")) == (True, b'{"v": 4}')


def test_on_redis_a_refused_write_is_announced_all_the_same(orders_api: None) -> None:
    """Dapr runs a transaction on Redis as MULTI/EXEC, which has no rollback: the write
    whose ETag is stale fails, the outbox's own record in the same transaction does not,
    so the event of a write that never happened is published. This pins that limit; the
    docs/runtime-facts.md says how the apps live with it."""
    key = f"order/{uuid4().hex}"
    refused, _ = asyncio.run(writes(key))
    assert refused
    broker = redis_client(REDIS_PORT)
    deadline = time.monotonic() + ANNOUNCED_WITHIN_S
    while (announced := announcements_of(broker, key)) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert announced == 4  # four writes, three committed


def test_an_announcement_whose_state_never_came_is_dropped(orders_sidecar: Process) -> None:
    """An announcement on the outbox's internal topic whose state is missing (its sidecar
    died before the transaction, or after publishing it and before acknowledging it) is
    dropped (`outboxDiscardWhenMissingState`). Dapr 1.18.2 as released looks for that state
    forever, in a loop without a pause; the build tools/setup.sh makes is patched
    (tools/dapr-runtime/patches)."""
    broker = redis_client(REDIS_PORT)
    event = {"id": uuid4().hex, "specversion": "1.0", "source": "orders", "type": "order.placed",
             "datacontenttype": "application/json", "data": {}}
    broker.xadd(OUTBOX_STREAM, {"data": json.dumps(event), "metadata": "{}"})
    deadline = time.monotonic() + DISCARD_WITHIN_S
    while (unfinished := outbox_backlog(broker)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert unfinished == 0, f"{unfinished} announcements unread or unacknowledged after {DISCARD_WITHIN_S:.0f}s"


def test_an_announcement_outlasts_a_broker_that_refuses_it_for_a_while(orders_api: None) -> None:
    """The outbox hands an announcement to the broker once; the Redis pubsub acknowledges
    its internal message even when that fails, so only the resiliency policy's outbound
    retries (components/resiliency.yaml) keep the event. Here Redis refuses XADD for 2 s,
    from just after the write commits: the outbox publishes inside that time."""
    key = f"order/{uuid4().hex}"
    event = OrderCancelled(order_id=key, customer_id="c-state", reason="payment_declined")
    broker = redis_client(REDIS_PORT)

    async def write() -> None:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, event)

    asyncio.run(write())
    broker.acl_setuser("default", commands=["-xadd"])  # the outbox waits 1 s before publishing
    try:
        time.sleep(2)
    finally:
        broker.acl_setuser("default", commands=["+xadd"])
    deadline = time.monotonic() + ANNOUNCED_WITHIN_S
    while (announced := announcements_of(broker, key)) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert announced == 1


def announcements_of(broker: Redis, order_id: str) -> int:
    """The events about `order_id` published to the orders topic."""
    entries = broker.xrange(Topic.ORDERS)
    return sum(json.loads(fields[b"data"])["data"]["order_id"] == order_id for _, fields in entries)


def outbox_backlog(broker: Redis) -> int:
    """Announcements on the internal topic the sidecar has not read, or not acknowledged."""
    (group,) = [group for group in broker.xinfo_groups(OUTBOX_STREAM) if group["name"] == b"orders"]
    return group["lag"] + group["pending"]
