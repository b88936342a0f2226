package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"
)

// sidecarTimeout bounds one call to the sidecar; a delivery is retried if it runs out.
const sidecarTimeout = 5 * time.Second

// daprStore is the Store over the Dapr state API of the app's own sidecar (plain HTTP).
type daprStore struct {
	baseURL  string
	apiToken string
	client   *http.Client
}

func newDaprStore(settings Settings) *daprStore {
	return &daprStore{
		baseURL:  fmt.Sprintf("http://127.0.0.1:%d/v1.0/state/%s", settings.DaprHTTPPort, storeName),
		apiToken: settings.DaprAPIToken,
		client:   &http.Client{Timeout: sidecarTimeout},
	}
}

func (s *daprStore) Shipment(ctx context.Context, orderID string) (*Shipment, error) {
	// The bulk read takes keys in the body: a key with a "/" cannot be put in the URL.
	body, err := s.post(ctx, "/bulk", map[string]any{"keys": []string{shipmentKey(orderID)}})
	if err != nil {
		return nil, err
	}
	var found []struct {
		Data  *Shipment `json:"data"`
		Error string    `json:"error"`
	}
	if err := json.Unmarshal(body, &found); err != nil || len(found) != 1 {
		return nil, fmt.Errorf("unexpected bulk state answer %q", body)
	}
	if found[0].Error != "" {
		return nil, fmt.Errorf("reading shipment: %s", found[0].Error)
	}
	return found[0].Data, nil
}

// Schedule writes the shipment and, through the store's outbox, publishes the
// announcement to the shipping topic in the same transaction.
//
// Two upserts of one key: the first is stored, and its metadata becomes attributes of
// the published CloudEvent (type, datacontenttype, traceparent); the second, marked as the outbox
// projection, is what gets published instead of the stored value. The projection needs
// its own contentType, or Dapr publishes the data as Go's text form of a map.
//
// No ETag: on Redis the outbox's own write commits even when an ETag check in the same
// transaction fails, so an ETag here would not stop the announcement.
func (s *daprStore) Schedule(ctx context.Context, shipment Shipment, announcement ShipmentScheduled) error {
	key := shipmentKey(shipment.OrderID)
	// The outbox leaves the published event's traceparent empty unless the write's
	// metadata gives it: without it, the trace would end here.
	metadata := traceContext(ctx)
	metadata["type"], metadata["datacontenttype"] = typeShipmentScheduled, "application/json"
	transaction := map[string]any{"operations": []map[string]any{
		{"operation": "upsert", "request": map[string]any{"key": key, "value": shipment, "metadata": metadata}},
		{"operation": "upsert", "request": map[string]any{
			"key": key, "value": announcement,
			"metadata": map[string]string{"outbox.projection": "true", "contentType": "application/json"},
		}},
	}}
	_, err := s.post(ctx, "/transaction", transaction)
	return err
}

func (s *daprStore) post(ctx context.Context, path string, payload any) ([]byte, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	request.Header.Set("Content-Type", "application/json")
	w3c.Inject(ctx, propagation.HeaderCarrier(request.Header)) // the sidecar's spans join the trace
	if s.apiToken != "" {
		request.Header.Set("dapr-api-token", s.apiToken)
	}
	response, err := s.client.Do(request)
	if err != nil {
		return nil, fmt.Errorf("calling the sidecar: %w", err)
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode >= 300 {
		return nil, fmt.Errorf("sidecar answered %s to %s: %s", response.Status, path, answer)
	}
	return answer, nil
}
