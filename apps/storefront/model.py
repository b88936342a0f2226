"""A dead letter: a message some subscriber could not take, kept for an operator."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str  # the CloudEvent id, or a digest of the bytes when it was no CloudEvent
    topic: str | None  # where it was published first
    type: str | None
    received_at: datetime
    message: dict[str, Any] | str  # the CloudEvent, or the raw text when it was none
    replays: int = 0
    replayed_at: datetime | None = None

    @property
    def replayable(self) -> bool:
        return isinstance(self.message, dict) and bool(self.topic and self.type)


class Replay(BaseModel):
    """POST /deadletters/{id}/replay: optionally with corrected data."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] | None = None
