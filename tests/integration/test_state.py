"""The apps' state API and outbox (common.state) against a real sidecar and Redis: a record
and its announcement are written both or neither; a write with a stale version is a
ConcurrencyError that announces nothing; each event is published with its own id, the
same however often, and once by the app that published it; what was published is cleared
off the record; an event the broker refused stays on the record, and a relay publishes it."""

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import uuid4

import grpc
import pytest
from dapr.aio.clients import DaprClient
from dapr.conf import settings as dapr_settings
from redis import Redis

from common.state import CLEAR_AFTER_S, Announcement, ConcurrencyError, DaprState, Version
from common.tracing import SIDECAR_CALL_TIMEOUT_S, dapr_client
from contracts.events import OrderCancelled, OrderConfirmed, OrderPlaced
from contracts.names import Topic
from orders.store import STORE as ORDERS_STORE
from tests.support.credentials import redis_client
from tests.support.processes import Process
from tests.support.sidecars import Ports, sidecar_alone, start_redis

REDIS_PORT = 6394  # a Redis of its own: what is announced here reaches no app
PORTS = Ports(app=0, dapr_http=3720, dapr_grpc=4720, metrics=9720)
CLEARED_WITHIN_S = 10.0


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


def facts(order_id: str) -> tuple[OrderConfirmed, OrderCancelled, OrderPlaced]:
    """Three facts about one order, each of its own type (and so its own event id)."""
    return (
        OrderConfirmed(order_id=order_id, customer_id="c-state", amount_cents=100),
        OrderCancelled(order_id=order_id, customer_id="c-state", reason="payment_declined"),
        OrderPlaced(order_id=order_id, customer_id="c-state", items=({"sku": "tea", "quantity": 1},)),
    )


def test_a_write_with_a_stale_version_is_a_concurrency_error_and_announces_nothing(orders_api: None) -> None:
    order_id = uuid4().hex
    key, (first_fact, second_fact, stale_fact) = f"order/{order_id}", facts(order_id)

    async def writes() -> tuple[bool, bytes]:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, first_fact)
            assert await cleared(state, key) is None  # the clear is a write too: read after it
            first = await state.read_with_pending(key)
            assert first is not None
            await state.write_and_announce(key, '{"v": 2}', first.version, second_fact)
            try:
                await state.write_and_announce(key, '{"v": 3}', first.version, stale_fact)
                refused = False
            except ConcurrencyError:
                refused = True
            last = await state.read_with_pending(key)
        assert last is not None
        return refused, last.value

    assert asyncio.run(writes()) == (True, b'{"v": 2}')
    published = {event["id"] for event in announcements(redis_client(REDIS_PORT), order_id)}
    assert published == {f"{order_id}/order.confirmed", f"{order_id}/order.cancelled"}


def test_a_write_that_carries_an_event_already_published_does_not_publish_it_again(orders_api: None) -> None:
    """As when a write reads the record before the clear of its last event lands: the
    write still carries that event, but this app knows it published it."""
    order_id = uuid4().hex
    key, (first_fact, second_fact, _) = f"order/{order_id}", facts(order_id)

    async def writes() -> Version | None:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, first_fact)
            assert await cleared(state, key) is None
            found = await state.read_with_pending(key)
            assert found is not None
            before_the_clear = Version(found.version.etag, (Announcement.of(first_fact),))
            await state.write_and_announce(key, '{"v": 2}', before_the_clear, second_fact)
            return await cleared(state, key)

    assert asyncio.run(writes()) is None
    published = [event["id"] for event in announcements(redis_client(REDIS_PORT), order_id)]
    assert sorted(published) == sorted([fact_id(first_fact), fact_id(second_fact)])


def test_the_next_write_of_a_record_carries_its_published_event_off_and_no_clear_races_it(orders_api: None) -> None:
    """As in the saga, where a record's next fact comes milliseconds after its last
    announcement: that write leaves nothing pending, and the clear due a second later
    writes nothing (its ETag stays)."""
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)

    async def writes() -> tuple[Version, Version]:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, fact)
            found = await state.read_with_pending(key)
            assert found is not None and found.version.pending == (Announcement.of(fact),)
            await state.write_and_announce(key, '{"v": 2}', found.version, None)
            written = await state.read_with_pending(key)
            await asyncio.sleep(CLEAR_AFTER_S + 0.5)
            later = await state.read_with_pending(key)
            assert written is not None and later is not None
            return written.version, later.version

    written, later = asyncio.run(writes())
    assert written.pending == ()
    assert later == written


def test_a_relay_of_an_event_still_being_published_waits_for_that_publish(orders_api: None) -> None:
    """As when a redelivery, or a write to the same record, comes while the first
    delivery is still publishing: one publish, both told of its outcome. Redis refuses
    XADD for a second, which holds the first publish in the resiliency policy's retries."""
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)
    broker = redis_client(REDIS_PORT)

    async def write_and_relay() -> Version | None:
        async with orders_state() as state:
            with xadd_refused(broker):
                writing = asyncio.create_task(state.write_and_announce(key, '{"v": 1}', None, fact))
                found = None
                for _ in range(100):  # the write lands at once; its publish is what waits
                    if (found := await state.read_with_pending(key)) is not None:
                        break
                    await asyncio.sleep(0.01)
                assert found is not None
                relaying = asyncio.create_task(state.relay(key, found.version))
                await asyncio.sleep(1)
            await asyncio.gather(writing, relaying)
            return await cleared(state, key)

    assert asyncio.run(write_and_relay()) is None
    assert [event["id"] for event in announcements(broker, order_id)] == [fact_id(fact)]


def test_a_call_to_a_sidecar_that_stopped_answering_fails_at_its_deadline(
    orders_sidecar: Process, orders_api: None
) -> None:
    """As when a sidecar hangs under its app (here SIGSTOP): the app's call fails after
    SIDECAR_CALL_TIMEOUT_S, and its delivery with it, to come again, where the SDK alone
    would wait for good."""

    async def read_while_stopped() -> BaseException:
        async with dapr_client(f"127.0.0.1:{PORTS.dapr_grpc}") as client:
            state = DaprState(client, ORDERS_STORE)
            await state.read("order/deadline")  # connected
            os.kill(orders_sidecar.pid, signal.SIGSTOP)
            try:
                with pytest.raises(Exception) as raised:
                    await asyncio.wait_for(state.read("order/deadline"), 3 * SIDECAR_CALL_TIMEOUT_S)
            finally:
                os.kill(orders_sidecar.pid, signal.SIGCONT)
            return raised.value

    failure = asyncio.run(read_while_stopped())
    assert isinstance(failure.__cause__, grpc.aio.AioRpcError), repr(failure)
    assert failure.__cause__.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_new_record_is_created_once(orders_api: None) -> None:
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)

    async def creates() -> bytes:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, fact)
            with pytest.raises(ConcurrencyError):
                await state.write_and_announce(key, '{"v": 2}', None, fact)
            found = await state.read_with_pending(key)
        assert found is not None
        return found.value

    assert asyncio.run(creates()) == b'{"v": 1}'


def test_an_event_is_published_with_its_own_id_and_type_in_the_trace_and_cleared_off_its_record(
    orders_api: None,
) -> None:
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)

    async def write_then_pending() -> Version | None:
        async with orders_state() as state:
            await state.write_and_announce(key, '{"v": 1}', None, fact)
            return await cleared(state, key)

    assert asyncio.run(write_then_pending()) is None
    (event,) = announcements(redis_client(REDIS_PORT), order_id)
    assert (event["id"], event["type"], event["data"]) == (fact_id(fact), fact.type, fact.model_dump(mode="json"))
    assert event["traceparent"]


def test_an_event_the_broker_refused_stays_on_its_record_until_a_relay_publishes_it(orders_api: None) -> None:
    """As after a crash between the write and the publish: the redelivery of the message
    that caused the write finds it applied and relays what is still pending."""
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)
    broker = redis_client(REDIS_PORT)

    async def refused_then_relayed() -> tuple[tuple[str, ...], Version | None]:
        async with orders_state() as state:
            with xadd_refused(broker):
                with pytest.raises(Exception) as refused:  # after the resiliency policy's retries
                    await state.write_and_announce(key, '{"v": 1}', None, fact)
                assert not isinstance(refused.value, ConcurrencyError)
            stored = await state.read_with_pending(key)
            assert stored is not None and stored.value == b'{"v": 1}'
            pending = tuple(a.id for a in stored.version.pending)
            await state.relay(key, stored.version)
            return pending, await cleared(state, key)

    assert asyncio.run(refused_then_relayed()) == ((fact_id(fact),), None)
    assert [event["id"] for event in announcements(broker, order_id)] == [fact_id(fact)]


def test_an_announcement_outlasts_a_broker_that_refuses_it_for_a_while(orders_api: None) -> None:
    """The publish waits out a broker that refuses it under the resiliency policy's
    outbound retries (components/resiliency.yaml): Redis refuses XADD for 2 s here."""
    order_id = uuid4().hex
    key, (fact, _, _) = f"order/{order_id}", facts(order_id)
    broker = redis_client(REDIS_PORT)

    async def write_while_refused() -> Version | None:
        async with orders_state() as state:
            with xadd_refused(broker):
                writing = asyncio.create_task(state.write_and_announce(key, '{"v": 1}', None, fact))
                await asyncio.sleep(2)
            await writing
            return await cleared(state, key)

    assert asyncio.run(write_while_refused()) is None
    assert [event["id"] for event in announcements(broker, order_id)] == [fact_id(fact)]


@contextmanager
def xadd_refused(broker: Redis) -> Iterator[None]:
    """Redis refuses XADD, and so every publish, until the block ends."""
    broker.acl_setuser("default", enabled=True, commands=["-xadd"])
    try:
        yield
    finally:
        broker.acl_setuser("default", enabled=True, commands=["+xadd"])


async def cleared(state: DaprState, key: str) -> Version | None:
    """None once the record has nothing pending (the clear runs off the write's path);
    its version if it still has after CLEARED_WITHIN_S."""
    deadline = time.monotonic() + CLEARED_WITHIN_S
    while True:
        found = await state.read_with_pending(key)
        assert found is not None
        if not found.version.pending:
            return None
        if time.monotonic() > deadline:
            return found.version
        await asyncio.sleep(0.05)


def fact_id(fact: OrderConfirmed | OrderCancelled | OrderPlaced) -> str:
    return f"{fact.order_id}/{fact.type}"


def announcements(broker: Redis, order_id: str) -> list[dict[str, Any]]:
    """The CloudEvents about `order_id` published to the orders topic."""
    events = (json.loads(fields[b"data"]) for _, fields in broker.xrange(Topic.ORDERS))
    return [event for event in events if event["data"]["order_id"] == order_id]
