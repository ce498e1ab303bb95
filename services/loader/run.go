package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// config is the loader's configuration.
type config struct {
	NATSURL  string
	NATSAuth natsrv.Auth // NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY
	HTTPAddr string
	Upstream upstream.Config
	Quota    governor.Config
	AckWait  time.Duration
}

func loadConfig() (config, error) {
	r := envconf.New()
	r.LogLevel(slog.LevelInfo) // PADDOCK_LOG_LEVEL, which main's logger reads, checked with the rest
	c := config{
		NATSURL:  r.String("NATS_URL", "nats://127.0.0.1:4222"),
		NATSAuth: r.NATSAuth(),
		HTTPAddr: r.String("PADDOCK_HTTP_ADDR", "127.0.0.1:8082"),
		Upstream: r.Upstream(),
		Quota:    r.Quota(),
		AckWait:  r.Duration("PADDOCK_ACK_WAIT", time.Minute),
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	ln, err := ops.Listen("PADDOCK_HTTP_ADDR", cfg.HTTPAddr) // first: a port already taken stops the start
	if err != nil {
		return err
	}
	log.Info("starting", "nats_url", secret.Mask(cfg.NATSURL), "http_addr", cfg.HTTPAddr, "upstream_base_urls", cfg.Upstream.BaseURLs,
		"quota_window", cfg.Quota.Window, "quota", cfg.Quota.Limits, "ack_wait", cfg.AckWait)

	// NATS, the topology and the raw archive.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "loader", cfg.Quota.Replicas, log, cfg.NATSAuth)
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

	// The rate governor, the upstream behind it, and the loader.
	l, err := loader.Wire(ctx, js, arc, loader.Config{Upstream: cfg.Upstream, Quota: cfg.Quota, AckWait: cfg.AckWait}, log)
	if err != nil {
		return err
	}
	errs := make(chan error, 1)
	go func() {
		errs <- ops.ServeListener(ctx, ln, nil, ops.All(natsrv.Health(nc), l.Ready()), log)
	}()

	// Runs until ctx ends, then drains the gap in hand.
	err = l.Run(ctx)
	if oerr := <-errs; err == nil {
		err = oerr
	}
	if rerr := natsrv.Refused(nc); rerr != nil {
		return rerr
	}
	log.Info("stopped")
	return err
}
