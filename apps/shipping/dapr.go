package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

const (
	// sidecarTimeout bounds one call to the sidecar; a delivery is retried if it runs out.
	sidecarTimeout = 5 * time.Second
	// connectPause is the wait between two tries to reach the sidecar.
	connectPause = time.Second
)

// daprStore is the Store over the state and pub/sub APIs of the app's own sidecar,
// through the Dapr Go SDK's client (gRPC), which sends DAPR_API_TOKEN with every call.
// Until connect has reached the sidecar, every call fails, and the delivery is retried.
type daprStore struct {
	client atomic.Pointer[dapr.Client]
	log    *slog.Logger // for what goes wrong off a delivery's path
}

// connect returns once the sidecar's gRPC API at address answers. A pod's containers
// start together, so the sidecar may come after the app; each try waits as long as the
// SDK does (DAPR_CLIENT_TIMEOUT_SECONDS, 5 by default), and a try that fails at once (a
// bad DAPR_CLIENT_TIMEOUT_SECONDS) is not repeated in a tight loop.
func (s *daprStore) connect(address string) {
	for {
		client, err := dapr.NewClientWithAddressContext(context.Background(), address,
			grpc.WithChainUnaryInterceptor(traceToSidecar))
		if err == nil {
			s.client.Store(&client)
			return
		}
		s.log.Info("waiting for the sidecar", "reason", err.Error())
		time.Sleep(connectPause)
	}
}

func (s *daprStore) sidecar() (dapr.Client, error) {
	client := s.client.Load()
	if client == nil {
		return nil, errors.New("not connected to the sidecar yet")
	}
	return *client, nil
}

func (s *daprStore) Shipment(ctx context.Context, orderID string) (*StoredShipment, error) {
	client, err := s.sidecar()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sidecarTimeout)
	defer cancel()
	item, err := client.GetState(ctx, storeName, shipmentKey(orderID), nil)
	if err != nil {
		return nil, err
	}
	if len(item.Value) == 0 {
		return nil, nil
	}
	stored := StoredShipment{etag: item.Etag}
	if err := json.Unmarshal(item.Value, &stored); err != nil {
		return nil, fmt.Errorf("reading shipment: %w", err)
	}
	return &stored, nil
}

// firstWrite makes a write without an ETag create-only, and one with an ETag fail if
// the key has changed since it was read.
var firstWrite = []dapr.StateOption{
	dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite), dapr.WithConsistency(dapr.StateConsistencyStrong),
}

// Schedule creates the order's key with the shipment and its announcement pending, then
// publishes it. If the key exists already, another delivery of the payment got there
// first: its shipment stays, and what it left pending is relayed.
func (s *daprStore) Schedule(ctx context.Context, shipment Shipment, scheduled ShipmentScheduled) error {
	client, err := s.sidecar()
	if err != nil {
		return err
	}
	announcement, err := announce(scheduled)
	if err != nil {
		return err
	}
	stored := StoredShipment{Shipment: shipment, Pending: []Announcement{announcement}}
	value, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	write, cancel := context.WithTimeout(ctx, sidecarTimeout)
	defer cancel()
	if err := client.SaveState(write, storeName, shipmentKey(shipment.OrderID), value, nil, firstWrite...); err != nil {
		// Redis answers "key exists" with an unspecific error: look before judging.
		existing, readErr := s.Shipment(ctx, shipment.OrderID)
		if readErr != nil || existing == nil {
			return err
		}
		stored = *existing
	}
	return s.Relay(ctx, stored)
}

// Relay publishes the pending announcements through the sidecar, which puts the
// delivery's trace context into each CloudEvent, then takes them off the stored
// shipment in the background: the delivery need not wait for that.
func (s *daprStore) Relay(ctx context.Context, stored StoredShipment) error {
	if len(stored.Pending) == 0 {
		return nil
	}
	client, err := s.sidecar()
	if err != nil {
		return err
	}
	published := map[string]bool{}
	for _, announcement := range stored.Pending {
		if err := publish(ctx, client, announcement); err != nil {
			return err
		}
		published[announcement.ID] = true
	}
	orderID := stored.Shipment.OrderID
	go func() {
		if err := s.clear(context.WithoutCancel(ctx), client, orderID, published); err != nil {
			s.log.Info("published announcements left pending; a relay publishes them again, ids unchanged",
				"order_id", orderID, "reason", err.Error())
		}
	}()
	return nil
}

func publish(ctx context.Context, client dapr.Client, announcement Announcement) error {
	ctx, cancel := context.WithTimeout(ctx, sidecarTimeout)
	defer cancel()
	return client.PublishEvent(ctx, pubsubName, announcement.Topic, []byte(announcement.Data),
		dapr.PublishEventWithContentType("application/json"),
		// daprd makes these the CloudEvent's own id and type.
		dapr.PublishEventWithMetadata(map[string]string{"cloudevent.id": announcement.ID, "cloudevent.type": announcement.Type}))
}

// clear empties the stored shipment's pending list if it holds only announcements just
// published; if anything else is pending, its writer relays it. The ETag makes sure no
// write came in between.
func (s *daprStore) clear(ctx context.Context, client dapr.Client, orderID string, published map[string]bool) error {
	stored, err := s.Shipment(ctx, orderID)
	if err != nil || stored == nil || len(stored.Pending) == 0 {
		return err
	}
	for _, announcement := range stored.Pending {
		if !published[announcement.ID] {
			return nil
		}
	}
	stored.Pending = []Announcement{}
	value, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sidecarTimeout)
	defer cancel()
	return client.SaveStateWithETag(ctx, storeName, shipmentKey(orderID), value, stored.etag, nil, firstWrite...)
}

func (s *daprStore) Close() {
	if client := s.client.Load(); client != nil {
		(*client).Close()
	}
}

// traceToSidecar hands the call's trace context to the sidecar, so that its spans join the
// trace. It runs after the SDK's own interceptor, which replaces the outgoing metadata
// with the API token alone.
func traceToSidecar(
	ctx context.Context, method string, request, reply any,
	conn *grpc.ClientConn, invoke grpc.UnaryInvoker, options ...grpc.CallOption,
) error {
	for key, value := range traceContext(ctx) {
		ctx = metadata.AppendToOutgoingContext(ctx, key, value)
	}
	return invoke(ctx, method, request, reply, conn, options...)
}
