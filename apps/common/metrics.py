"""Prometheus metrics: what an app did with the events delivered to it, on GET /metrics.

Every app of eda-shop, in Python, Go and Node.js, serves these names:

- eda_events_handled_total{type, outcome}: deliveries answered; outcome is the answer
  (success, retry, drop) or error when the handler raised (Dapr retries those too);
- eda_events_failed_total{type}: deliveries the handler could not apply this time
  (retry or error): Dapr delivers them again;
- eda_events_retried_total{type}: deliveries of an event this app had failed before,
  that is the redeliveries it saw;
- eda_events_dead_lettered_total{type}: deliveries answered drop, which Dapr moves to
  the dead-letter topic;
- eda_event_handler_seconds{type}: from a delivery's arrival to the answer.

`type` is the CloudEvent type when the contract names it, else "unknown": a label must
not take whatever value a sender makes up.
"""

from collections import OrderedDict
from time import perf_counter

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from contracts.names import EventType

UNKNOWN = "unknown"
ERROR = "error"
FAILED = {"retry", ERROR}
KNOWN_TYPES = frozenset(EventType)
# The failed event ids remembered to tell a redelivery; the oldest are forgotten first.
REMEMBERED_FAILURES = 10_000


def type_label(event_type: object) -> str:
    """The event type as a label: one the contract names, or "unknown" (anything a sender
    may put there, a list or a number included)."""
    return event_type if isinstance(event_type, str) and event_type in KNOWN_TYPES else UNKNOWN


class EventMetrics:
    def __init__(self) -> None:
        # A registry per app, so that each app built in one process (as the tests do)
        # counts for itself.
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._handled = Counter(
            "eda_events_handled", "Event deliveries answered, by event type and answer",
            ["type", "outcome"], registry=self.registry,
        )
        self._failed = Counter(
            "eda_events_failed", "Deliveries not applied this time (retry or error): Dapr delivers them again",
            ["type"], registry=self.registry,
        )
        self._retried = Counter(
            "eda_events_retried", "Redeliveries: deliveries of an event this app had failed before",
            ["type"], registry=self.registry,
        )
        self._dead_lettered = Counter(
            "eda_events_dead_lettered", "Deliveries answered drop: Dapr moves them to the dead-letter topic",
            ["type"], registry=self.registry,
        )
        self._seconds = Histogram(
            "eda_event_handler_seconds", "Time from a delivery's arrival to the app's answer",
            ["type"], registry=self.registry,
        )
        self._failures: OrderedDict[str, None] = OrderedDict()

    def count(self, event_type: str, event_id: str | None, outcome: str, started: float) -> None:
        """Count one delivery: its type label, its CloudEvent id (None when the body had
        none), the answer given (an Outcome, or ERROR) and when it arrived (perf_counter())."""
        outcome = outcome.lower()
        self._seconds.labels(event_type).observe(perf_counter() - started)
        self._handled.labels(event_type, outcome).inc()
        if event_id is not None and event_id in self._failures:
            self._retried.labels(event_type).inc()
            del self._failures[event_id]
        if outcome in FAILED:
            self._failed.labels(event_type).inc()
            if event_id is not None:
                self._failures[event_id] = None
                if len(self._failures) > REMEMBERED_FAILURES:
                    self._failures.popitem(last=False)
        elif outcome == "drop":
            self._dead_lettered.labels(event_type).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def add_metrics_route(app: FastAPI) -> None:
    """GET /metrics, in the Prometheus text format, for the metrics kept in
    `app.state.metrics`; behind the app API token like every route but /healthz."""
    app.state.metrics = EventMetrics()

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def metrics_of(request: Request) -> EventMetrics:
    return request.app.state.metrics
