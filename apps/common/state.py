"""What every repository over the Dapr state API shares: reads with ETags,
first-write-wins writes, and writes that announce an event (the app's own outbox).

Each write touches one key. Redis runs a Dapr state transaction as MULTI/EXEC, where
one operation failing its ETag check does not undo the others, so a multi-key
transaction cannot be all-or-nothing under concurrency; single-key writes can.

The outbox: a record that announces facts is stored with the events it has yet to
publish, in one ETag-guarded write (both or neither). The app then publishes them
through its sidecar, each with an id derived from the fact, and clears them off the
critical path a second later, unless a write of the key carried them off before. A
crash in between leaves them on the record: the redelivery of the message that caused
the write finds its effect applied and publishes them again (`relay`), with the same
ids, which consumers already deduplicate.
"""

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import unquote

import grpc
from dapr.aio.clients import DaprClient
from dapr.clients.grpc._state import Concurrency, Consistency, StateOptions
from pydantic import BaseModel, ConfigDict

from contracts.events import Event
from contracts.names import PUBSUB

log = logging.getLogger("outbox")

# How many ids of published events an app remembers (DaprState._published).
PUBLISHED_REMEMBERED = 10_000
# How long published events stay on their record before a clear takes them off: a saga's
# next write of the record comes within milliseconds, drops them at no cost, and so meets
# no clear racing it for the ETag.
CLEAR_AFTER_S = 1.0
# First-write-wins: a write carrying an ETag fails if anyone wrote the key since it
# was read; a write without one only creates a key that does not exist yet.
FIRST_WRITE = StateOptions(concurrency=Concurrency.first_write, consistency=Consistency.strong)
# Dapr refuses a key that holds "||" (its own separator between app-id and key), and a
# key can come from a caller (an order id, an idempotency key): "|" is stored
# percent-encoded, and so "%" too, which keeps the stored keys one-to-one with the keys.
_KEY_ESCAPES = str.maketrans({"%": "%25", "|": "%7C"})


def stored_key(key: str) -> str:
    """The key as the state store holds it."""
    return key.translate(_KEY_ESCAPES)


class ConcurrencyError(Exception):
    """Someone else changed the key between our read and our write: read again."""


class Announcement(BaseModel):
    """An event as a record keeps it until it is known to be published."""

    model_config = ConfigDict(frozen=True)

    id: str
    topic: str
    type: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> "Announcement":
        # Each fact happens at most once per order (contracts.events), so the order and
        # the type name it: the same id however often it is published.
        return cls(
            id=f"{event.order_id}/{event.type}", topic=event.topic, type=event.type, data=event.model_dump(mode="json")
        )


class _Envelope(BaseModel):
    """How a record that announces is stored: the record, and its pending events."""

    record: Any
    pending: tuple[Announcement, ...] = ()


@dataclass(frozen=True)
class Version:
    """What a write presents to replace a key as it was read: its ETag, and the events
    written with it that may not be published yet (the write carries them on)."""

    etag: str
    pending: tuple[Announcement, ...] = ()


T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A value as read, with the version a write must present to replace it."""

    value: T
    version: Version


class State(Protocol):
    """A key-value state store, read and written key by key. Values are bytes out, str in."""

    async def read(self, key: str) -> Versioned[bytes] | None: ...

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]: ...

    async def replace(self, key: str, data: str, version: Version) -> None:
        """Write `data` if the key is still at `version`; raise ConcurrencyError if not."""

    async def create(self, key: str, data: str) -> bool:
        """Write `data` only if the key does not exist; False if it already did."""

    async def read_with_pending(self, key: str) -> Versioned[bytes] | None:
        """A record kept by `write_and_announce`, with the events still pending on it."""

    async def write_and_announce(self, key: str, data: str, version: Version | None, event: Event | None) -> None:
        """Store the record `data` if the key is still at `version` (with None, only if
        the key does not exist yet), with `event` and whatever was pending on it; then
        publish them. ConcurrencyError if the key changed, and nothing is announced."""

    async def relay(self, key: str, version: Version) -> None:
        """Publish what is pending on a record as read (a redelivery found it applied)."""

    async def publish(self, event: Event) -> None:
        """Publish `event` now, tied to no record."""


class DaprState:
    """A Dapr state store, through the app's sidecar, which also publishes the records'
    announcements to the pub/sub."""

    def __init__(self, client: DaprClient, store: str) -> None:
        self._client = client
        self._store = store
        self._clearing: set[asyncio.Task[None]] = set()  # kept until done, or they may be collected
        # The ids of the events this app published, oldest first. A write that finds one
        # still pending on its record (its clear lost a race with another write) drops it
        # rather than carry it on and publish it again.
        self._published: OrderedDict[str, None] = OrderedDict()
        # The publishes under way, by event id: a write that carries an event another
        # delivery is still publishing waits for that publish instead of making its own.
        self._sending: dict[str, asyncio.Future[None]] = {}
        # The keys this app left published events on, each with the clear that is to take
        # them off; a later write of the key by this app replaces or cancels that clear.
        self._clear_due: dict[str, object] = {}

    async def read(self, key: str) -> Versioned[bytes] | None:
        found = await self._client.get_state(self._store, stored_key(key))
        return Versioned(found.data, Version(found.etag)) if found.data else None

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]:
        found = await self._client.get_bulk_state(self._store, [stored_key(key) for key in keys])
        return {unquote(item.key): Versioned(item.data, Version(item.etag)) for item in found.items if item.data}

    async def replace(self, key: str, data: str, version: Version) -> None:
        try:
            await self._client.save_state(self._store, stored_key(key), data, etag=version.etag, options=FIRST_WRITE)
        except Exception as error:
            if _grpc_code(error) == grpc.StatusCode.ABORTED:
                raise ConcurrencyError(key) from error
            raise

    async def create(self, key: str, data: str) -> bool:
        try:
            await self._client.save_state(self._store, stored_key(key), data, options=FIRST_WRITE)
        except Exception:
            # Redis answers "key exists" with an unspecific error: look before judging.
            if await self.read(key) is not None:
                return False
            raise
        return True

    async def read_with_pending(self, key: str) -> Versioned[bytes] | None:
        found = await self.read(key)
        if found is None:
            return None
        envelope = _Envelope.model_validate_json(found.value)
        return Versioned(json.dumps(envelope.record).encode(), Version(found.version.etag, envelope.pending))

    async def write_and_announce(self, key: str, data: str, version: Version | None, event: Event | None) -> None:
        carried = tuple(a for a in version.pending if a.id not in self._published) if version else ()
        pending = (*carried, *([Announcement.of(event)] if event else ()))
        envelope = _envelope(data, pending)
        if version is None:
            if not await self.create(key, envelope):
                raise ConcurrencyError(key)
        else:
            await self.replace(key, envelope, version)
        if not pending:
            self._clear_due.pop(key, None)
        await self._publish(key, pending)

    async def relay(self, key: str, version: Version) -> None:
        await self._publish(key, version.pending)

    async def publish(self, event: Event) -> None:
        await self._send(Announcement.of(event))

    async def _publish(self, key: str, pending: tuple[Announcement, ...]) -> None:
        if not pending:
            return
        for announcement in pending:
            await self._send_once(announcement)
        due = self._clear_due[key] = object()
        task = asyncio.create_task(self._clear(key, due))
        self._clearing.add(task)
        task.add_done_callback(self._clearing.discard)

    async def _clear(self, key: str, due: object) -> None:
        """After CLEAR_AFTER_S, take the published events off the record, unless a later
        write of ours took them off or is due to, or the record holds an event not known
        to be published: then its writer publishes (and clears) it."""
        await asyncio.sleep(CLEAR_AFTER_S)
        if self._clear_due.get(key) is not due:
            return
        del self._clear_due[key]
        try:
            found = await self.read_with_pending(key)
            if found is None or not found.version.pending:
                return
            if all(a.id in self._published for a in found.version.pending):
                await self.replace(key, _envelope(found.value.decode(), ()), found.version)
        except ConcurrencyError:
            pass
        except Exception:  # published all the same: a relay would publish them again, ids unchanged
            log.warning("could not clear published events off a record", exc_info=True)

    async def _send_once(self, announcement: Announcement) -> None:
        if announcement.id in self._published:
            return
        sending = self._sending.get(announcement.id)
        if sending is None:
            sending = self._sending[announcement.id] = asyncio.ensure_future(self._send(announcement))
            sending.add_done_callback(lambda _: self._sending.pop(announcement.id, None))
        # Shielded: a waiter cancelled (its request gone) does not cancel the publish others wait for.
        await asyncio.shield(sending)

    async def _send(self, announcement: Announcement) -> None:
        await self._client.publish_event(
            PUBSUB,
            announcement.topic,
            json.dumps(announcement.data),
            data_content_type="application/json",
            # daprd takes these for the CloudEvent's own id and type.
            publish_metadata={"cloudevent.id": announcement.id, "cloudevent.type": announcement.type},
        )
        self._published[announcement.id] = None
        if len(self._published) > PUBLISHED_REMEMBERED:
            self._published.popitem(last=False)


def _envelope(record: str, pending: tuple[Announcement, ...]) -> str:
    # The record is JSON already: put it in as it is rather than parse it again.
    events = ",".join(announcement.model_dump_json() for announcement in pending)
    return f'{{"record":{record},"pending":[{events}]}}'


def _grpc_code(error: Exception) -> grpc.StatusCode | None:
    # The SDK wraps the gRPC error, whose status code tells an ETag mismatch (ABORTED).
    cause = error.__cause__
    return cause.code() if isinstance(cause, grpc.aio.AioRpcError) else None
