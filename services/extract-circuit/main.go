// Command extract-circuit writes circuit layouts (MultiViewer corners, marshal lights and sectors, rotation) once per circuit and year, linked to each event.
// Run as many instances as needed; they share one durable consumer.
//
// Configuration (environment): NATS_URL, DATABASE_URL, PADDOCK_CONCURRENCY
// (messages handled at once per instance, default 4), PADDOCK_HTTP_ADDR
// (default :8085), PADDOCK_LOG_LEVEL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/paddock-f1/paddock/pkg/circuitdb"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logging.New(os.Stderr, "extract-circuit", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	cfg, err := extractor.LoadConfig(":8085")
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract-circuit:", err)
		os.Exit(2)
	}
	if err := extractor.Serve(ctx, cfg, circuitdb.Kind(), log); err != nil {
		log.Error("extract-circuit stopped", "err", err)
		os.Exit(1)
	}
}
