// Command loader is paddock's single loader: it takes gaps (a few at once,
// every request through one rate governor), fetches the feeds they need
// (the raw archive first) and publishes the loaded manifests. Run exactly
// one: the upstream quota is global.
//
// Configuration (environment): NATS_URL, PADDOCK_HTTP_ADDR (default
// :8082), the upstream's PADDOCK_LIVETIMING_URL, PADDOCK_MIRROR_URL,
// PADDOCK_JOLPICA_URL, PADDOCK_GITHUBRAW_URL, PADDOCK_MULTIVIEWER_URL,
// PADDOCK_HTTP_TIMEOUT, PADDOCK_HTTP_RETRIES, PADDOCK_HTTP_MAX_BODY, the
// quota PADDOCK_QUOTA_WINDOW and PADDOCK_QUOTA_<HOST> ("500/250ms"),
// PADDOCK_ACK_WAIT (default 1m: how soon a dead loader's gap returns),
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
	log := logging.New(os.Stderr, "loader", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loader:", secret.Err(err)) // a setting's value may be a secret
		os.Exit(2)
	}
	if err := run(ctx, cfg, log); err != nil {
		log.Error("loader stopped", "err", err)
		os.Exit(ops.ExitCode(err)) // 2: its address is taken
	}
}
