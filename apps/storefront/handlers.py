"""Pure decisions of the storefront: what a dead-lettered message is."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from storefront.model import DeadLetter


def dead_letter(delivery: dict[str, Any]) -> DeadLetter:
    """The dead letter in a raw delivery from the dead-letter topic.

    The subscription takes raw payloads (components/subscriptions.yaml), so anything a
    subscriber dropped arrives, even bytes that were never a CloudEvent."""
    raw = base64.b64decode(delivery.get("data_base64", ""))
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, dict) or not message.get("id"):
        text = raw.decode(errors="replace")
        return DeadLetter(
            id=hashlib.sha256(raw).hexdigest()[:32], topic=None, type=None,
            received_at=datetime.now(UTC), message=text,
        )
    return DeadLetter(
        id=str(message["id"]), topic=message.get("topic"), type=message.get("type"),
        received_at=datetime.now(UTC), message=message,
    )
