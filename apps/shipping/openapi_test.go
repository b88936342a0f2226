package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

var allMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}

// specOperations reads openapi.json: the methods of each path it documents.
func specOperations(t *testing.T) map[string]map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	operations := map[string]map[string]bool{}
	for path, methods := range spec.Paths {
		operations[path] = map[string]bool{}
		for method := range methods {
			operations[path][strings.ToUpper(method)] = true
		}
	}
	return operations
}

// The document and the router agree: every operation it lists is routed, every other
// method on its paths is not, and the router serves the very document.
func TestTheOpenAPIDocumentListsExactlyTheRoutes(t *testing.T) {
	server, _ := newTestApp(t)
	for path, methods := range specOperations(t) {
		for _, method := range allMethods {
			request, _ := http.NewRequest(method, server.URL+path, strings.NewReader("{}"))
			response, err := http.DefaultClient.Do(request)
			if err != nil {
				t.Fatal(err)
			}
			response.Body.Close()
			routed := response.StatusCode != http.StatusNotFound && response.StatusCode != http.StatusMethodNotAllowed
			if routed != methods[method] {
				t.Errorf("%s %s: answered %d; the document lists it: %v", method, path, response.StatusCode, methods[method])
			}
		}
	}
	served, err := http.Get(server.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer served.Body.Close()
	body, _ := io.ReadAll(served.Body)
	if onDisk, _ := os.ReadFile("openapi.json"); !bytes.Equal(body, onDisk) {
		t.Fatal("GET /openapi.json does not serve openapi.json")
	}
}

func TestTheRouterKnowsNoPathTheDocumentLeavesOut(t *testing.T) {
	server, _ := newTestApp(t)
	for _, path := range []string{"/", "/events", "/events/payment-failed", "/dapr/config", "/openapi.yaml"} {
		response, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		response.Body.Close()
		if response.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: answered %d, want 404", path, response.StatusCode)
		}
	}
}

func TestABodyOverTheLimitGets413(t *testing.T) {
	store := newMemoryStore()
	server := httptest.NewServer(limitBodies(newRouter(&Service{store: store}, newLogger(io.Discard))))
	t.Cleanup(server.Close)
	huge := strings.Repeat("x", maxBodyBytes+1)

	declared, err := http.Post(server.URL+pathPaymentSucceeded, "application/json", strings.NewReader(huge))
	if err != nil {
		t.Fatal(err)
	}
	declared.Body.Close()
	// Without a length (chunked), the limit bites while the body is read.
	request, _ := http.NewRequest(http.MethodPost, server.URL+pathPaymentSucceeded, io.MultiReader(strings.NewReader(huge)))
	request.ContentLength = -1
	streamed, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	streamed.Body.Close()
	if declared.StatusCode != http.StatusRequestEntityTooLarge || streamed.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("answered %d with a length and %d without, want 413 for both", declared.StatusCode, streamed.StatusCode)
	}
	if len(store.shipments) != 0 {
		t.Fatal("an oversize body changed state")
	}
}

func TestStoredKeysHoldNoDaprSeparatorAndStayDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, orderID := range []string{"a||b", "a%7C%7Cb", "a|b", "a%7Cb", "100%", "plain"} {
		key := shipmentKey(orderID)
		if strings.Contains(key, "||") {
			t.Errorf("%q is stored as %q", orderID, key)
		}
		if other, taken := seen[key]; taken {
			t.Errorf("%q and %q are both stored as %q", orderID, other, key)
		}
		seen[key] = orderID
	}
}
