package main

import (
	"context"
	"sync"
)

// memoryStore is the Store the unit tests use: shipments in a map, announcements in a
// list, and an error to fail the next call with, as a sidecar that is down would.
type memoryStore struct {
	mu        sync.Mutex
	shipments map[string]Shipment
	announced []ShipmentScheduled
	failNext  error
}

func newMemoryStore() *memoryStore {
	return &memoryStore{shipments: map[string]Shipment{}}
}

func (m *memoryStore) Shipment(_ context.Context, orderID string) (*Shipment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.takeFailure(); err != nil {
		return nil, err
	}
	if shipment, ok := m.shipments[orderID]; ok {
		return &shipment, nil
	}
	return nil, nil
}

func (m *memoryStore) Schedule(_ context.Context, shipment Shipment, announcement ShipmentScheduled) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.takeFailure(); err != nil {
		return err
	}
	m.shipments[shipment.OrderID] = shipment
	m.announced = append(m.announced, announcement)
	return nil
}

func (m *memoryStore) takeFailure() error {
	err := m.failNext
	m.failNext = nil
	return err
}
