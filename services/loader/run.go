package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// config is the loader's configuration.
type config struct {
	NATSURL  string
	HTTPAddr string
	Upstream upstream.Config
}

func loadConfig() (config, error) {
	r := envconf.New()
	c := config{
		NATSURL:  r.String("NATS_URL", "nats://127.0.0.1:4222"),
		HTTPAddr: r.String("PADDOCK_HTTP_ADDR", ":8082"),
		Upstream: r.Upstream(),
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	log.Info("starting", "nats_url", cfg.NATSURL, "http_addr", cfg.HTTPAddr, "upstream_base_urls", cfg.Upstream.BaseURLs)

	// NATS, the topology and the raw archive.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "loader", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		return err
	}

	// The loader and its upstream.
	l := loader.New(js, arc, upstream.New(cfg.Upstream, nil), log)
	errs := make(chan error, 1)
	go func() {
		errs <- ops.Serve(ctx, cfg.HTTPAddr, func(context.Context) error {
			if nc.Status() != nats.CONNECTED {
				return errors.New("nats: " + nc.Status().String())
			}
			return nil
		}, log)
	}()

	// Runs until ctx ends, then drains the gap in hand.
	err = l.Run(ctx)
	if oerr := <-errs; err == nil {
		err = oerr
	}
	log.Info("stopped")
	return err
}
