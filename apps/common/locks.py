"""One read-modify-write at a time per key within a replica: deliveries about the same
record otherwise spend their attempts on each other's ETags. Replicas still meet at the
ETags."""

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager


class KeyLocks:
    def __init__(self) -> None:
        # A lock lives only while someone holds it or waits for it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def holding(self, keys: Iterable[str]) -> AsyncIterator[None]:
        async with AsyncExitStack() as held:
            for key in sorted(set(keys)):  # always in one order: no two wait for each other
                lock = self._locks.get(key)
                if lock is None:
                    lock = self._locks[key] = asyncio.Lock()
                await held.enter_async_context(lock)
            yield
