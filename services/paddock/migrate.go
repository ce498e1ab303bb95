package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/store"
)

// setupMigrate is 'paddock migrate'.
func setupMigrate(_ *flag.FlagSet, cl *cli) runFunc {
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("migrate takes no arguments")
		}
		return cmdMigrate(ctx, cl)
	}
}

func cmdMigrate(ctx context.Context, cl *cli) error {
	cfg, log := cl.cfg, cl.log
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, log, kinds.Schemas()...); err != nil {
		return err
	}
	fmt.Fprintf(cl.out, "database %s is at the current schema\n", store.MaskURL(cfg.DatabaseURL))
	if cfg.NATSURL == "" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when NATS is down
	defer cancel()
	nc, _, err := natsrv.JetStream(cctx, cfg.NATSURL, "paddock-migrate", cfg.Quota.Replicas, log, cfg.NATSAuth)
	if err != nil {
		return err
	}
	nc.Close()
	fmt.Fprintf(cl.out, "JetStream topology applied on %s\n", secret.Mask(cfg.NATSURL))
	return nil
}
