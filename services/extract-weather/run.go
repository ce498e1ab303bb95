package main

import (
	"context"
	"log/slog"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/weatherdb"
	"github.com/paddock-f1/paddock/streams"
)

// config is the weather extractor's configuration.
type config struct {
	NATSURL     string
	DatabaseURL string
	HTTPAddr    string
	Concurrency int
}

func loadConfig() (config, error) {
	r := envconf.New()
	c := config{
		NATSURL:     r.String("NATS_URL", "nats://127.0.0.1:4222"),
		DatabaseURL: r.String("DATABASE_URL", store.DefaultURL),
		HTTPAddr:    r.String("PADDOCK_HTTP_ADDR", ":8083"),
		Concurrency: r.Int("PADDOCK_CONCURRENCY", 4),
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	log.Info("starting", "nats_url", cfg.NATSURL, "database_url", store.MaskURL(cfg.DatabaseURL),
		"http_addr", cfg.HTTPAddr, "concurrency", cfg.Concurrency)

	// NATS, the topology and the raw archive.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "extract-weather", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		return err
	}

	// PostgreSQL (the schema is the planner's or 'paddock migrate''s job).
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	// The extractor; drains its messages in hand when ctx ends.
	x := extractor.New(weatherdb.Kind(), pool, js, arc, log)
	errs := make(chan error, 1)
	go func() {
		errs <- ops.Serve(ctx, cfg.HTTPAddr, func(ctx context.Context) error { return pool.Ping(ctx) }, log)
	}()
	err = x.Run(ctx, cfg.Concurrency)
	if oerr := <-errs; err == nil {
		err = oerr
	}
	log.Info("stopped")
	return err
}
