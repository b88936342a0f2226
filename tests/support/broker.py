"""Reading the broker itself: what a consumer group has consumed, what was dead-lettered.

Dapr's Redis Streams pub/sub keeps one stream per topic and one consumer group per app;
each stream entry holds the CloudEvent in its `data` field.
"""

import json
from typing import Any

import redis

from contracts.names import Topic


class Broker:
    def __init__(self, port: int) -> None:
        self._redis = redis.Redis(port=port, decode_responses=True)

    def last_entry_id(self, topic: Topic) -> str:
        return self._redis.xinfo_stream(topic)["last-generated-id"]

    def consumed(self, topic: Topic, app_id: str, up_to: str) -> bool:
        """True once `app_id` has been delivered and has acknowledged every entry up to `up_to`."""
        for group in self._redis.xinfo_groups(topic):
            if group["name"] == app_id:
                delivered = _entry_id(group["last-delivered-id"]) >= _entry_id(up_to)
                return delivered and group["pending"] == 0
        return False

    def dead_letters(self) -> list[dict[str, Any]]:
        if not self._redis.exists(Topic.DEAD_LETTERS):
            return []
        return [json.loads(fields["data"]) for _, fields in self._redis.xrange(Topic.DEAD_LETTERS)]


def _entry_id(entry_id: str) -> tuple[int, int]:
    milliseconds, sequence = entry_id.split("-")
    return int(milliseconds), int(sequence)
