package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The one contract of eda-shop, read where it lives: never copied into this app.
var contracts = filepath.Join("..", "contracts", "schemas")

const schemaID = "urn:eda-shop:events:v1"

// examples are the shared test vectors: per event type, data that must pass and data
// that must fail its schema.
type examples struct {
	Valid   map[string][]json.RawMessage
	Invalid map[string][]json.RawMessage
}

func loadJSON(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(contracts, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// schemaFor compiles the contract's schema of one event type (draft 2020-12).
func schemaFor(t *testing.T, eventType string) *jsonschema.Schema {
	t.Helper()
	file, err := os.Open(filepath.Join(contracts, "events.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	document, err := jsonschema.UnmarshalJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	compiler := jsonschema.NewCompiler()
	if err := compiler.AddResource(schemaID, document); err != nil {
		t.Fatal(err)
	}
	schema, err := compiler.Compile(schemaID + "#/$defs/" + eventType)
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

func validates(schema *jsonschema.Schema, data []byte) error {
	value, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
	if err != nil {
		return err
	}
	return schema.Validate(value)
}

func TestShippingAcceptsExactlyWhatThePaymentSucceededSchemaAccepts(t *testing.T) {
	var vectors examples
	loadJSON(t, "examples.json", &vectors)
	schema := schemaFor(t, typePaymentSucceeded)
	cases := map[bool][]json.RawMessage{true: vectors.Valid[typePaymentSucceeded], false: vectors.Invalid[typePaymentSucceeded]}
	if len(cases[true]) == 0 || len(cases[false]) == 0 {
		t.Fatal("the shared vectors have no payment.succeeded examples")
	}
	for valid, datas := range cases {
		for _, data := range datas {
			if schemaSays := validates(schema, data) == nil; schemaSays != valid {
				t.Errorf("the schema disagrees with the vectors on %s", data)
			}
			if _, err := decodePaymentSucceeded(data); (err == nil) != valid {
				t.Errorf("shipping accepts=%v, the contract says %v: %s (%v)", err == nil, valid, data, err)
			}
		}
	}
}

// Strictness beyond the shared vectors, each case one the schema refuses and a lax
// encoding/json decoder would take.
func TestShippingRefusesWhatEncodingJSONAloneWouldTake(t *testing.T) {
	schema := schemaFor(t, typePaymentSucceeded)
	line := `"items": [{"sku": "tea-sencha", "quantity": 2}]`
	for _, data := range []string{
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": null, ` + line + `}`,
		`{"ORDER_ID": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, ` + line + `}`,
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1.5, ` + line + `}`,
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, "items": null}`,
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, "items": [{"sku": "tea", "quantity": 1001}]}`,
		`{"order_id": "` + strings.Repeat("x", 65) + `", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, ` + line + `}`,
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, "coupon": "FREE", ` + line + `}`,
		`{"order_id": "o-1", "customer_id": "c-1", "payment_id": "p-1", "amount_cents": 1, "items": [{"sku": "tea", "quantity": 1, "gift": true}]}`,
		`[]`,
	} {
		if validates(schema, []byte(data)) == nil {
			t.Errorf("the schema accepts %s", data)
		}
		if _, err := decodePaymentSucceeded([]byte(data)); err == nil {
			t.Errorf("shipping accepts %s", data)
		}
	}
}

func TestWhatShippingPublishesFitsTheShipmentScheduledSchema(t *testing.T) {
	var vectors examples
	loadJSON(t, "examples.json", &vectors)
	schema := schemaFor(t, typeShipmentScheduled)
	for _, data := range vectors.Valid[typePaymentSucceeded] {
		payment, err := decodePaymentSucceeded(data)
		if err != nil {
			t.Fatal(err)
		}
		_, announcement := scheduleShipment(payment, "e-1")
		published, _ := json.Marshal(announcement)
		if err := validates(schema, published); err != nil {
			t.Errorf("shipping would publish %s: %v", published, err)
		}
	}
}

func TestTheEventTypesShippingKnowsAreTheContracts(t *testing.T) {
	var schema struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	loadJSON(t, "events.schema.json", &schema)
	var inContract []string
	for name := range schema.Defs {
		if strings.Contains(name, ".") { // the other $defs are building blocks (Id, OrderLine)
			inContract = append(inContract, name)
		}
	}
	var known []string
	for name := range contractEventTypes {
		known = append(known, name)
	}
	slices.Sort(inContract)
	slices.Sort(known)
	if !slices.Equal(known, inContract) {
		t.Fatalf("shipping knows %v, the contract names %v", known, inContract)
	}
}
