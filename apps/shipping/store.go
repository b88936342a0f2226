package main

import (
	"context"
	"encoding/json"
	"strings"
)

// Store keeps shipments with their own outbox: a shipment is stored together with the
// shipment.scheduled that announces it, in one write of one key (both or neither), and
// the store then publishes the announcement and takes it off. Should a crash come in
// between, the redelivered payment finds it still pending and relays it.
type Store interface {
	// Shipment returns the order's shipment as stored, or nil if none is scheduled.
	Shipment(ctx context.Context, orderID string) (*StoredShipment, error)
	// Schedule stores a new shipment with its announcement pending, and publishes it.
	Schedule(ctx context.Context, shipment Shipment, announcement ShipmentScheduled) error
	// Relay publishes what is still pending on a stored shipment.
	Relay(ctx context.Context, stored StoredShipment) error
}

// StoredShipment is the value kept per order: the shipment, and the announcements
// written with it that may not be published yet ([] once they are known to be).
type StoredShipment struct {
	Shipment Shipment       `json:"record"`
	Pending  []Announcement `json:"pending"`
	etag     string         // the version read, which a write that replaces it presents
}

// Announcement is an event as the store keeps it until it is known to be published.
type Announcement struct {
	ID    string          `json:"id"`
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
}

// announce makes the pending announcement of a shipment. An order is scheduled once, so
// the type and the order id name it: the same event id however often it is published,
// and consumers deduplicate on it.
func announce(scheduled ShipmentScheduled) (Announcement, error) {
	data, err := json.Marshal(scheduled)
	id := scheduled.OrderID + "/" + typeShipmentScheduled
	return Announcement{ID: id, Topic: topicShipping, Type: typeShipmentScheduled, Data: data}, err
}

// Dapr refuses a key that holds "||" (its separator between app-id and key), and an
// order id is any string: "|" is stored percent-encoded, and so "%" too, which keeps the
// stored keys one-to-one with the order ids (as apps/common/state.py does).
var keyEscapes = strings.NewReplacer("%", "%25", "|", "%7C")

func shipmentKey(orderID string) string {
	return "shipment/" + keyEscapes.Replace(orderID)
}
