// Command notifier posts the summaries and pauses of runs planned with
// --notify to Slack.
//
// Configuration (environment): NATS_URL, SLACK_WEBHOOK_URL (an incoming
// webhook; without it messages are only logged), PADDOCK_HTTP_ADDR
// (default 127.0.0.1:8093, this machine only), PADDOCK_STREAM_REPLICAS, PADDOCK_LOG_LEVEL.
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
	log := logging.New(os.Stderr, "notifier", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", secret.Err(err)) // a setting's value may be a secret
		os.Exit(2)
	}
	if err := run(ctx, cfg, log); err != nil {
		log.Error("notifier stopped", "err", err)
		os.Exit(ops.ExitCode(err)) // 2: its address is taken
	}
}
