package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/store"
)

// cmdDev runs every service in this process until interrupted: the
// embedded default as a long-running server that 'paddock import', 'plan'
// and 'quota' with NATS_URL=nats://127.0.0.1:<--listen> can talk to.
func cmdDev(ctx context.Context, cfg config, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	recorded, dataDir, listen, httpAddr := devFlags(fs, cfg)
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	log := logging.New(os.Stderr, "paddock-dev", logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	if *listen < 0 || *listen > 65535 {
		return usageError("--listen %d: want a port from 1 to 65535 (0: no listener)", *listen)
	}
	ln, err := ops.Listen("--http-addr", *httpAddr) // first: a port already taken stops the start
	if err != nil {
		return usageError("%v", err)
	}
	if *listen != 0 && cfg.NATSURL != "" {
		return usageError("--listen opens the embedded server; with NATS_URL set there is none")
	}
	log.Info("starting", "nats_url", secret.Mask(cfg.NATSURL), "database_url", store.MaskURL(cfg.DatabaseURL), "http_addr", *httpAddr)
	st, err := stack.Start(ctx, stack.Config{DataDir: absDir(*dataDir), ListenPort: *listen, NATSURL: cfg.NATSURL, NATSAuth: cfg.NATSAuth,
		DatabaseURL: cfg.DatabaseURL, Recorded: *recorded, Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL}, log)
	if err != nil {
		return err
	}
	if *listen != 0 {
		fmt.Printf("NATS_URL=nats://127.0.0.1:%d\n", *listen)
	}
	served := make(chan error, 1)
	go func() { served <- ops.ServeListener(ctx, ln, nil, st.Ready(), log) }()
	log.Info("every service is running; interrupt to stop", "http_addr", *httpAddr)
	<-ctx.Done()
	err = st.Close()
	if oerr := <-served; err == nil {
		err = oerr
	}
	return err
}

// devFlags defines the flags of 'paddock dev' on fs (cmdDev and its help
// both use it).
func devFlags(fs *flag.FlagSet, cfg config) (recorded, dataDir *string, listen *int, httpAddr *string) {
	recorded = fs.String("recorded", "", "serve this recorded upstream tree locally instead of the network")
	dataDir = fs.String("data-dir", cfg.DataDir, "data directory of the embedded JetStream server")
	listen = fs.Int("listen", 0, "open the embedded NATS server on 127.0.0.1:PORT so 'paddock import/plan/quota' with NATS_URL can reach it")
	httpAddr = fs.String("http-addr", envOr("PADDOCK_HTTP_ADDR", "127.0.0.1:8080"), "serve /healthz, /readyz and /metrics here (PADDOCK_HTTP_ADDR); empty: none")
	return
}

// envOr is the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
