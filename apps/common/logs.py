"""Structured logs: one JSON object a line, with the app's name and the event's ids."""

import json
import logging
import sys
from datetime import UTC, datetime

# Fields that a log call may pass with `extra=` and that end up in the JSON line.
FIELDS = ("event_id", "event_type", "order_id", "trace_id", "sku", "reason")


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
        }
        line.update({field: getattr(record, field) for field in FIELDS if hasattr(record, field)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(app: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(app))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
