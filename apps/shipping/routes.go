package main

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// openAPI describes every route; routes_test.go checks that it and the router agree.
//
//go:embed openapi.json
var openAPI []byte

// Paths the programmatic subscription names.
const (
	pathPaymentSucceeded = "/events/payment-succeeded"
	pathUnrouted         = "/events/unrouted"
)

// subscription is what GET /dapr/subscribe answers: a v2 subscription that routes on the
// CloudEvent type and dead-letters what shipping drops or what still fails after retries.
var subscription = []map[string]any{{
	"pubsubname": pubsubName,
	"topic":      topicPayments,
	"routes": map[string]any{
		"rules": []map[string]string{
			{"match": `event.type == "` + typePaymentSucceeded + `"`, "path": pathPaymentSucceeded},
		},
		"default": pathUnrouted,
	},
	"deadLetterTopic": topicDeadLetters,
}}

type eventHandler func(ctx context.Context, log *slog.Logger, event CloudEvent) Outcome

// newRouter serves the sidecar with the standard library, not the Go SDK's service: that
// checks the app token on invocations only, not on deliveries, and answers an event it
// cannot decode with 303, which Dapr retries instead of dead-lettering.
func newRouter(service *Service, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, subscription)
	})
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	metrics := newEventMetrics()
	mux.Handle("GET /metrics", metrics.handler())
	mux.HandleFunc("POST "+pathPaymentSucceeded, deliver(log, metrics, service.PaymentSucceeded))
	mux.HandleFunc("POST "+pathUnrouted, deliver(log, metrics, unrouted))
	return mux
}

// onlyFromTheSidecar refuses, with 401, every call but the health check that does not
// carry the app API token, which the sidecar sends in the dapr-api-token header. Without
// a token configured, every call passes.
func onlyFromTheSidecar(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given := r.Header.Get("dapr-api-token")
		if r.URL.Path != "/healthz" && subtle.ConstantTimeCompare([]byte(given), []byte(token)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"detail": "only the sidecar may call this app"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// deliver makes a thin subscription endpoint: parse the CloudEvent, hand it on with a
// logger that names it, and tell Dapr the outcome, counted in `metrics`. A body that is
// no CloudEvent is poison.
func deliver(log *slog.Logger, metrics *eventMetrics, handle eventHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		ctx, span := startDelivery(r)
		defer span.End()
		log := log.With("trace_id", traceID(ctx))
		body, err := io.ReadAll(r.Body)
		if tooLarge(err) {
			writeTooLarge(w)
			return
		}
		if err != nil {
			metrics.count("", "", Retry, started)
			writeJSON(w, map[string]Outcome{"status": Retry})
			return
		}
		event, err := parseCloudEvent(body)
		if err != nil {
			log.Warn("dropping an unparseable event to the dead letters", "reason", err.Error())
			metrics.count("", "", Drop, started)
			writeJSON(w, map[string]Outcome{"status": Drop})
			return
		}
		span.SetName("handle " + event.Type)
		span.SetAttributes(attribute.String("cloudevents.event_id", event.ID), attribute.String("cloudevents.event_type", event.Type))
		eventLog := log.With("event_id", event.ID, "event_type", event.Type)
		outcome := handle(ctx, eventLog, event)
		metrics.count(event.Type, event.ID, outcome, started)
		writeJSON(w, map[string]Outcome{"status": outcome})
	}
}

// unrouted answers the default route: a fact shipping does not act on is acknowledged
// if the contract names it, and dead-lettered if no producer in the contract sends it.
func unrouted(_ context.Context, log *slog.Logger, event CloudEvent) Outcome {
	if contractEventTypes[event.Type] {
		return Success
	}
	log.Warn("dropping an event of unknown type to the dead letters")
	return Drop
}

func writeJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body) // the peer hung up: nothing left to tell it
}
