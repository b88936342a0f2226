package main

import (
	"fmt"
	"strconv"
)

// Settings come from the environment; `dapr run` and the test fixtures set the ports.
type Settings struct {
	AppPort      int    // APP_PORT: where the sidecar reaches this app
	DaprGRPCPort int    // DAPR_GRPC_PORT: where this app reaches its sidecar (the SDK sends DAPR_API_TOKEN)
	AppAPIToken  string // APP_API_TOKEN: required from every caller but the health check, when set
	// OTEL_EXPORTER_ZIPKIN_ENDPOINT: where the app's own spans go (Zipkin's v2 API), when set
	ZipkinEndpoint string
}

func settingsFromEnv(getenv func(string) string) (Settings, error) {
	appPort, err := port(getenv, "APP_PORT", 8004)
	if err != nil {
		return Settings{}, err
	}
	daprPort, err := port(getenv, "DAPR_GRPC_PORT", 50001)
	if err != nil {
		return Settings{}, err
	}
	return Settings{
		AppPort: appPort, DaprGRPCPort: daprPort, AppAPIToken: getenv("APP_API_TOKEN"),
		ZipkinEndpoint: getenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT"),
	}, nil
}

func port(getenv func(string) string, name string, fallback int) (int, error) {
	value := getenv(name)
	if value == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port number (1-65535)", name, value)
	}
	return n, nil
}
