package main

// Names shipping shares with the rest of eda-shop. The contract (apps/contracts) is
// the source; contract_test.go fails when these drift from it.
const (
	appID      = "shipping"
	pubsubName = "pubsub"
	storeName  = "shipping-store"

	topicPayments    = "payments"
	topicShipping    = "shipping"
	topicDeadLetters = "deadletters"

	typePaymentSucceeded  = "payment.succeeded"
	typeShipmentScheduled = "shipment.scheduled"
)

// contractEventTypes is every CloudEvent type the contract names. A topic carries facts
// for other subscribers too: those are acknowledged, anything else is dead-lettered.
var contractEventTypes = map[string]bool{
	"order.requested":     true,
	"order.placed":        true,
	"order.confirmed":     true,
	"order.cancelled":     true,
	"stock.reserved":      true,
	"stock.rejected":      true,
	"stock.released":      true,
	typePaymentSucceeded:  true,
	"payment.failed":      true,
	typeShipmentScheduled: true,
}
