package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/watch"
)

// setupWatch is 'paddock watch': it keeps the current season complete
// until interrupted.
func setupWatch(fs *flag.FlagSet, cl *cli) runFunc {
	var c watch.Config
	fs.IntVar(&c.Year, "year", 0, "the season to watch (default: the current one, and the previous one in its last week)")
	fs.DurationVar(&c.Every, "every", watch.DefaultEvery, "how often to look at the schedule")
	fs.DurationVar(&c.After, "after", watch.DefaultAfter, "how long after a session ends it is first planned (F1 publishes 30-120 minutes after)")
	fs.DurationVar(&c.Again, "again", watch.DefaultAgain, "how soon a session still incomplete is planned again")
	fs.DurationVar(&c.Within, "within", watch.DefaultWithin, "how long after its end a session is watched; older ones are 'paddock import's")
	fs.DurationVar(&c.ScheduleEvery, "schedule-every", watch.DefaultScheduleEvery, "how often the season schedule is loaded anew, so a changed calendar is seen")
	fs.DurationVar(&c.LeaseTTL, "lease", watch.DefaultLeaseTTL, "how long the acting watcher's lease stands without renewal (the first watcher's value holds)")
	fs.BoolVar(&c.Notify, "notify", false, "post each run's pauses and summary to Slack (SLACK_WEBHOOK_URL)")
	kindList := fs.String("kinds", cl.cfg.Kinds, "only these data kinds, comma separated (default: PADDOCK_KINDS, else every kind)")
	recorded := fs.String("recorded", "", "serve this recorded upstream tree locally instead of the network (embedded default only)")
	dataDir := fs.String("data-dir", cl.cfg.DataDir, "data directory of the embedded JetStream server (PADDOCK_DATA_DIR)")
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("unexpected argument %q", rest[0])
		}
		if last := time.Now().UTC().Year(); c.Year != 0 && (c.Year < f1.FirstYear || c.Year > last) {
			return usageError("--year %d: watch a season from %d to %d (leave it out for the current one)", c.Year, f1.FirstYear, last)
		}
		for name, d := range map[string]time.Duration{"every": c.Every, "after": c.After, "again": c.Again, "within": c.Within,
			"schedule-every": c.ScheduleEvery, "lease": c.LeaseTTL} {
			if d <= 0 {
				return usageError("--%s %s: want a positive duration, e.g. 1m", name, d)
			}
		}
		if c.Within <= c.After {
			return usageError("--within %s must be longer than --after %s", c.Within, c.After)
		}
		if *kindList != "" {
			ks, err := kinds.Parse(strings.Split(*kindList, ","))
			if err != nil {
				return usageError("--kinds (or PADDOCK_KINDS): %v", err)
			}
			c.Kinds = ks
		}
		if cl.cfg.NATSURL != "" && *recorded != "" {
			return usageError("--recorded applies to the embedded default; with NATS_URL set, point the loader at 'paddock standin' with PADDOCK_*_URL")
		}
		if *recorded != "" {
			if st, err := os.Stat(*recorded); err != nil || !st.IsDir() {
				return usageError("--recorded %s: not a directory of recorded responses", *recorded)
			}
		}
		c.Replicas = cl.cfg.Quota.Replicas
		return cmdWatch(ctx, cl.cfg, c, *recorded, *dataDir)
	}
}

// cmdWatch runs a watcher until ctx ends: with NATS_URL against the
// running services, otherwise with every service in this process.
func cmdWatch(ctx context.Context, cfg config, c watch.Config, recorded, dataDir string) error {
	log := logging.New(os.Stderr, "paddock-watch", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	log.Info("starting", "nats_url", secret.Mask(cfg.NATSURL), "database_url", store.MaskURL(cfg.DatabaseURL))
	var (
		nc   *nats.Conn
		js   jetstream.JetStream
		pool *pgxpool.Pool
	)
	if cfg.NATSURL == "" {
		st, err := stack.Start(ctx, stack.Config{DataDir: absDir(dataDir), NATSURL: cfg.NATSURL, DatabaseURL: cfg.DatabaseURL,
			Recorded: recorded, Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL}, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := st.Close(); err != nil {
				log.Warn("shutdown", "err", err)
			}
		}()
		nc, js, pool = st.NC, st.JS, st.Pool
	} else {
		var err error
		if nc, err = natsrv.Connect(cfg.NATSURL, "paddock-watch", log, cfg.NATSAuth); err != nil {
			return err
		}
		defer nc.Close()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := natsrv.WaitConnected(wctx, nc, cfg.NATSURL); err != nil {
			return err
		}
		if js, err = jetstream.New(nc); err != nil {
			return fmt.Errorf("watch: jetstream: %w", err)
		}
		if pool, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
		defer pool.Close()
	}
	w, err := watch.New(ctx, c, nc, js, pool, log)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
