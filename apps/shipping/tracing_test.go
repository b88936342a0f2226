package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const (
	sidecarTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	sidecarSpan  = "00f067aa0ba902b7"
)

// recordSpans makes the app's spans for the test, kept in the recorder it returns.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	recorder := tracetest.NewSpanRecorder()
	previous := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	t.Cleanup(func() { otel.SetTracerProvider(previous) })
	return recorder
}

func TestADeliveryContinuesTheSidecarsTraceIntoItsCallsAndItsAnnouncement(t *testing.T) {
	spans := recordSpans(t)
	t.Setenv("DAPR_API_TOKEN", "the-dapr-token")
	sidecar := newFakeSidecar()
	app := httptest.NewServer(newRouter(&Service{store: startFakeSidecar(t, sidecar)}, newLogger(io.Discard)))
	t.Cleanup(app.Close)

	request, _ := http.NewRequest(http.MethodPost, app.URL+pathPaymentSucceeded,
		strings.NewReader(cloudEvent("e-1", typePaymentSucceeded, paidOrder)))
	request.Header.Set("traceparent", "00-"+sidecarTrace+"-"+sidecarSpan+"-01")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	waitUntil(t, func() bool { return len(sidecar.stored("shipment/o-1").Pending) == 0 }, 5*time.Second)

	ended := spans.Ended()
	if len(ended) != 1 || ended[0].Name() != "handle payment.succeeded" {
		t.Fatalf("spans %v, want one: handle payment.succeeded", ended)
	}
	handler := ended[0].SpanContext()
	if handler.TraceID().String() != sidecarTrace || ended[0].Parent().SpanID().String() != sidecarSpan {
		t.Fatalf("the handler's span is not the sidecar's child: %v", ended[0].Parent())
	}
	// Every call to the sidecar (read, write, publish, and the clearing's read and write)
	// carries the handler's span, which the sidecar puts into the published CloudEvent ...
	want := "00-" + sidecarTrace + "-" + handler.SpanID().String() + "-01"
	if len(sidecar.traceparents) != 5 || slices.ContainsFunc(sidecar.traceparents, func(got string) bool { return got != want }) {
		t.Errorf("calls to the sidecar carried %q, want %q", sidecar.traceparents, want)
	}
	// ... and the API token the SDK adds.
	if len(sidecar.tokens) != 5 || slices.ContainsFunc(sidecar.tokens, func(got string) bool { return got != "the-dapr-token" }) {
		t.Errorf("calls to the sidecar carried the tokens %q", sidecar.tokens)
	}
}
