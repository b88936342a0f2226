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

// daprStore is the Store over the state API of the app's own sidecar, through the Dapr Go
// SDK's client (gRPC), which sends DAPR_API_TOKEN with every call. Until connect has
// reached the sidecar, every call fails, and the delivery is retried.
type daprStore struct {
	client atomic.Pointer[dapr.Client]
}

// connect returns once the sidecar's gRPC API at address answers. A pod's containers
// start together, so the sidecar may come after the app; each try waits as long as the
// SDK does (DAPR_CLIENT_TIMEOUT_SECONDS, 5 by default), and a try that fails at once (a
// bad DAPR_CLIENT_TIMEOUT_SECONDS) is not repeated in a tight loop.
func (s *daprStore) connect(address string, log *slog.Logger) {
	for {
		client, err := dapr.NewClientWithAddressContext(context.Background(), address,
			grpc.WithChainUnaryInterceptor(traceToSidecar))
		if err == nil {
			s.client.Store(&client)
			return
		}
		log.Info("waiting for the sidecar", "reason", err.Error())
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

func (s *daprStore) Shipment(ctx context.Context, orderID string) (*Shipment, error) {
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
	var shipment Shipment
	if err := json.Unmarshal(item.Value, &shipment); err != nil {
		return nil, fmt.Errorf("reading shipment: %w", err)
	}
	return &shipment, nil
}

// Schedule writes the shipment and, through the store's outbox, publishes the
// announcement to the shipping topic in the same transaction.
//
// Two upserts of one key: the first is stored, and its metadata becomes attributes of
// the published CloudEvent (type, datacontenttype, traceparent); the second, marked as the outbox
// projection, is what gets published instead of the stored value. The projection's
// contentType becomes the published CloudEvent's datacontenttype.
//
// No ETag: on Redis the outbox's own write commits even when an ETag check in the same
// transaction fails, so an ETag here would not stop the announcement.
func (s *daprStore) Schedule(ctx context.Context, shipment Shipment, announcement ShipmentScheduled) error {
	client, err := s.sidecar()
	if err != nil {
		return err
	}
	stored, err := json.Marshal(shipment)
	if err != nil {
		return err
	}
	announced, err := json.Marshal(announcement)
	if err != nil {
		return err
	}
	key := shipmentKey(shipment.OrderID)
	// The outbox leaves the published event's traceparent empty unless the write's
	// metadata gives it: without it, the trace would end here.
	attributes := traceContext(ctx)
	attributes["type"], attributes["datacontenttype"] = typeShipmentScheduled, "application/json"
	projection := map[string]string{"outbox.projection": "true", "contentType": "application/json"}
	ctx, cancel := context.WithTimeout(ctx, sidecarTimeout)
	defer cancel()
	return client.ExecuteStateTransaction(ctx, storeName, nil, []*dapr.StateOperation{
		{Type: dapr.StateOperationTypeUpsert, Item: &dapr.SetStateItem{Key: key, Value: stored, Metadata: attributes}},
		{Type: dapr.StateOperationTypeUpsert, Item: &dapr.SetStateItem{Key: key, Value: announced, Metadata: projection}},
	})
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
