package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const paidOrder = `{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1",
	"amount_cents": 2400, "items": [{"sku": "tea-sencha", "quantity": 2}]}`

func newTestApp(t *testing.T) (*httptest.Server, *memoryStore) {
	t.Helper()
	store := newMemoryStore()
	server := httptest.NewServer(newRouter(&Service{store: store}, newLogger(io.Discard)))
	t.Cleanup(server.Close)
	return server, store
}

func cloudEvent(id, eventType, data string) string {
	return `{"id": "` + id + `", "source": "payments", "type": "` + eventType + `", "specversion": "1.0",
		"datacontenttype": "application/json", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"data": ` + data + `}`
}

// deliverTo posts a body as the sidecar would and returns the status the app answered.
func deliverTo(t *testing.T, server *httptest.Server, path, body string) Outcome {
	t.Helper()
	response, err := http.Post(server.URL+path, "application/cloudevents+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer struct{ Status Outcome }
	if response.StatusCode != http.StatusOK || json.NewDecoder(response.Body).Decode(&answer) != nil {
		t.Fatalf("answered %s, not a delivery status", response.Status)
	}
	return answer.Status
}

func TestAPaidOrderIsScheduledAndAnnouncedOnce(t *testing.T) {
	server, store := newTestApp(t)
	event := cloudEvent("e-1", typePaymentSucceeded, paidOrder)

	if got := deliverTo(t, server, pathPaymentSucceeded, event); got != Success {
		t.Fatalf("first delivery: %s", got)
	}
	if got := deliverTo(t, server, pathPaymentSucceeded, event); got != Success {
		t.Fatalf("redelivery: %s", got)
	}

	if len(store.published) != 1 || store.published[0].ID != "o-1/shipment.scheduled" {
		t.Fatalf("published %+v, want o-1/shipment.scheduled once", store.published)
	}
	var announced ShipmentScheduled
	_ = json.Unmarshal(store.published[0].Data, &announced)
	stored := store.shipments["o-1"]
	if announced.ShipmentID != stored.Shipment.ShipmentID || announced.CustomerID != "c-1" || stored.Shipment.PaymentEventID != "e-1" {
		t.Fatalf("announced %+v for shipment %+v", announced, stored.Shipment)
	}
	if len(stored.Pending) != 0 {
		t.Fatalf("still pending after publishing: %+v", stored.Pending)
	}
}

func TestAFailedPublishIsRetriedAndTheRedeliveryRelaysTheAnnouncement(t *testing.T) {
	server, store := newTestApp(t)
	store.failNextPublish = errors.New("pubsub unavailable")
	event := cloudEvent("e-6", typePaymentSucceeded, paidOrder)

	if got := deliverTo(t, server, pathPaymentSucceeded, event); got != Retry {
		t.Fatalf("answered %s, want RETRY", got)
	}
	if pending := store.shipments["o-1"].Pending; len(pending) != 1 || len(store.published) != 0 {
		t.Fatalf("stored %+v and published %+v, want the announcement pending", pending, store.published)
	}
	if got := deliverTo(t, server, pathPaymentSucceeded, event); got != Success {
		t.Fatalf("the redelivery answered %s", got)
	}
	if len(store.published) != 1 || store.published[0].ID != "o-1/shipment.scheduled" || len(store.shipments["o-1"].Pending) != 0 {
		t.Fatalf("published %+v, pending %+v", store.published, store.shipments["o-1"].Pending)
	}
}

func TestPoisonIsDroppedAndNothingIsScheduled(t *testing.T) {
	server, store := newTestApp(t)
	for name, body := range map[string]string{
		"not JSON":             `{"id": `,
		"no CloudEvent":        `{"order_id": "o-1"}`,
		"data not in contract": cloudEvent("e-2", typePaymentSucceeded, `{"order_id": 42, "items": "many"}`),
	} {
		if got := deliverTo(t, server, pathPaymentSucceeded, body); got != Drop {
			t.Errorf("%s: answered %s, want DROP", name, got)
		}
	}
	if len(store.shipments) != 0 || len(store.published) != 0 {
		t.Fatalf("poison changed state: %+v", store)
	}
}

func TestASidecarFailureIsRetried(t *testing.T) {
	server, store := newTestApp(t)
	store.failNext = errors.New("connection refused")

	if got := deliverTo(t, server, pathPaymentSucceeded, cloudEvent("e-3", typePaymentSucceeded, paidOrder)); got != Retry {
		t.Fatalf("answered %s, want RETRY", got)
	}
	if got := deliverTo(t, server, pathPaymentSucceeded, cloudEvent("e-3", typePaymentSucceeded, paidOrder)); got != Success {
		t.Fatalf("the retry answered %s", got)
	}
}

func TestTheDefaultRouteAcknowledgesContractEventsAndDropsStrangers(t *testing.T) {
	server, _ := newTestApp(t)
	failed := `{"order_id": "o-1", "customer_id": "c-1", "reason": "payment_declined", "detail": "", "amount_cents": 1}`

	if got := deliverTo(t, server, pathUnrouted, cloudEvent("e-4", "payment.failed", failed)); got != Success {
		t.Errorf("payment.failed: %s, want SUCCESS", got)
	}
	if got := deliverTo(t, server, pathUnrouted, cloudEvent("e-5", "coupon.redeemed", `{}`)); got != Drop {
		t.Errorf("coupon.redeemed: %s, want DROP", got)
	}
}

func TestTheSubscriptionRoutesPaymentsAndDeadLetters(t *testing.T) {
	server, _ := newTestApp(t)
	response, err := http.Get(server.URL + "/dapr/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var subscriptions []struct {
		PubsubName, Topic, DeadLetterTopic string
		Routes                             struct {
			Rules   []struct{ Match, Path string }
			Default string
		}
	}
	if err := json.NewDecoder(response.Body).Decode(&subscriptions); err != nil || len(subscriptions) != 1 {
		t.Fatalf("GET /dapr/subscribe: %v %+v", err, subscriptions)
	}
	s := subscriptions[0]
	if s.PubsubName != "pubsub" || s.Topic != "payments" || s.DeadLetterTopic != "deadletters" {
		t.Fatalf("subscription %+v", s)
	}
	rule := s.Routes.Rules[0]
	if len(s.Routes.Rules) != 1 || rule.Match != `event.type == "payment.succeeded"` || rule.Path != pathPaymentSucceeded || s.Routes.Default != pathUnrouted {
		t.Fatalf("routes %+v", s.Routes)
	}
}

func TestHealthz(t *testing.T) {
	server, _ := newTestApp(t)
	response, err := http.Get(server.URL + "/healthz")
	if err != nil || response.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %v %v", err, response)
	}
}

func TestOnlyTheSidecarGetsPastTheHealthCheck(t *testing.T) {
	handler := onlyFromTheSidecar("s3cret", newRouter(&Service{store: newMemoryStore()}, newLogger(io.Discard)))
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/healthz", "", http.StatusOK},
		{"/dapr/subscribe", "", http.StatusUnauthorized},
		{"/dapr/subscribe", "wrong", http.StatusUnauthorized},
		{"/dapr/subscribe", "s3cret", http.StatusOK},
	} {
		request := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.token != "" {
			request.Header.Set("dapr-api-token", tc.token)
		}
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, request)
		if recorder.Code != tc.want {
			t.Errorf("%s with token %q: got %d, want %d", tc.path, tc.token, recorder.Code, tc.want)
		}
	}
}
