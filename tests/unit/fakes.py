"""In-memory stand-ins for the state store and the publisher: the unit tier's repository.

InMemoryState keeps the same first-write-wins rules as the Dapr state API: every write
bumps the key's ETag, a write with a stale ETag fails, a create never overwrites.
"""

from collections.abc import Iterable

from common.state import ConcurrencyError, Versioned
from contracts.events import Event


class InMemoryState:
    def __init__(self) -> None:
        self.items: dict[str, Versioned[bytes]] = {}

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

    def _write(self, key: str, data: str) -> None:
        version = int(self.items[key].etag) + 1 if key in self.items else 1
        self.items[key] = Versioned(data.encode(), str(version))


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)
