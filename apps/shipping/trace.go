package main

import (
	"context"
	"net/http"
)

// W3C trace context headers. Dapr sends them with every delivery; handing them back on
// the calls that delivery makes to the sidecar keeps one trace from the payment to the
// shipment.scheduled the outbox publishes.
var traceHeaders = []string{"traceparent", "tracestate"}

type traceKey struct{}

func withTraceContext(ctx context.Context, incoming http.Header) context.Context {
	return context.WithValue(ctx, traceKey{}, incoming.Clone())
}

func propagateTraceContext(ctx context.Context, outgoing http.Header) {
	incoming, _ := ctx.Value(traceKey{}).(http.Header)
	for _, name := range traceHeaders {
		if value := incoming.Get(name); value != "" {
			outgoing.Set(name, value)
		}
	}
}
