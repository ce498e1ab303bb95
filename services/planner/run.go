package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/planner"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/streams"
)

// config is the planner's configuration.
type config struct {
	NATSURL      string
	NATSAuth     natsrv.Auth // NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY
	DatabaseURL  string
	HTTPAddr     string
	ScheduleWait time.Duration
	Migrate      bool
	Quota        governor.Config
	RetryFor     time.Duration // PADDOCK_RETRY_FOR: run accounting's retry budget before dead-lettering
}

func loadConfig() (config, error) {
	r := envconf.New()
	r.LogLevel(slog.LevelInfo) // PADDOCK_LOG_LEVEL, which main's logger reads, checked with the rest
	c := config{
		NATSURL:      r.String("NATS_URL", "nats://127.0.0.1:4222"),
		NATSAuth:     r.NATSAuth(),
		DatabaseURL:  r.String("DATABASE_URL", store.DefaultURL),
		HTTPAddr:     r.String("PADDOCK_HTTP_ADDR", "127.0.0.1:8081"),
		ScheduleWait: r.Duration("PADDOCK_SCHEDULE_WAIT", 2*time.Minute),
		Migrate:      r.String("PADDOCK_MIGRATE", "true") == "true",
		Quota:        r.Quota(),
		RetryFor:     r.Duration("PADDOCK_RETRY_FOR", consume.DefaultPolicy().For),
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	ln, err := ops.Listen("PADDOCK_HTTP_ADDR", cfg.HTTPAddr) // first: a port already taken stops the start
	if err != nil {
		return err
	}
	log.Info("starting", "nats_url", secret.Mask(cfg.NATSURL), "database_url", store.MaskURL(cfg.DatabaseURL),
		"http_addr", cfg.HTTPAddr, "schedule_wait", cfg.ScheduleWait, "migrate", cfg.Migrate)

	// NATS and the topology.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "planner", cfg.Quota.Replicas, log, cfg.NATSAuth)
	if err != nil {
		return err
	}
	defer nc.Close()
	// Credentials revoked or rotated while running stop the service, as
	// a refusal at start does (Refused says so below).
	ctx, stopWatch := natsrv.UntilRefused(ctx, nc)
	defer stopWatch()
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		return err
	}

	// PostgreSQL.
	pool, err := store.Wait(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.Migrate {
		if err := store.Migrate(ctx, pool, log, kinds.Schemas()...); err != nil {
			return err
		}
	}

	// Handlers: the plan endpoint, the schedule writer and run accounting.
	cfg.Quota.Log = log
	gov, err := governor.New(ctx, js, cfg.Quota, nil) // read-only: remaining quota for plans
	if err != nil {
		return err
	}
	acc := runs.New(pool, js, log)
	acc.SetRetry(consume.Policy{For: cfg.RetryFor})
	p := planner.New(planner.Config{ScheduleWait: cfg.ScheduleWait}, nc, js, pool, arc, gov, acc, log)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, f := range []func() error{
		func() error { return p.Serve(ctx) },
		func() error { return acc.Run(ctx) },
		func() error { return acc.RunDeadLetters(ctx) },
		func() error {
			return ops.ServeListener(ctx, ln, nil, ops.All(natsrv.Health(nc), pool.Ping, acc.Ready()), log)
		},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f() }()
	}

	// Shutdown: consumers drain when ctx ends, then NATS, then the pool.
	wg.Wait()
	close(errs)
	if rerr := natsrv.Refused(nc); rerr != nil {
		return rerr
	}
	for err := range errs {
		if err != nil {
			return err
		}
	}
	log.Info("stopped")
	return nil
}
