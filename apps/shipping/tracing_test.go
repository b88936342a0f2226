package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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

func TestADeliveryContinuesTheSidecarsTraceIntoItsCallsAndTheOutbox(t *testing.T) {
	spans := recordSpans(t)
	t.Setenv("DAPR_API_TOKEN", "the-dapr-token")
	sidecar := &fakeSidecar{}
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

	ended := spans.Ended()
	if len(ended) != 1 || ended[0].Name() != "handle payment.succeeded" {
		t.Fatalf("spans %v, want one: handle payment.succeeded", ended)
	}
	handler := ended[0].SpanContext()
	if handler.TraceID().String() != sidecarTrace || ended[0].Parent().SpanID().String() != sidecarSpan {
		t.Fatalf("the handler's span is not the sidecar's child: %v", ended[0].Parent())
	}
	// Every call to the sidecar, and the event the outbox publishes, carry the handler's span.
	want := "00-" + sidecarTrace + "-" + handler.SpanID().String() + "-01"
	if len(sidecar.traceparents) != 2 || sidecar.traceparents[0] != want || sidecar.traceparents[1] != want {
		t.Errorf("calls to the sidecar carried %q, want %q", sidecar.traceparents, want)
	}
	// ... and the API token the SDK adds.
	if len(sidecar.tokens) != 2 || sidecar.tokens[0] != "the-dapr-token" || sidecar.tokens[1] != "the-dapr-token" {
		t.Errorf("calls to the sidecar carried the tokens %q", sidecar.tokens)
	}
	if len(sidecar.metadata) != 2 || sidecar.metadata[0]["traceparent"] != want {
		t.Errorf("the outbox write's metadata is %v, want traceparent %q", sidecar.metadata, want)
	}
}
