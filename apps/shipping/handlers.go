package main

import (
	"crypto/sha256"
	"encoding/hex"
)

// Shipment is what shipping stores per order. PaymentEventID records which delivery
// scheduled it, in the same write as the shipment itself.
type Shipment struct {
	ShipmentID     string      `json:"shipment_id"`
	OrderID        string      `json:"order_id"`
	CustomerID     string      `json:"customer_id"`
	PaymentID      string      `json:"payment_id"`
	Items          []OrderLine `json:"items"`
	PaymentEventID string      `json:"payment_event_id"`
}

// scheduleShipment decides the shipment for a paid order and the fact that announces it.
func scheduleShipment(payment PaymentSucceeded, eventID string) (Shipment, ShipmentScheduled) {
	shipment := Shipment{
		ShipmentID:     shipmentID(payment.OrderID),
		OrderID:        payment.OrderID,
		CustomerID:     payment.CustomerID,
		PaymentID:      payment.PaymentID,
		Items:          payment.Items,
		PaymentEventID: eventID,
	}
	return shipment, ShipmentScheduled{
		OrderID:    shipment.OrderID,
		CustomerID: shipment.CustomerID,
		ShipmentID: shipment.ShipmentID,
		Items:      shipment.Items,
	}
}

// shipmentID is derived from the order, not drawn at random: should two deliveries of
// one payment race past the "already scheduled?" check, both write the same shipment.
func shipmentID(orderID string) string {
	sum := sha256.Sum256([]byte(orderID))
	return "s-" + hex.EncodeToString(sum[:12])
}
