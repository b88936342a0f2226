// shipping schedules a shipment for every paid order and announces it: it hears
// payment.succeeded on the payments topic and publishes shipment.scheduled to the
// shipping topic through its own outbox (store.go). Its sidecar delivers events to it
// over HTTP (the standard library's server); it calls the sidecar through the Dapr Go
// SDK's client.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
)

const shutdownGrace = 10 * time.Second

func main() {
	log := newLogger(os.Stdout)
	settings, err := settingsFromEnv(os.Getenv)
	if err != nil {
		log.Error("bad settings", "reason", err.Error())
		os.Exit(2)
	}
	tracing, err := newTracerProvider(settings.ZipkinEndpoint)
	if err != nil {
		log.Error("bad settings", "reason", err.Error())
		os.Exit(2)
	}
	otel.SetTracerProvider(tracing)
	store := &daprStore{log: log}
	go store.connect(fmt.Sprintf("127.0.0.1:%d", settings.DaprGRPCPort))
	defer store.Close()
	service := &Service{store: store}
	server := &http.Server{
		// Loopback only: the sidecar runs beside the app and is the only caller.
		Addr:              fmt.Sprintf("127.0.0.1:%d", settings.AppPort),
		Handler:           onlyFromTheSidecar(settings.AppAPIToken, limitBodies(newRouter(service, log))),
		ReadHeaderTimeout: 5 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed := make(chan error, 1)
	go func() { failed <- server.ListenAndServe() }()
	log.Info("listening", "address", server.Addr)

	select {
	case err := <-failed:
		log.Error("server stopped", "reason", err.Error())
		os.Exit(1)
	case <-ctx.Done():
	}
	// Let open deliveries finish; any cut off past the grace period are redelivered.
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil {
		log.Warn("stopped before every delivery finished", "reason", err.Error())
	}
	if err := tracing.Shutdown(shutdown); err != nil {
		log.Warn("spans not sent to the tracing backend", "reason", err.Error())
	}
}
