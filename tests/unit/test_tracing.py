"""The trace context the sidecar sends goes on: into what an app announces, onto its
calls to the sidecar, and into its log lines. (Spans reaching Zipkin, and one trace
across all six apps: tests/integration/test_tracing.py.)"""

import asyncio
import io
import json
import logging
from collections import namedtuple
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider

from common.logs import JsonFormatter
from common.state import Announcement
from common.tracing import TraceContextInterceptor, trace_context
from orders.app import create_app
from orders.service import OrdersService
from orders.settings import Settings
from orders.store import OrderStore
from tests.unit.events import delivered, reserved
from tests.unit.fakes import InMemoryState

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SIDECAR_SPAN = "00f067aa0ba902b7"
FROM_THE_SIDECAR = {"traceparent": f"00-{TRACE_ID}-{SIDECAR_SPAN}-01"}
# What gRPC hands a client interceptor about a call.
CallDetails = namedtuple("CallDetails", ["method", "timeout", "metadata", "credentials", "wait_for_ready"])


class TracedState(InMemoryState):
    """Keeps the trace context current when each event was published, which the call to
    the sidecar carries and the sidecar puts into the CloudEvent (common.tracing)."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[dict[str, str]] = []

    async def _send(self, announcement: Announcement) -> None:
        self.contexts.append(trace_context())
        await super()._send(announcement)


@pytest.fixture
def state() -> TracedState:
    return TracedState()


@pytest.fixture
def client(state: TracedState) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), OrdersService(OrderStore(state)))) as client:
        yield client


def traced(context: dict[str, str]) -> tuple[str, str]:
    """The trace id and the parent span id of a W3C traceparent."""
    _, trace_id, span_id, _ = context["traceparent"].split("-")
    return trace_id, span_id


def test_an_order_is_announced_in_the_trace_the_sidecar_sent(client: TestClient, state: TracedState) -> None:
    body = {"customer_id": "c-1", "items": [{"sku": "tea", "quantity": 1}]}

    assert client.post("/orders", json=body, headers=FROM_THE_SIDECAR).status_code == 202

    (context,) = state.contexts
    trace_id, parent = traced(context)
    # The same trace; the parent of what comes next is the app's own span, not the sidecar's.
    assert (trace_id, parent != SIDECAR_SPAN) == (TRACE_ID, True)


def test_every_request_has_a_trace_even_without_a_sidecar(client: TestClient, state: TracedState) -> None:
    body = {"customer_id": "c-1", "items": [{"sku": "tea", "quantity": 1}]}

    client.post("/orders", json=body)
    client.post("/orders", json=body)

    first, second = (traced(context)[0] for context in state.contexts)
    assert first != second and TRACE_ID not in (first, second)


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the apps' log formatter writes meanwhile."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("orders"))
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def test_log_lines_of_an_event_carry_its_trace_id(
    client: TestClient, state: TracedState, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    client.post("/orders", json={"customer_id": "c-1", "items": [{"sku": "tea", "quantity": 1}]})
    (requested,) = state.announced
    client.post("/events/order-requested", json=delivered(requested), headers=FROM_THE_SIDECAR)
    placed = state.announced[-1]
    event = delivered(reserved(placed))

    client.post("/events/stock-reserved", json=event, headers=FROM_THE_SIDECAR)

    about_the_event = [line for line in log_lines() if line.get("event_id") == event["id"]]
    assert about_the_event and all(line["trace_id"] == TRACE_ID for line in about_the_event)
    # The order's own line carries the trace of the command's delivery.
    (placing,) = [line for line in log_lines() if line["message"] == "order placed"]
    assert placing["trace_id"] == TRACE_ID


def test_calls_to_the_sidecar_carry_the_trace_context() -> None:
    sent: list[Any] = []

    async def continuation(details: Any, request: Any) -> None:
        sent.append(details.metadata)

    async def call() -> None:
        with TracerProvider().get_tracer("test").start_as_current_span("handler") as span:
            details = CallDetails("/dapr.proto.runtime.v1.Dapr/GetState", None, [("dapr-api-token", "t")], None, None)
            await TraceContextInterceptor().intercept_unary_unary(continuation, details, request=None)
            return span.get_span_context()

    span = asyncio.run(call())

    (metadata,) = sent
    assert metadata[0] == ("dapr-api-token", "t")
    assert traced(dict(metadata)) == (f"{span.trace_id:032x}", f"{span.span_id:016x}")


def test_make_run_sends_the_apps_spans_where_the_sidecars_send_theirs() -> None:
    run = yaml.safe_load((ROOT / "dapr.yaml").read_text())
    config = yaml.safe_load((ROOT / "dapr-config" / "config.yaml").read_text())
    spans = config["spec"]["tracing"]["zipkin"]["endpointAddress"]
    assert run["common"]["env"]["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] == spans
    # ...to the Zipkin that make run starts.
    port = urlsplit(spans).port
    assert f"tools/zipkin.sh start {port} " in (ROOT / "tools" / "run.sh").read_text()
