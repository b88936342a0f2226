package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const (
	sidecarTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	sidecarSpan  = "00f067aa0ba902b7"
)

// fakeSidecar answers the state API as a sidecar with no shipments would, and keeps
// the traceparent header of every call and the metadata of every transaction.
type fakeSidecar struct {
	mu           sync.Mutex
	traceparents []string
	metadata     []map[string]string
}

func (f *fakeSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traceparents = append(f.traceparents, r.Header.Get("traceparent"))
	if strings.HasSuffix(r.URL.Path, "/bulk") {
		_, _ = io.WriteString(w, `[{"key": "shipment/o-1"}]`)
		return
	}
	var transaction struct {
		Operations []struct {
			Request struct{ Metadata map[string]string }
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&transaction); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, operation := range transaction.Operations {
		f.metadata = append(f.metadata, operation.Request.Metadata)
	}
	w.WriteHeader(http.StatusNoContent)
}

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
	sidecar := &fakeSidecar{}
	fake := httptest.NewServer(sidecar)
	t.Cleanup(fake.Close)
	store := &daprStore{baseURL: fake.URL + "/v1.0/state/" + storeName, client: fake.Client()}
	app := httptest.NewServer(newRouter(&Service{store: store}, newLogger(io.Discard)))
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
	if len(sidecar.metadata) != 2 || sidecar.metadata[0]["traceparent"] != want {
		t.Errorf("the outbox write's metadata is %v, want traceparent %q", sidecar.metadata, want)
	}
}
