package main

import (
	"context"
	"sync"
)

// memoryStore is the Store the unit tests use: stored shipments in a map, published
// announcements in a list, and an error to fail the next call (or the next publish)
// with, as a sidecar that is down would.
type memoryStore struct {
	mu              sync.Mutex
	shipments       map[string]StoredShipment
	published       []Announcement
	failNext        error
	failNextPublish error
}

func newMemoryStore() *memoryStore {
	return &memoryStore{shipments: map[string]StoredShipment{}}
}

func (m *memoryStore) Shipment(_ context.Context, orderID string) (*StoredShipment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.takeFailure(&m.failNext); err != nil {
		return nil, err
	}
	if stored, ok := m.shipments[orderID]; ok {
		return &stored, nil
	}
	return nil, nil
}

func (m *memoryStore) Schedule(ctx context.Context, shipment Shipment, scheduled ShipmentScheduled) error {
	announcement, err := announce(scheduled)
	if err != nil {
		return err
	}
	stored := StoredShipment{Shipment: shipment, Pending: []Announcement{announcement}}
	m.mu.Lock()
	err = m.takeFailure(&m.failNext)
	if err == nil {
		m.shipments[shipment.OrderID] = stored
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return m.Relay(ctx, stored)
}

// Relay publishes the pending announcements and clears them at once.
func (m *memoryStore) Relay(_ context.Context, stored StoredShipment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.takeFailure(&m.failNextPublish); err != nil {
		return err
	}
	m.published = append(m.published, stored.Pending...)
	stored.Pending = []Announcement{}
	m.shipments[stored.Shipment.OrderID] = stored
	return nil
}

func (m *memoryStore) takeFailure(failure *error) error {
	err := *failure
	*failure = nil
	return err
}
