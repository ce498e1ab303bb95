package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/store"
)

func cmdMigrate(ctx context.Context, cfg config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, log, kinds.Schemas()...); err != nil {
		return err
	}
	fmt.Printf("database %s is at the current schema\n", store.MaskURL(cfg.DatabaseURL))
	if cfg.NATSURL == "" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when NATS is down
	defer cancel()
	nc, _, err := natsrv.JetStream(cctx, cfg.NATSURL, "paddock-migrate", cfg.Quota.Replicas, log)
	if err != nil {
		return err
	}
	nc.Close()
	fmt.Printf("JetStream topology applied on %s\n", cfg.NATSURL)
	return nil
}
