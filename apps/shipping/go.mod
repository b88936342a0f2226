module eda-shop/shipping

go 1.24

require github.com/santhosh-tekuri/jsonschema/v6 v6.0.3

require (
	github.com/prometheus/client_golang v1.23.2 // indirect
	golang.org/x/text v0.28.0 // indirect
)
