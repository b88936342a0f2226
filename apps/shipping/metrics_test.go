package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// sample reads one series of the app's /metrics: `series` is its name with its labels as
// the text format writes them (sorted by name); 0 when the app has none yet.
func sample(t *testing.T, server *httptest.Server, series string) float64 {
	t.Helper()
	response, err := http.Get(server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	text, _ := io.ReadAll(response.Body)
	for _, line := range strings.Split(string(text), "\n") {
		if value, found := strings.CutPrefix(line, series+" "); found {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return 0
}

func TestAFailedDeliveryAndItsRedeliveryAreCountedAndTimed(t *testing.T) {
	server, store := newTestApp(t)
	store.failNext = errors.New("connection refused")
	event := cloudEvent("e-m1", typePaymentSucceeded, paidOrder)

	deliverTo(t, server, pathPaymentSucceeded, event)
	deliverTo(t, server, pathPaymentSucceeded, event)

	for series, want := range map[string]float64{
		`eda_events_handled_total{outcome="retry",type="payment.succeeded"}`:   1,
		`eda_events_handled_total{outcome="success",type="payment.succeeded"}`: 1,
		`eda_events_failed_total{type="payment.succeeded"}`:                    1,
		`eda_events_retried_total{type="payment.succeeded"}`:                   1,
		`eda_event_handler_seconds_count{type="payment.succeeded"}`:            2,
	} {
		if got := sample(t, server, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func TestPoisonIsCountedAsDeadLetteredUnderItsTypeOrAsUnknown(t *testing.T) {
	server, _ := newTestApp(t)

	deliverTo(t, server, pathPaymentSucceeded, cloudEvent("e-m2", typePaymentSucceeded, `{"order_id": 42}`))
	deliverTo(t, server, pathPaymentSucceeded, `{"id": `)
	deliverTo(t, server, pathUnrouted, cloudEvent("e-m3", "made.up.by-anyone", `{}`))

	if got := sample(t, server, `eda_events_dead_lettered_total{type="payment.succeeded"}`); got != 1 {
		t.Errorf("dead-lettered payment.succeeded = %v, want 1", got)
	}
	if got := sample(t, server, `eda_events_dead_lettered_total{type="unknown"}`); got != 2 {
		t.Errorf("dead-lettered unknown = %v, want 2", got)
	}
	if got := sample(t, server, `eda_events_retried_total{type="payment.succeeded"}`); got != 0 {
		t.Errorf("retried = %v, want 0", got)
	}
}

func TestMetricsNeedTheAppAPIToken(t *testing.T) {
	server := httptest.NewServer(onlyFromTheSidecar("s3cret", newRouter(&Service{store: newMemoryStore()}, newLogger(io.Discard))))
	t.Cleanup(server.Close)
	for token, want := range map[string]int{"": http.StatusUnauthorized, "s3cret": http.StatusOK} {
		request, _ := http.NewRequest(http.MethodGet, server.URL+"/metrics", nil)
		request.Header.Set("dapr-api-token", token)
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(response.Body)
		response.Body.Close()
		if response.StatusCode != want {
			t.Errorf("token %q: %d, want %d", token, response.StatusCode, want)
		}
		if want == http.StatusOK && !strings.Contains(string(text), "process_resident_memory_bytes") {
			t.Errorf("no process metrics in:\n%s", text)
		}
	}
}
