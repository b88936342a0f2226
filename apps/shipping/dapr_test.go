package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	runtimev1 "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fakeSidecar answers the state and pub/sub APIs (gRPC) as a sidecar over Redis would:
// it keeps each key's value and version (its ETag) and refuses a first-write that does
// not present the key's ETag; it keeps every write and publish, and the traceparent and
// API token of every call.
type fakeSidecar struct {
	runtimev1.UnimplementedDaprServer
	mu           sync.Mutex
	values       map[string][]byte
	versions     map[string]int
	writes       []*commonv1.StateItem
	published    []*runtimev1.PublishEventRequest
	traceparents []string
	tokens       []string
}

func newFakeSidecar() *fakeSidecar {
	return &fakeSidecar{values: map[string][]byte{}, versions: map[string]int{}}
}

func (f *fakeSidecar) heard(ctx context.Context) {
	incoming, _ := metadata.FromIncomingContext(ctx)
	f.traceparents = append(f.traceparents, strings.Join(incoming.Get("traceparent"), ","))
	f.tokens = append(f.tokens, strings.Join(incoming.Get("dapr-api-token"), ","))
}

func (f *fakeSidecar) GetState(ctx context.Context, request *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard(ctx)
	return &runtimev1.GetStateResponse{Data: f.values[request.GetKey()], Etag: strconv.Itoa(f.versions[request.GetKey()])}, nil
}

func (f *fakeSidecar) SaveState(ctx context.Context, request *runtimev1.SaveStateRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard(ctx)
	for _, item := range request.GetStates() {
		key, version := item.GetKey(), f.versions[item.GetKey()]
		firstWrite := item.GetOptions().GetConcurrency() == commonv1.StateOptions_CONCURRENCY_FIRST_WRITE
		if firstWrite && version > 0 && item.GetEtag().GetValue() != strconv.Itoa(version) {
			return nil, status.Error(codes.Aborted, "possible etag mismatch")
		}
		f.writes = append(f.writes, item)
		f.values[key], f.versions[key] = item.GetValue(), version+1
	}
	return &emptypb.Empty{}, nil
}

func (f *fakeSidecar) PublishEvent(ctx context.Context, request *runtimev1.PublishEventRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard(ctx)
	f.published = append(f.published, request)
	return &emptypb.Empty{}, nil
}

// stored is what the sidecar holds under key, decoded.
func (f *fakeSidecar) stored(key string) (stored StoredShipment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = json.Unmarshal(f.values[key], &stored)
	return stored
}

// waitUntil fails the test unless condition holds within timeout.
func waitUntil(t *testing.T, condition func() bool, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !condition(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

// startFakeSidecar serves sidecar on a loopback port for the test, and connects a store to it.
func startFakeSidecar(t *testing.T, sidecar *fakeSidecar) *daprStore {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	runtimev1.RegisterDaprServer(server, sidecar)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	store := &daprStore{log: newLogger(io.Discard)}
	store.connect(listener.Addr().String())
	t.Cleanup(store.Close)
	return store
}

func TestADeliveryBeforeTheSidecarAnswersIsRetried(t *testing.T) {
	app := httptest.NewServer(newRouter(&Service{store: &daprStore{}}, newLogger(io.Discard)))
	t.Cleanup(app.Close)

	if got := deliverTo(t, app, pathPaymentSucceeded, cloudEvent("e-1", typePaymentSucceeded, paidOrder)); got != Retry {
		t.Fatalf("answered %s, want RETRY", got)
	}
}

// A shipment stored with its announcement still pending, as a crash right after the
// write leaves it.
const storedPending = `{"record":{"order_id":"o-1","payment_event_id":"e-1"},"pending":[` +
	`{"id":"o-1/shipment.scheduled","topic":"shipping","type":"shipment.scheduled","data":{"order_id":"o-1"}}]}`

func TestAPaidOrderIsStoredWithItsAnnouncementWhichIsPublishedAndCleared(t *testing.T) {
	sidecar := newFakeSidecar()
	app := httptest.NewServer(newRouter(&Service{store: startFakeSidecar(t, sidecar)}, newLogger(io.Discard)))
	t.Cleanup(app.Close)

	if got := deliverTo(t, app, pathPaymentSucceeded, cloudEvent("e-1", typePaymentSucceeded, paidOrder)); got != Success {
		t.Fatalf("answered %s", got)
	}
	waitUntil(t, func() bool { return len(sidecar.stored("shipment/o-1").Pending) == 0 }, 5*time.Second)

	id, items := shipmentID("o-1"), `"items":[{"sku":"tea-sencha","quantity":2}]`
	scheduled := `{"order_id":"o-1","customer_id":"c-1","shipment_id":"` + id + `",` + items + `}`
	record := `{"record":{"shipment_id":"` + id + `","order_id":"o-1","customer_id":"c-1","payment_id":"p-1",` +
		items + `,"payment_event_id":"e-1"},"pending":[`
	if len(sidecar.writes) != 2 {
		t.Fatalf("wrote %v, want the shipment and its clearing", sidecar.writes)
	}
	create, clear := sidecar.writes[0], sidecar.writes[1]
	pending := `{"id":"o-1/shipment.scheduled","topic":"shipping","type":"shipment.scheduled","data":` + scheduled + `}`
	if string(create.GetValue()) != record+pending+"]}" || create.GetEtag() != nil ||
		create.GetOptions().GetConcurrency() != commonv1.StateOptions_CONCURRENCY_FIRST_WRITE ||
		create.GetOptions().GetConsistency() != commonv1.StateOptions_CONSISTENCY_STRONG {
		t.Errorf("created %v, want a create-only write of the shipment with its announcement", create)
	}
	if string(clear.GetValue()) != record+"]}" || clear.GetEtag().GetValue() != "1" {
		t.Errorf("cleared with %v, want no pending announcement, under the created version", clear)
	}
	wantMetadata := map[string]string{"cloudevent.id": "o-1/shipment.scheduled", "cloudevent.type": "shipment.scheduled"}
	if len(sidecar.published) != 1 || sidecar.published[0].GetPubsubName() != "pubsub" ||
		sidecar.published[0].GetTopic() != "shipping" || string(sidecar.published[0].GetData()) != scheduled ||
		sidecar.published[0].GetDataContentType() != "application/json" ||
		!maps.Equal(sidecar.published[0].GetMetadata(), wantMetadata) {
		t.Errorf("published %v", sidecar.published)
	}
}

func TestARedeliveredPaymentRepublishesWhatIsStillPendingUnderTheSameID(t *testing.T) {
	sidecar := newFakeSidecar()
	sidecar.values["shipment/o-1"], sidecar.versions["shipment/o-1"] = []byte(storedPending), 1
	app := httptest.NewServer(newRouter(&Service{store: startFakeSidecar(t, sidecar)}, newLogger(io.Discard)))
	t.Cleanup(app.Close)

	if got := deliverTo(t, app, pathPaymentSucceeded, cloudEvent("e-1", typePaymentSucceeded, paidOrder)); got != Success {
		t.Fatalf("answered %s", got)
	}
	waitUntil(t, func() bool { return len(sidecar.stored("shipment/o-1").Pending) == 0 }, 5*time.Second)
	assertRepublished(t, sidecar)
}

// Two deliveries of one payment may both find no shipment: the second write finds the
// key taken, and relays what the first left pending.
func TestSchedulingOverAStoredShipmentKeepsItAndRelaysItsAnnouncement(t *testing.T) {
	sidecar := newFakeSidecar()
	sidecar.values["shipment/o-1"], sidecar.versions["shipment/o-1"] = []byte(storedPending), 1
	store := startFakeSidecar(t, sidecar)

	shipment, scheduled := scheduleShipment(PaymentSucceeded{OrderID: "o-1"}, "e-2")
	if err := store.Schedule(context.Background(), shipment, scheduled); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(sidecar.stored("shipment/o-1").Pending) == 0 }, 5*time.Second)
	if got := sidecar.stored("shipment/o-1").Shipment.PaymentEventID; got != "e-1" {
		t.Errorf("the stored shipment is now that of %s, want e-1's", got)
	}
	assertRepublished(t, sidecar)
}

// assertRepublished checks that the announcement in storedPending, and only that, was published.
func assertRepublished(t *testing.T, sidecar *fakeSidecar) {
	t.Helper()
	if len(sidecar.published) != 1 || string(sidecar.published[0].GetData()) != `{"order_id":"o-1"}` ||
		sidecar.published[0].GetMetadata()["cloudevent.id"] != "o-1/shipment.scheduled" {
		t.Errorf("published %v, want the pending o-1/shipment.scheduled", sidecar.published)
	}
}
