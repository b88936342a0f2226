// Notifications' own spans, inside the one trace that follows an order everywhere. Dapr
// hands the W3C trace context to the app with every delivery (the traceparent header);
// the delivery's span continues it, and every call the delivery makes to the sidecar
// carries the context on, so the sidecar's spans join the same trace.
import { SpanKind, context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

// The instrumentation scope of the spans the apps make themselves (the same in every
// eda-shop app): in Zipkin it tells them from the sidecar's spans, which carry the same
// service name.
const SCOPE = 'eda-shop';

/**
 * Make spans under the app's name, and send them to Zipkin's v2 span API when
 * `zipkinEndpoint` (OTEL_EXPORTER_ZIPKIN_ENDPOINT) is given, or to the `processors`
 * given (tests). Without either, the spans go nowhere but the context still flows.
 * Returns the provider, whose shutdown() sends what is left.
 */
export function startTracing(app, { zipkinEndpoint = null, processors = [] } = {}) {
  const toZipkin = zipkinEndpoint ? [new BatchSpanProcessor(new ZipkinExporter({ url: zipkinEndpoint }))] : [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': app }),
    spanProcessors: [...toZipkin, ...processors],
  });
  // Async-local context: the active span follows each delivery through its awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return provider;
}

/** Run `handle(span)` in a span that continues the trace context of `headers`. */
export function inSpanOf(name, headers, handle) {
  const parent = propagation.extract(context.active(), headers);
  return trace.getTracer(SCOPE).startActiveSpan(name, { kind: SpanKind.SERVER }, parent, async (span) => {
    try {
      return await handle(span);
    } finally {
      span.end();
    }
  });
}

/** The active trace context as headers (traceparent, and tracestate if any), to send on. */
export function traceHeaders() {
  const headers = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** The active trace's id, for the logs; '' outside any trace. */
export function activeTraceId() {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? span.traceId : '';
}
