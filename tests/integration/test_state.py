"""The apps' state API (common.state) against a real sidecar and Redis: a write through the
outbox with a stale ETag is a ConcurrencyError that the handlers retry, not a 500 (Dapr
1.18 answers it with INTERNAL "failed to set key"); one with no ETag replaces the key, as
Dapr's transactions take no first-write option."""

import asyncio
from collections.abc import Iterator
from uuid import uuid4

import pytest
from dapr.aio.clients import DaprClient
from dapr.conf import settings as dapr_settings

from common.state import ConcurrencyError, DaprState
from contracts.events import OrderCancelled
from contracts.names import ORDERS_STORE
from tests.support.processes import Process
from tests.support.sidecars import Ports, sidecar_alone, start_redis

REDIS_PORT = 6394  # a Redis of its own: what the outbox announces here reaches no app
PORTS = Ports(app=0, dapr_http=3720, dapr_grpc=4720, metrics=9720)


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


async def writes(key: str) -> tuple[bool, bytes]:
    """Write `key`, write it again with its ETag, try once more with the first, now stale,
    ETag, then write with none: whether the stale write raised ConcurrencyError, and
    what the key holds at the end."""
    event = OrderCancelled(order_id=key, customer_id="c-state", reason="payment_declined")
    async with DaprClient(address=f"127.0.0.1:{PORTS.dapr_grpc}") as client:
        state = DaprState(client, ORDERS_STORE)
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
    orders_sidecar: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client waits for its sidecar's health on the HTTP port, which an app is told
    # by its environment before it starts.
    monkeypatch.setattr(dapr_settings, "DAPR_HTTP_PORT", PORTS.dapr_http)
    assert asyncio.run(writes(f"order/{uuid4().hex}")) == (True, b'{"v": 4}')
