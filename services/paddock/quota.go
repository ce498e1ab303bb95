package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
)

// setupQuota is 'paddock quota': every upstream host's quota from the
// persisted ledgers, from NATS_URL or from the embedded server's data
// directory. No loader needs to run.
func setupQuota(fs *flag.FlagSet, cl *cli) runFunc {
	asJSON := fs.Bool("json", false, "print JSON")
	dataDir := fs.String("data-dir", cl.cfg.DataDir, "data directory of the embedded JetStream server (without NATS_URL)")
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("unexpected argument %q", rest[0])
		}
		return cmdQuota(ctx, cl, *asJSON, *dataDir)
	}
}

func cmdQuota(ctx context.Context, cl *cli, asJSON bool, dataDir string) error {
	cfg, log := cl.cfg, cl.log
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
		srv, err := natsrv.Start(natsrv.Options{StoreDir: filepath.Join(absDir(dataDir), "jetstream")})
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
	if asJSON {
		enc := json.NewEncoder(cl.out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(cl.out, "%-30s %10s %9s %9s  %-20s %s\n", "host", "calls_made", "max_calls", "remaining", "next_reset", "status")
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
		fmt.Fprintf(cl.out, "%-30s %10d %9s %9d  %-20s %s\n", h.Host, h.CallsMade, max, h.Remaining, reset, status)
	}
	fmt.Fprintf(cl.out, "window: %s\n", gov.Window())
	return nil
}
