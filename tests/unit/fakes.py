"""An in-memory stand-in for a Dapr state store with an outbox: the unit tier's repository.

It keeps the same first-write-wins rules as the Dapr state API: every write bumps the
key's ETag, a write with a stale ETag fails, a create never overwrites; and what a write
announces is kept in `announced`, in order, only if the write succeeded.
"""

from collections.abc import Iterable

from common.state import ConcurrencyError, Versioned
from contracts.events import Event


class InMemoryState:
    def __init__(self) -> None:
        self.items: dict[str, Versioned[bytes]] = {}
        self.announced: list[Event] = []

    async def read(self, key: str) -> Versioned[bytes] | None:
        return self.items.get(key)

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]:
        return {key: self.items[key] for key in keys if key in self.items}

    async def replace(self, key: str, data: str, etag: str) -> None:
        if key not in self.items or self.items[key].etag != etag:
            raise ConcurrencyError(key)
        self._write(key, data)

    async def create(self, key: str, data: str) -> bool:
        if key in self.items:
            return False
        self._write(key, data)
        return True

    async def write_and_announce(self, key: str, data: str, etag: str | None, event: Event) -> None:
        if etag is None:
            self._write(key, data)
        else:
            await self.replace(key, data, etag)
        self.announced.append(event)

    def _write(self, key: str, data: str) -> None:
        version = int(self.items[key].etag) + 1 if key in self.items else 1
        self.items[key] = Versioned(data.encode(), str(version))
