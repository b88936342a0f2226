"""An in-memory stand-in for a Dapr state store and the app's outbox: the unit tier's repository.

It keeps the same first-write-wins rules as the Dapr state API: every write bumps the
key's ETag, a write with a stale ETag fails, a create never overwrites. What a write
announces is published (kept in `announced`, in order) only if the write succeeded; with
`publishing` off, it stays pending on its record, as after a crash between the two.
"""

from collections.abc import Iterable

from common.state import Announcement, ConcurrencyError, Version, Versioned
from contracts.events import EVENTS, Event


class PublishFailed(Exception):
    """The broker refused a publish."""


class InMemoryState:
    def __init__(self) -> None:
        self.items: dict[str, Versioned[bytes]] = {}
        self.announced: list[Event] = []
        self.publishing = True

    async def read(self, key: str) -> Versioned[bytes] | None:
        found = self.items.get(key)
        return Versioned(found.value, Version(found.version.etag)) if found else None

    async def read_many(self, keys: Iterable[str]) -> dict[str, Versioned[bytes]]:
        return {key: found for key in keys if (found := await self.read(key)) is not None}

    async def replace(self, key: str, data: str, version: Version) -> None:
        self._write(key, data, version)

    async def create(self, key: str, data: str) -> bool:
        if key in self.items:
            return False
        self._write(key, data, None)
        return True

    async def read_with_pending(self, key: str) -> Versioned[bytes] | None:
        return self.items.get(key)

    async def write_and_announce(self, key: str, data: str, version: Version | None, event: Event | None) -> None:
        pending = (*(version.pending if version else ()), *([Announcement.of(event)] if event else ()))
        self._write(key, data, version, pending)
        await self.relay(key, self.items[key].version)

    async def relay(self, key: str, version: Version) -> None:
        for announcement in version.pending:
            await self._send(announcement)
        stored = self.items[key]
        if stored.version.pending and {a.id for a in stored.version.pending} <= {a.id for a in version.pending}:
            self._write(key, stored.value.decode(), stored.version)

    async def publish(self, event: Event) -> None:
        await self._send(Announcement.of(event))

    async def _send(self, announcement: Announcement) -> None:
        if not self.publishing:
            raise PublishFailed(announcement.id)
        self.announced.append(EVENTS[announcement.type].model_validate(announcement.data))

    def _write(self, key: str, data: str, version: Version | None, pending: tuple[Announcement, ...] = ()) -> None:
        stored = self.items.get(key)
        if (stored is None) != (version is None) or (stored and version and stored.version.etag != version.etag):
            raise ConcurrencyError(key)
        etag = str(int(stored.version.etag) + 1) if stored else "1"
        self.items[key] = Versioned(data.encode(), Version(etag, pending))
