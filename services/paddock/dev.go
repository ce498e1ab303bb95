package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/stack"
)

// cmdDev runs every service in this process until interrupted: the
// embedded default as a long-running server that 'paddock plan' (with
// NATS_URL pointing at --listen) can talk to.
func cmdDev(ctx context.Context, cfg config, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	recorded := fs.String("recorded", "", "serve this recorded upstream tree locally instead of the network")
	dataDir := fs.String("data-dir", cfg.DataDir, "data directory of the embedded JetStream server")
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	log := logging.New(os.Stderr, "paddock-dev", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	st, err := stack.Start(ctx, stack.Config{DataDir: absDir(*dataDir), NATSURL: cfg.NATSURL,
		DatabaseURL: cfg.DatabaseURL, Recorded: *recorded, Upstream: cfg.Upstream}, log)
	if err != nil {
		return err
	}
	log.Info("every service is running; interrupt to stop")
	<-ctx.Done()
	return st.Close()
}
