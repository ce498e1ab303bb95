// Command extract-drivers writes the drivers and teams each session's DriverList declares.
// Run as many instances as needed; they share one durable consumer.
//
// Configuration (environment): NATS_URL, DATABASE_URL, PADDOCK_CONCURRENCY
// (messages handled at once per instance, default 4), PADDOCK_HTTP_ADDR
// (default :8086), PADDOCK_LOG_LEVEL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/paddock-f1/paddock/pkg/driversdb"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logging.New(os.Stderr, "extract-drivers", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	cfg, err := extractor.LoadConfig(":8086")
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract-drivers:", err)
		os.Exit(2)
	}
	if err := extractor.Serve(ctx, cfg, driversdb.Kind(), log); err != nil {
		log.Error("extract-drivers stopped", "err", err)
		os.Exit(1)
	}
}
