"""Tracing: each app's own spans, inside the one trace that follows an order everywhere.

Dapr starts the trace and hands its W3C context (`traceparent`) to the app with every
request and delivery. The app's spans continue it; the context goes back to the sidecar
on every call (gRPC metadata), and the sidecar puts it into every event the app
publishes, so the next app continues the same trace.
Spans go to Zipkin when OTEL_EXPORTER_ZIPKIN_ENDPOINT is set (dapr.yaml); without it the
context still flows, and the logs still carry the trace id.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from dapr.aio.clients import DaprClient
from dapr.conf import settings as dapr_settings
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.events import CloudEvent

# The instrumentation scope of every span the apps make themselves: tells them apart, in
# Zipkin, from the spans of the app's sidecar, which reports under the same service name.
SCOPE = "eda-shop"
# The SDK gives a call to the sidecar no deadline of its own: one that hangs would hold its
# delivery, and every delivery waiting for the same publish, for good. Longer than any
# call takes under overload, so only a hung call fails (and its delivery comes again).
SIDECAR_CALL_TIMEOUT_S = 10.0
# The attribute that names the order a span is about: Zipkin finds an order's trace by it.
ORDER_ID = "order_id"
W3C = TraceContextTextMapPropagator()


def trace_requests(app: FastAPI, name: str, zipkin_endpoint: str | None) -> None:
    """A span for every request but the health checks, continuing the trace context the
    caller (the sidecar) sent; exported to Zipkin under the service `name` when an
    endpoint is given."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if zipkin_endpoint:
        provider.add_span_processor(BatchSpanProcessor(ZipkinExporter(endpoint=zipkin_endpoint)))
    app.state.tracer = provider.get_tracer(SCOPE)
    # Spans for reading the request and writing the answer would only repeat the request's.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/healthz", exclude_spans=["receive", "send"]
    )


@contextmanager
def handling(app: FastAPI, event: CloudEvent[Any]) -> Iterator[None]:
    """A span around the handling of one event, inside the request's span, which
    continues the sidecar's delivery of the event, which continues the CloudEvent's
    `traceparent`: the span of the app that published it."""
    tracer: trace.Tracer = app.state.tracer
    attributes = {
        "cloudevents.event_id": event.id,
        "cloudevents.event_type": event.type,
        ORDER_ID: event.data.order_id,
    }
    with tracer.start_as_current_span(f"handle {event.type}", attributes=attributes):
        yield


def about_order(order_id: str) -> None:
    """Name the order the current span is about."""
    trace.get_current_span().set_attribute(ORDER_ID, order_id)


def trace_context() -> dict[str, str]:
    """The current span's W3C context (traceparent, and tracestate if any), to hand on."""
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return carrier


class TraceContextInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Sends the current trace context with every call to the sidecar, whose spans then
    join the app's trace instead of each starting one of their own."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), *trace_context().items()]
        return await continuation(details._replace(metadata=metadata), request)


def dapr_client(address: str) -> DaprClient:
    """A client of the app's sidecar that sends the trace context with every call, and
    gives every call a deadline."""
    dapr_settings.DAPR_API_TIMEOUT_SECONDS = SIDECAR_CALL_TIMEOUT_S
    return DaprClient(address=address, interceptors=[TraceContextInterceptor()])
