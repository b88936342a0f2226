"""Structured logs: one JSON object a line, with the app's name and the event's ids."""

import json
import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

from opentelemetry import trace

# Fields that a log call may pass with `extra=` and that end up in the JSON line.
FIELDS = ("event_id", "event_type", "order_id", "trace_id", "reason", "operator", "changed_fields")

# The event being handled (id, type): set by the delivery endpoint, so every
# line logged while handling it carries them without each call passing them on.
event_context: ContextVar[Mapping[str, str]] = ContextVar("event_context", default=MappingProxyType({}))


class JsonFormatter(logging.Formatter):
    def __init__(self, app: str) -> None:
        super().__init__()
        self.app = app

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "app": self.app,
            "message": record.getMessage(),
            **event_context.get(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # the trace of the request or event being handled (common.tracing)
            line["trace_id"] = trace.format_trace_id(span.trace_id)
        line.update({field: getattr(record, field) for field in FIELDS if hasattr(record, field)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(app: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(app))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
