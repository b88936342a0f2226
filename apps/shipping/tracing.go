package main

// Shipping's own spans, inside the one trace that follows an order everywhere. Dapr
// hands the W3C trace context to the app with every delivery (the traceparent header);
// the delivery's span continues it, and the context goes back to the sidecar on every
// call the delivery makes, and so into the shipment.scheduled it publishes (the sidecar
// puts it in the CloudEvent), so notifications and storefront continue the same trace.

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/zipkin"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerScope is the instrumentation scope of the spans the apps make themselves (the
// same in every eda-shop app): in Zipkin it tells them from the sidecar's spans, which
// carry the same service name.
const tracerScope = "eda-shop"

var w3c = propagation.TraceContext{}

// newTracerProvider makes spans under this app's name and, given Zipkin's v2 span API
// (OTEL_EXPORTER_ZIPKIN_ENDPOINT), sends them there in batches. Without an endpoint
// the spans go nowhere, but the trace context still flows.
func newTracerProvider(zipkinEndpoint string) (*sdktrace.TracerProvider, error) {
	options := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", appID))),
	}
	if zipkinEndpoint != "" {
		exporter, err := zipkin.New(zipkinEndpoint)
		if err != nil {
			return nil, err
		}
		options = append(options, sdktrace.WithBatcher(exporter))
	}
	return sdktrace.NewTracerProvider(options...), nil
}

// startDelivery starts the span of one delivery from the sidecar, continuing the
// sidecar's own span; the handler names it once it knows the event.
func startDelivery(r *http.Request) (context.Context, trace.Span) {
	ctx := w3c.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return otel.Tracer(tracerScope).Start(ctx, r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
}

// traceContext is the W3C trace context of ctx's span (traceparent, and tracestate
// when there is one), to hand on.
func traceContext(ctx context.Context) propagation.MapCarrier {
	carrier := propagation.MapCarrier{}
	w3c.Inject(ctx, carrier)
	return carrier
}

// traceID is the id of ctx's trace, for the logs; "" outside any trace.
func traceID(ctx context.Context) string {
	if span := trace.SpanContextFromContext(ctx); span.IsValid() {
		return span.TraceID().String()
	}
	return ""
}
