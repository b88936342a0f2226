"""Pure decisions of the storefront: what a dead-lettered message is, and whether an
operator's correction of one keeps the contract."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.events import EVENTS
from contracts.names import EventType
from storefront.model import DeadLetter

# A dead letter is kept whole up to this size and cut beyond it: the contract's events
# are a few kilobytes, and a kept letter must fit the sidecar's request limit even with
# every byte escaped in JSON (dapr.yaml: maxBodySize).
MAX_KEPT_BYTES = 64 * 1024
MAX_ID_LENGTH = 128


def dead_letter(delivery: dict[str, Any]) -> DeadLetter:
    """The dead letter in a raw delivery from the dead-letter topic.

    The subscription takes raw payloads (components/subscriptions.yaml), so anything a
    subscriber dropped arrives, even bytes that were never a CloudEvent. Whatever does
    not look like one is kept as text; a CloudEvent whose topic or type is no string can
    be looked at but not replayed."""
    raw = _payload(delivery)
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict) or not _usable_id(message.get("id")):
        return DeadLetter(
            id=hashlib.sha256(raw).hexdigest()[:32], topic=None, type=None,
            received_at=datetime.now(UTC), message=_text(raw),
        )
    letter = DeadLetter(
        id=str(message["id"]), topic=_string(message.get("topic")), type=_string(message.get("type")),
        received_at=datetime.now(UTC), message=message if len(raw) <= MAX_KEPT_BYTES else _text(raw),
    )
    try:
        letter.model_dump_json()
    except ValueError:  # nested deeper than it can be stored as JSON: kept as text
        return letter.model_copy(update={"message": _text(raw)})
    return letter


def correction_errors(event_type: str | None, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What breaks the contract in `data` offered in place of a dead letter's own: the
    errors of the event model of its `type`, each naming the field at fault (none: it
    may be replayed)."""
    model = EVENTS.get(EventType(event_type)) if event_type in set(EventType) else None
    if model is None:
        return [{"type": "value_error", "loc": (), "msg": f"no event type {event_type!r} in the contract", "input": data}]
    try:
        model.model_validate(data)
    except ValidationError as error:
        return error.errors(include_url=False, include_context=False)
    return []


def changed_fields(before: Any, after: dict[str, Any]) -> list[str]:
    """The fields of a dead letter's data that a correction changes, adds or removes."""
    before = before if isinstance(before, dict) else {}
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def _payload(delivery: dict[str, Any]) -> bytes:
    # Dapr sends the message base64-encoded; anything else that arrives is kept as it came.
    try:
        return base64.b64decode(delivery["data_base64"], validate=True)
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError
        return json.dumps(delivery).encode()


def _usable_id(value: Any) -> bool:
    return isinstance(value, str | int) and 0 < len(str(value)) <= MAX_ID_LENGTH


def _text(raw: bytes) -> str:
    text = raw[:MAX_KEPT_BYTES].decode(errors="replace")
    if len(raw) > MAX_KEPT_BYTES:
        text += f"… (cut: {len(raw)} bytes, the first {MAX_KEPT_BYTES} kept)"
    return text


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
