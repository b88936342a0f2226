package main

import "context"

// Store keeps shipments. Schedule stores a shipment and announces it in one step: both
// happen or neither does.
type Store interface {
	// Shipment returns the order's shipment, or nil if none is scheduled.
	Shipment(ctx context.Context, orderID string) (*Shipment, error)
	Schedule(ctx context.Context, shipment Shipment, announcement ShipmentScheduled) error
}

func shipmentKey(orderID string) string {
	return "shipment/" + orderID
}
