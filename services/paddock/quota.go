package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
)

// cmdQuota prints every upstream host's quota from the persisted ledgers:
// from NATS_URL, or from the embedded server's data directory. No loader
// needs to run.
func cmdQuota(ctx context.Context, cfg config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("quota", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	dataDir := fs.String("data-dir", cfg.DataDir, "data directory of the embedded JetStream server (without NATS_URL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("%v", err)
	}
	var js jetstream.JetStream
	if cfg.NATSURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when NATS is down
		defer cancel()
		nc, j, err := natsrv.JetStream(cctx, cfg.NATSURL, "paddock-quota", cfg.Quota.Replicas, log)
		if err != nil {
			return err
		}
		defer nc.Close()
		js = j
	} else {
		srv, err := natsrv.Start(natsrv.Options{StoreDir: filepath.Join(absDir(*dataDir), "jetstream")})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		nc, err := srv.Connect("paddock-quota")
		if err != nil {
			return err
		}
		defer nc.Close()
		if js, err = jetstream.New(nc); err != nil {
			return err
		}
	}
	gov, err := governor.New(ctx, js, cfg.Quota, nil)
	if err != nil {
		return err
	}
	st, err := gov.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Printf("%-30s %10s %9s %9s  %-20s %s\n", "host", "calls_made", "max_calls", "remaining", "next_reset", "status")
	for _, h := range st {
		reset := "-"
		if h.NextReset != nil {
			reset = h.NextReset.UTC().Format(time.RFC3339)
		}
		status := h.Status
		if h.PausedUntil != nil {
			status += " (paused until " + h.PausedUntil.UTC().Format(time.RFC3339) + ")"
		}
		max := fmt.Sprint(h.MaxCalls)
		if h.MaxCalls == 0 {
			max = "unlimited"
		}
		fmt.Printf("%-30s %10d %9s %9d  %-20s %s\n", h.Host, h.CallsMade, max, h.Remaining, reset, status)
	}
	fmt.Printf("window: %s\n", gov.Window())
	return nil
}
