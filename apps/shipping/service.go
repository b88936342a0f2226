package main

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Outcome is the app's answer to a delivery, which Dapr reads from the body's status:
// SUCCESS acknowledges, RETRY redelivers under the resiliency policy, DROP sends the
// event to the subscription's dead-letter topic at once.
type Outcome string

const (
	Success Outcome = "SUCCESS"
	Retry   Outcome = "RETRY"
	Drop    Outcome = "DROP"
)

type Service struct {
	store Store
}

// PaymentSucceeded schedules one shipment per paid order. A redelivered payment finds
// the shipment already there and schedules nothing again, but relays its announcement
// if that is still pending: a crash may have come between the write and the publish.
func (s *Service) PaymentSucceeded(ctx context.Context, log *slog.Logger, event CloudEvent) Outcome {
	payment, err := decodePaymentSucceeded(event.Data)
	if err != nil {
		log.Warn("dropping a malformed payment.succeeded event to the dead letters", "reason", err.Error())
		return Drop
	}
	log = log.With("order_id", payment.OrderID)
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("order_id", payment.OrderID)) // Zipkin finds the order by it
	existing, err := s.store.Shipment(ctx, payment.OrderID)
	if err != nil {
		log.Error("could not read the shipment; Dapr will retry", "reason", err.Error())
		return Retry
	}
	if existing != nil {
		if err := s.store.Relay(ctx, *existing); err != nil {
			log.Error("could not publish the pending announcement; Dapr will retry", "reason", err.Error())
			return Retry
		}
		log.Info("shipment already scheduled; ignoring a duplicate payment",
			"shipment_id", existing.Shipment.ShipmentID, "relayed", len(existing.Pending))
		return Success
	}
	shipment, scheduled := scheduleShipment(payment, event.ID)
	if err := s.store.Schedule(ctx, shipment, scheduled); err != nil {
		log.Error("could not schedule the shipment; Dapr will retry", "reason", err.Error())
		return Retry
	}
	log.Info("shipment scheduled", "shipment_id", shipment.ShipmentID)
	return Success
}
