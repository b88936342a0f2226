package main

import (
	"context"
	"strings"
)

// Store keeps shipments. Schedule stores a shipment and announces it in one step: both
// happen or neither does.
type Store interface {
	// Shipment returns the order's shipment, or nil if none is scheduled.
	Shipment(ctx context.Context, orderID string) (*Shipment, error)
	Schedule(ctx context.Context, shipment Shipment, announcement ShipmentScheduled) error
}

// Dapr refuses a key that holds "||" (its separator between app-id and key), and an
// order id is any string: "|" is stored percent-encoded, and so "%" too, which keeps the
// stored keys one-to-one with the order ids (as apps/common/state.py does).
var keyEscapes = strings.NewReplacer("%", "%25", "|", "%7C")

func shipmentKey(orderID string) string {
	return "shipment/" + keyEscapes.Replace(orderID)
}
