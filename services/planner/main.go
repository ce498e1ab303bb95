// Command planner serves paddock's plan endpoint (a NATS micro service),
// detects gaps, publishes them, writes loaded season schedules and keeps
// the run accounts.
//
// Configuration (environment): NATS_URL, DATABASE_URL, PADDOCK_HTTP_ADDR
// (/healthz, /metrics; default 127.0.0.1:8081, this machine only), PADDOCK_SCHEDULE_WAIT (default 2m),
// PADDOCK_MIGRATE (default true: apply the schema at start), the quota
// PADDOCK_QUOTA_WINDOW and PADDOCK_QUOTA_<HOST> (as the loader's),
// PADDOCK_LOG_LEVEL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/secret"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logging.New(os.Stderr, "planner", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "planner:", secret.Err(err)) // a setting's value may be a secret
		os.Exit(2)
	}
	if err := run(ctx, cfg, log); err != nil {
		log.Error("planner stopped", "err", err)
		os.Exit(ops.ExitCode(err)) // 2: its address is taken
	}
}
