"""The storefront's repository: dead letters, and the index that lists them in order."""

import json
from collections.abc import Callable
from datetime import datetime

from common.state import ConcurrencyError, State
from storefront.model import DeadLetter

# Its Dapr state store (components/stores.yaml), scoped to storefront alone.
STORE = "storefront-store"
INDEX = "deadletters"
MAX_ATTEMPTS = 10


class DeadLetterStore:
    def __init__(self, state: State) -> None:
        self._state = state

    async def put(self, letter: DeadLetter) -> None:
        """Keep `letter`; one that comes back (say, after a failed replay) is kept once,
        with the time it came back. It is listed in either case: a delivery that kept it
        but lost the race for the index (and so is delivered again) must not leave it out."""
        if not await self._state.create(_letter_key(letter.id), letter.model_dump_json()):
            await self._update_letter(letter.id, lambda kept: kept.model_copy(update={"received_at": letter.received_at}))
        await self._update(INDEX, lambda ids: ids if letter.id in (ids or []) else [*(ids or []), letter.id])

    async def get(self, letter_id: str) -> DeadLetter | None:
        found = await self._state.read(_letter_key(letter_id))
        return DeadLetter.model_validate_json(found.value) if found else None

    async def all(self) -> list[DeadLetter]:
        index = await self._state.read(INDEX)
        keys = [_letter_key(letter_id) for letter_id in json.loads(index.value)] if index else []
        found = await self._state.read_many(keys)
        return [DeadLetter.model_validate_json(found[key].value) for key in keys if key in found]

    async def mark_replayed(self, letter_id: str, at: datetime) -> DeadLetter:
        return await self._update_letter(
            letter_id, lambda kept: kept.model_copy(update={"replays": kept.replays + 1, "replayed_at": at})
        )

    async def _update_letter(self, letter_id: str, change: Callable[[DeadLetter], DeadLetter]) -> DeadLetter:
        changed = await self._update(
            _letter_key(letter_id), lambda kept: change(DeadLetter.model_validate(kept)).model_dump(mode="json")
        )
        return DeadLetter.model_validate(changed)

    async def _update(self, key: str, change: Callable[[object], object]) -> object:
        """An ETag-guarded read-modify-write of a JSON value, retried on conflicts."""
        for _ in range(MAX_ATTEMPTS):
            found = await self._state.read(key)
            if found is None:
                value = change(None)
                if await self._state.create(key, json.dumps(value)):
                    return value
                continue
            value = change(json.loads(found.value))
            try:
                await self._state.replace(key, json.dumps(value), found.version)
                return value
            except ConcurrencyError:
                continue
        raise ConcurrencyError(key)


def _letter_key(letter_id: str) -> str:
    return f"deadletter/{letter_id}"
