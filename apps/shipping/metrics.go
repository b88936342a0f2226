package main

import (
	"container/list"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The failed event ids remembered to tell a redelivery; the oldest are forgotten first.
const rememberedFailures = 10_000

// A label must not take whatever value a sender makes up: a type the contract does not
// name is counted as this.
const unknownType = "unknown"

// eventMetrics counts what the app did with the events delivered to it, under the names
// every eda-shop app serves on GET /metrics (apps/common/metrics.py says what each means).
type eventMetrics struct {
	registry     *prometheus.Registry
	handled      *prometheus.CounterVec
	failed       *prometheus.CounterVec
	retried      *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	seconds      *prometheus.HistogramVec

	mu        sync.Mutex
	failures  *list.List // ids of failed deliveries, oldest first
	failedIDs map[string]*list.Element
}

func newEventMetrics() *eventMetrics {
	byType := []string{"type"}
	m := &eventMetrics{
		registry: prometheus.NewRegistry(),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eda_events_handled_total", Help: "Event deliveries answered, by event type and answer",
		}, []string{"type", "outcome"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eda_events_failed_total", Help: "Deliveries not applied this time (retry or error): Dapr delivers them again",
		}, byType),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eda_events_retried_total", Help: "Redeliveries: deliveries of an event this app had failed before",
		}, byType),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eda_events_dead_lettered_total", Help: "Deliveries answered drop: Dapr moves them to the dead-letter topic",
		}, byType),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "eda_event_handler_seconds", Help: "Time from a delivery's arrival to the app's answer",
			Buckets: prometheus.DefBuckets,
		}, byType),
		failures:  list.New(),
		failedIDs: map[string]*list.Element{},
	}
	m.registry.MustRegister(
		m.handled, m.failed, m.retried, m.deadLettered, m.seconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// count records one delivery: the CloudEvent's type and id ("" when the body had none),
// the answer given, and when the delivery arrived.
func (m *eventMetrics) count(eventType, eventID string, outcome Outcome, started time.Time) {
	label := typeLabel(eventType)
	answer := strings.ToLower(string(outcome))
	m.seconds.WithLabelValues(label).Observe(time.Since(started).Seconds())
	m.handled.WithLabelValues(label, answer).Inc()
	if m.redelivered(eventID, outcome == Retry) {
		m.retried.WithLabelValues(label).Inc()
	}
	switch outcome {
	case Retry:
		m.failed.WithLabelValues(label).Inc()
	case Drop:
		m.deadLettered.WithLabelValues(label).Inc()
	}
}

// redelivered tells whether this app had failed the event before, and remembers (or
// forgets) it for its next delivery.
func (m *eventMetrics) redelivered(eventID string, failed bool) bool {
	if eventID == "" {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	element, seen := m.failedIDs[eventID]
	if seen {
		m.failures.Remove(element)
		delete(m.failedIDs, eventID)
	}
	if failed {
		m.failedIDs[eventID] = m.failures.PushBack(eventID)
		if m.failures.Len() > rememberedFailures {
			delete(m.failedIDs, m.failures.Remove(m.failures.Front()).(string))
		}
	}
	return seen
}

func (m *eventMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func typeLabel(eventType string) string {
	if contractEventTypes[eventType] {
		return eventType
	}
	return unknownType
}
