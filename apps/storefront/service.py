"""The storefront service: keeps dead letters and replays them to where they came from."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from dapr.aio.clients import DaprClient

from contracts.names import PUBSUB
from storefront import decisions
from storefront.model import DeadLetter
from storefront.store import DeadLetterStore

log = logging.getLogger("storefront")


class NotReplayable(Exception):
    """The dead letter was no CloudEvent, so there is no topic or type to replay it to."""


class StorefrontService:
    def __init__(self, store: DeadLetterStore, client: DaprClient) -> None:
        self._store = store
        self._client = client

    async def keep_dead_letter(self, delivery: dict[str, Any]) -> None:
        letter = decisions.dead_letter(delivery)
        await self._store.put(letter)
        log.warning("kept a dead letter", extra={"event_id": letter.id, "event_type": str(letter.type)})

    async def dead_letters(self) -> list[DeadLetter]:
        return await self._store.all()

    async def dead_letter(self, letter_id: str) -> DeadLetter | None:
        return await self._store.get(letter_id)

    async def replay(self, letter: DeadLetter, data: dict[str, Any] | None, operator: str) -> DeadLetter:
        """Publish the message again to its topic, with its type and id, and with `data`
        in place of its own when `operator` corrected it (checked against the contract
        before it comes here)."""
        if not letter.replayable or not isinstance(letter.message, dict):
            raise NotReplayable(letter.id)
        # Published directly, not through a record's outbox: the topic is the letter's own,
        # and a replay that is published twice is absorbed by the idempotent consumers.
        await self._client.publish_event(
            pubsub_name=PUBSUB,
            topic_name=str(letter.topic),
            data=json.dumps(data if data is not None else letter.message.get("data")),
            data_content_type="application/json",
            publish_metadata={"cloudevent.type": str(letter.type), "cloudevent.id": letter.id},
        )
        changed = [] if data is None else decisions.changed_fields(letter.message.get("data"), data)
        about = {"event_id": letter.id, "event_type": str(letter.type), "operator": operator, "changed_fields": changed}
        log.info("replayed a dead letter", extra=about)
        return await self._store.mark_replayed(letter.id, datetime.now(UTC))
