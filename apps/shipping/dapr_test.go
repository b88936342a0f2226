package main

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	runtimev1 "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fakeSidecar answers the state API (gRPC) as a sidecar with no shipments would, and
// keeps the traceparent and API token of every call and the metadata of every transaction.
type fakeSidecar struct {
	runtimev1.UnimplementedDaprServer
	mu           sync.Mutex
	traceparents []string
	tokens       []string
	metadata     []map[string]string
}

func (f *fakeSidecar) heard(ctx context.Context) {
	incoming, _ := metadata.FromIncomingContext(ctx)
	f.traceparents = append(f.traceparents, strings.Join(incoming.Get("traceparent"), ","))
	f.tokens = append(f.tokens, strings.Join(incoming.Get("dapr-api-token"), ","))
}

func (f *fakeSidecar) GetState(ctx context.Context, _ *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard(ctx)
	return &runtimev1.GetStateResponse{}, nil
}

func (f *fakeSidecar) ExecuteStateTransaction(
	ctx context.Context, request *runtimev1.ExecuteStateTransactionRequest,
) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heard(ctx)
	for _, operation := range request.GetOperations() {
		f.metadata = append(f.metadata, operation.GetRequest().GetMetadata())
	}
	return &emptypb.Empty{}, nil
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
	store := &daprStore{}
	store.connect(listener.Addr().String(), newLogger(io.Discard))
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
