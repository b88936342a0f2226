"""What every repository over the Dapr state API shares: reads with ETags,
first-write-wins writes, and writes that announce an event through the outbox.

Each write touches one key. Redis runs a Dapr state transaction as MULTI/EXEC, where
one operation failing its ETag check does not undo the others, so a multi-key
transaction cannot be all-or-nothing under concurrency; single-key writes can.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import unquote

import grpc
from dapr.aio.clients import DaprClient
from dapr.clients.grpc._request import TransactionalStateOperation
from dapr.clients.grpc._state import Concurrency, Consistency, StateOptions

from common.tracing import trace_context
from contracts.events import Event

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


T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A value as read, with the ETag a write must present to replace it."""

    value: T
    etag: str


class State(Protocol):
    """A key-value state store, read and written key by key. Values are bytes out, str in."""

    async def read(self, key: str) -> Versioned[bytes] | None: ...

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]: ...

    async def replace(self, key: str, data: str, etag: str) -> None:
        """Write `data` if the key still has `etag`; raise ConcurrencyError if not."""

    async def create(self, key: str, data: str) -> bool:
        """Write `data` only if the key does not exist; False if it already did."""

    async def write_and_announce(self, key: str, data: str, etag: str | None, event: Event) -> None:
        """Write `data` (if the key still has `etag`) and announce `event`, both or
        neither; ConcurrencyError if the key changed, whose event Redis publishes all the
        same (no rollback: docs/runtime-facts.md). With no `etag`, the write replaces whatever the key
        holds: Dapr 1.18 cannot make a transaction's write create-only (both pinned by
        tests/integration/test_state.py)."""


class DaprState:
    """A Dapr state store, through the app's sidecar."""

    def __init__(self, client: DaprClient, store: str) -> None:
        self._client = client
        self._store = store

    async def read(self, key: str) -> Versioned[bytes] | None:
        found = await self._client.get_state(self._store, stored_key(key))
        return Versioned(found.data, found.etag) if found.data else None

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]:
        found = await self._client.get_bulk_state(self._store, [stored_key(key) for key in keys])
        return {unquote(item.key): Versioned(item.data, item.etag) for item in found.items if item.data}

    async def replace(self, key: str, data: str, etag: str) -> None:
        try:
            await self._client.save_state(self._store, stored_key(key), data, etag=etag, options=FIRST_WRITE)
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

    async def write_and_announce(self, key: str, data: str, etag: str | None, event: Event) -> None:
        # One transaction on a store with an outbox (components/*-store.yaml): Dapr
        # publishes the projection, the event, to the store's topic only if the state
        # write commits. The write's metadata becomes the CloudEvent's attributes: its
        # type, and the trace context, which the outbox would otherwise leave empty.
        metadata = {"type": event.type, **trace_context()}
        stored = stored_key(key)
        operations = [
            TransactionalStateOperation(key=stored, data=data, etag=etag, metadata=metadata),
            TransactionalStateOperation(
                key=stored,
                data=event.model_dump_json(),
                metadata={"outbox.projection": "true", "contentType": "application/json"},
            ),
        ]
        try:
            await self._client.execute_state_transaction(self._store, operations)
        except Exception as error:
            # A transaction tells no ETag mismatch apart (on Redis, Dapr 1.18 answers
            # INTERNAL "failed to set key"): a key written since it was read is one.
            aborted = _grpc_code(error) == grpc.StatusCode.ABORTED
            if aborted or (etag is not None and await self._etag_of(key) != etag):
                raise ConcurrencyError(key) from error
            raise

    async def _etag_of(self, key: str) -> str | None:
        found = await self.read(key)
        return found.etag if found else None


def _grpc_code(error: Exception) -> grpc.StatusCode | None:
    # The SDK wraps the gRPC error, whose status code tells an ETag mismatch (ABORTED).
    cause = error.__cause__
    return cause.code() if isinstance(cause, grpc.aio.AioRpcError) else None
