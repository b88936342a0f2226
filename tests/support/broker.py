"""Reading the broker itself: what a consumer group has consumed, what each topic holds.

Dapr's Redis Streams pub/sub keeps one stream per topic and one consumer group per app;
each stream entry holds the CloudEvent in its `data` field.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from contracts.names import EventType, Topic
from tests.support.credentials import REDIS_PASSWORD, redis_client

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "apps" / "contracts" / "schemas" / "events.schema.json").read_text()
)


class Broker:
    def __init__(self, port: int, password: str = REDIS_PASSWORD, since_ms: int = 0) -> None:
        """`since_ms` (Unix time in milliseconds) leaves out of `events`, and so of what reads
        them, every entry added before it: Redis names each entry by the millisecond it was added."""
        # A raw payload need not be UTF-8 (tests/reliability/test_hostile.py publishes some).
        self._redis = redis_client(port, password, decode_responses=True, encoding_errors="replace")
        self._since = f"{since_ms}-0"

    def wait_subscribed(self) -> None:
        """Return once every subscriber reads its topics: on Redis Streams, as soon as its
        sidecar is healthy."""

    def last_entry_id(self, topic: Topic) -> str:
        return self._redis.xinfo_stream(topic)["last-generated-id"]

    def consumed(self, topic: Topic, app_id: str, up_to: str) -> bool:
        """True once `app_id` has been delivered and has acknowledged every entry up to `up_to`."""
        for group in self._redis.xinfo_groups(topic):
            if group["name"] == app_id:
                delivered = _entry_id(group["last-delivered-id"]) >= _entry_id(up_to)
                return delivered and group["pending"] == 0
        return False

    def groups(self, topic: Topic) -> list[str]:
        """The consumer groups on `topic`: one per app that subscribes to it."""
        return [group["name"] for group in self._redis.xinfo_groups(topic)] if self._redis.exists(topic) else []

    def events(self, topic: Topic) -> list[dict[str, Any]]:
        """Every CloudEvent published to `topic` (that was one), oldest first."""
        if not self._redis.exists(topic):
            return []
        found = []
        for _, fields in self._redis.xrange(topic, min=self._since):
            try:
                event = json.loads(fields["data"])
            except (ValueError, RecursionError):  # not JSON, or nested deeper than Python reads
                continue
            if isinstance(event, dict):  # raw payloads need not be objects
                found.append(event)
        return found

    def about(self, order_id: str, topic: Topic) -> list[dict[str, Any]]:
        return [e for e in self.events(topic) if isinstance(e.get("data"), dict) and e["data"].get("order_id") == order_id]

    def state(self, app_id: str, key: str) -> dict[str, Any] | None:
        """A value in an app's state store, read from Redis itself (Dapr's Redis state
        store keeps `<app-id>||<key>` as a hash whose `data` field holds the value)."""
        data = self._redis.hget(f"{app_id}||{key}", "data")
        return json.loads(data) if data is not None else None

    def records(self, app_id: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Records that announce facts (see `states`), without the events pending on them
        (common.state keeps each as {"record": ..., "pending": [...]})."""
        return {key: envelope["record"] for key, envelope in self.states(app_id, keys).items()}

    def keys(self, app_id: str, prefix: str) -> list[str]:
        """The keys in an app's state store that start with `prefix`, without the app's part."""
        stored = self._redis.scan_iter(match=f"{app_id}||{prefix}*", count=1000)
        return [key.split("||", 1)[1] for key in stored]

    def states(self, app_id: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Many values of an app's state store at once (see `state`), by key; missing ones left out."""
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(f"{app_id}||{key}", "data")
        return {key: json.loads(data) for key, data in zip(keys, pipe.execute()) if data is not None}

    def pending(self) -> dict[str, int]:
        """Every consumer group with deliveries not yet acknowledged, as 'stream/group': count
        (on every topic)."""
        found = {}
        for stream in self._redis.scan_iter(_type="stream"):
            for group in self._redis.xinfo_groups(stream):
                if group["pending"]:
                    found[f"{stream}/{group['name']}"] = group["pending"]
        return found

    def length(self, topic: Topic) -> int:
        return self._redis.xlen(topic) if self._redis.exists(topic) else 0

    def streams(self) -> dict[str, tuple[int, int]]:
        """Every stream (a topic each): the entries it keeps, and how many were ever added to it."""
        found = {}
        for stream in self._redis.scan_iter(_type="stream"):
            info = self._redis.xinfo_stream(stream)
            found[stream] = (info["length"], info["entries-added"])
        return found

    def backlogs(self) -> dict[tuple[str, str], int]:
        """What each consumer group has yet to handle, by (stream, group): the entries not
        yet delivered to it (all the stream holds, when Redis cannot tell) and those
        delivered but not acknowledged."""
        found = {}
        for stream in self._redis.scan_iter(_type="stream"):
            for group in self._redis.xinfo_groups(stream):
                unread = self._redis.xlen(stream) if group["lag"] is None else group["lag"]
                found[stream, group["name"]] = unread + group["pending"]
        return found

    def contract_breaches(self, poison: Callable[[dict[str, Any]], bool] = lambda _event: False) -> list[str]:
        """Every event on a business topic whose type is in the contract but whose data
        does not validate against its schema, as 'type id: error'. Poison the tests
        publish on purpose (an id holding 'poison-', or what `poison` picks) is left out."""
        breaches = []
        for topic in set(Topic) - {Topic.DEAD_LETTERS}:
            for event in self.events(topic):
                deliberate = "poison-" in str(event.get("id")) or poison(event)
                if event.get("type") not in set(EventType) or deliberate:
                    continue
                validator = Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{event['type']}"})
                breaches += [f"{event['type']} {event['id']}: {e.message}" for e in validator.iter_errors(event.get("data"))]
        return breaches


def _entry_id(entry_id: str) -> tuple[int, int]:
    milliseconds, sequence = entry_id.split("-")
    return int(milliseconds), int(sequence)
