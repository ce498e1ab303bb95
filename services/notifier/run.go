package main

import (
	"context"
	"log/slog"

	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/notify"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/secret"
)

// config is the notifier's configuration.
type config struct {
	NATSURL    string
	NATSAuth   natsrv.Auth // NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY
	WebhookURL string      // secret: never logged
	HTTPAddr   string
	Replicas   int
}

func loadConfig() (config, error) {
	r := envconf.New()
	r.LogLevel(slog.LevelInfo) // PADDOCK_LOG_LEVEL, which main's logger reads, checked with the rest
	c := config{
		NATSURL:    r.String("NATS_URL", "nats://127.0.0.1:4222"),
		NATSAuth:   r.NATSAuth(),
		WebhookURL: r.String("SLACK_WEBHOOK_URL", ""),
		HTTPAddr:   r.String("PADDOCK_HTTP_ADDR", "127.0.0.1:8093"),
		Replicas:   r.Int("PADDOCK_STREAM_REPLICAS", 0),
	}
	return c, r.Err()
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	ln, err := ops.Listen("PADDOCK_HTTP_ADDR", cfg.HTTPAddr) // first: a port already taken stops the start
	if err != nil {
		return err
	}
	log.Info("starting", "nats_url", secret.Mask(cfg.NATSURL), "slack_webhook", cfg.WebhookURL != "", "http_addr", cfg.HTTPAddr)

	// NATS and the topology.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "notifier", cfg.Replicas, log, cfg.NATSAuth)
	if err != nil {
		return err
	}
	defer nc.Close()
	// Credentials revoked or rotated while running stop the service, as
	// a refusal at start does (Refused says so below).
	ctx, stopWatch := natsrv.UntilRefused(ctx, nc)
	defer stopWatch()

	// Where messages go.
	var post notify.Poster = notify.Log{Log: log}
	if cfg.WebhookURL != "" {
		post = &notify.Webhook{URL: cfg.WebhookURL}
	}

	// The notifier; drains the message in hand when ctx ends.
	nt := notify.New(js, post, log)
	errs := make(chan error, 1)
	go func() {
		errs <- ops.ServeListener(ctx, ln, nil, ops.All(natsrv.Health(nc), nt.Ready()), log)
	}()
	err = nt.Run(ctx)
	if oerr := <-errs; err == nil {
		err = oerr
	}
	if rerr := natsrv.Refused(nc); rerr != nil {
		return rerr
	}
	log.Info("stopped")
	return err
}
