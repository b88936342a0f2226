package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"
)

// CloudEvent is the envelope Dapr delivers: the core attributes, the data left raw
// until the type is known. (The trace context comes in the traceparent header: tracing.go.)
type CloudEvent struct {
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	SpecVersion string          `json:"specversion"`
	Data        json.RawMessage `json:"data"`
}

func parseCloudEvent(body []byte) (CloudEvent, error) {
	var event CloudEvent
	if err := json.Unmarshal(body, &event); err != nil {
		return event, fmt.Errorf("not a JSON CloudEvent: %w", err)
	}
	if event.ID == "" || event.Source == "" || event.Type == "" || event.SpecVersion == "" {
		return event, errors.New("a CloudEvent needs id, source, type and specversion")
	}
	return event, nil
}

type OrderLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type PaymentSucceeded struct {
	OrderID     string      `json:"order_id"`
	CustomerID  string      `json:"customer_id"`
	PaymentID   string      `json:"payment_id"`
	AmountCents int64       `json:"amount_cents"`
	Items       []OrderLine `json:"items"`
}

type ShipmentScheduled struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	ShipmentID string      `json:"shipment_id"`
	Items      []OrderLine `json:"items"`
}

// decodePaymentSucceeded reads the data of a payment.succeeded event as strictly as its
// schema does: encoding/json alone would take null for a number, match keys without
// regard to case and ignore unknown ones. contract_test.go holds the two together.
func decodePaymentSucceeded(data []byte) (PaymentSucceeded, error) {
	var p PaymentSucceeded
	fields, err := object(data, "order_id", "customer_id", "payment_id", "amount_cents", "items")
	if err != nil {
		return p, err
	}
	if p.OrderID, err = id(fields, "order_id"); err != nil {
		return p, err
	}
	if p.CustomerID, err = id(fields, "customer_id"); err != nil {
		return p, err
	}
	if p.PaymentID, err = id(fields, "payment_id"); err != nil {
		return p, err
	}
	if p.AmountCents, err = integer(fields["amount_cents"], "amount_cents", 0, -1); err != nil {
		return p, err
	}
	p.Items, err = orderLines(fields["items"])
	return p, err
}

// object splits a JSON object into its fields, which must be exactly `names`.
func object(data []byte, names ...string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return nil, errors.New("not a JSON object")
	}
	for name := range fields {
		if !contains(names, name) {
			return nil, fmt.Errorf("%s: not in the contract", name)
		}
	}
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("%s: missing", name)
		}
	}
	return fields, nil
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func id(fields map[string]json.RawMessage, name string) (string, error) {
	return text(fields[name], name, nil)
}

// text reads a string of 1 to 64 characters that matches `pattern`, if one is given.
func text(raw json.RawMessage, name string, pattern *regexp.Regexp) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: not a string", name)
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > 64 {
		return "", fmt.Errorf("%s: must have 1 to 64 characters", name)
	}
	if pattern != nil && !pattern.MatchString(s) {
		return "", fmt.Errorf("%s: does not match %s", name, pattern)
	}
	return s, nil
}

// integer reads a whole number of at least min and, unless max is negative, at most max.
func integer(raw json.RawMessage, name string, min, max int64) (int64, error) {
	var n int64
	if string(raw) == "null" || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("%s: not an integer", name)
	}
	if n < min || (max >= 0 && n > max) {
		return 0, fmt.Errorf("%s: out of range", name)
	}
	return n, nil
}

func orderLines(raw json.RawMessage) ([]OrderLine, error) {
	var items []json.RawMessage
	if string(raw) == "null" || json.Unmarshal(raw, &items) != nil {
		return nil, errors.New("items: not an array")
	}
	if len(items) == 0 {
		return nil, errors.New("items: needs at least one line")
	}
	lines := make([]OrderLine, len(items))
	for i, item := range items {
		fields, err := object(item, "sku", "quantity")
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		if lines[i].SKU, err = text(fields["sku"], "sku", skuPattern); err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		if lines[i].Quantity, err = integer(fields["quantity"], "quantity", 1, 1000); err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
	}
	return lines, nil
}
