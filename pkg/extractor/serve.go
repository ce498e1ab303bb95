package extractor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/streams"
)

// Config is an extractor service's configuration.
type Config struct {
	NATSURL     string
	NATSAuth    natsrv.Auth // NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY
	DatabaseURL string
	HTTPAddr    string // /healthz and /metrics
	Concurrency int    // messages handled at once by this instance
	Replicas    int    // stream replicas on a JetStream cluster; 0 = 1
	// RetryFor is how long a manifest is retried through an outage
	// (PostgreSQL, the archive, NATS) before it is dead-lettered.
	RetryFor time.Duration
}

// LoadConfig reads NATS_URL, DATABASE_URL, PADDOCK_HTTP_ADDR (default
// httpAddr), PADDOCK_CONCURRENCY (default 4), PADDOCK_STREAM_REPLICAS and
// PADDOCK_RETRY_FOR (default 6h).
func LoadConfig(httpAddr string) (Config, error) {
	r := envconf.New()
	r.LogLevel(slog.LevelInfo) // PADDOCK_LOG_LEVEL, which Main's logger reads, checked with the rest
	c := Config{
		NATSURL:     r.String("NATS_URL", "nats://127.0.0.1:4222"),
		NATSAuth:    r.NATSAuth(),
		DatabaseURL: r.String("DATABASE_URL", store.DefaultURL),
		HTTPAddr:    r.String("PADDOCK_HTTP_ADDR", httpAddr),
		Concurrency: r.Int("PADDOCK_CONCURRENCY", 4),
		Replicas:    r.Int("PADDOCK_STREAM_REPLICAS", 0),
		RetryFor:    r.Duration("PADDOCK_RETRY_FOR", consume.DefaultPolicy().For),
	}
	return c, r.Err()
}

// Serve runs an extractor service of kind until ctx ends: it connects NATS
// (applying the topology) and PostgreSQL (whose schema is the planner's or
// 'paddock migrate”s job), serves its ops endpoints and consumes loaded
// manifests, draining the messages in hand at the end.
func Serve(ctx context.Context, cfg Config, k kind.Kind, log *slog.Logger) error {
	ln, err := ops.Listen("PADDOCK_HTTP_ADDR", cfg.HTTPAddr) // first: a port already taken stops the start
	if err != nil {
		return err
	}
	name := k.Spec().Name
	log.Info("starting", "kind", name, "nats_url", secret.Mask(cfg.NATSURL), "database_url", store.MaskURL(cfg.DatabaseURL),
		"http_addr", cfg.HTTPAddr, "concurrency", cfg.Concurrency)

	// NATS, the topology and the raw archive.
	nc, js, err := natsrv.JetStream(ctx, cfg.NATSURL, "extract-"+name, cfg.Replicas, log, cfg.NATSAuth)
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

	// The extractor and its ops endpoints.
	x := New(k, pool, js, arc, log)
	x.SetRetry(consume.Policy{For: cfg.RetryFor})
	errs := make(chan error, 1)
	go func() {
		errs <- ops.ServeListener(ctx, ln, nil, ops.All(natsrv.Health(nc), pool.Ping, x.Ready()), log)
	}()
	err = x.Run(ctx, cfg.Concurrency)
	if oerr := <-errs; err == nil {
		err = oerr
	}
	if rerr := natsrv.Refused(nc); rerr != nil {
		return rerr
	}
	log.Info("stopped")
	return err
}

// Main is the whole main of the extractor service of the registry's kind
// named kindName: logging (PADDOCK_LOG_LEVEL), configuration (LoadConfig,
// with httpAddr as the default PADDOCK_HTTP_ADDR), Serve until SIGINT or
// SIGTERM. It returns the process exit code: 0 after a clean drain, 1
// when the service failed, 2 for bad configuration (a taken address too).
func Main(kindName, httpAddr string) int {
	service := "extract-" + kindName
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logging.New(os.Stderr, service, logging.Level(os.Getenv("PADDOCK_LOG_LEVEL"), slog.LevelInfo))
	k, ok := kinds.Lookup(kindName)
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no kind %q in this build (known: %v)\n", service, kindName, kinds.Names())
		return 2
	}
	cfg, err := LoadConfig(httpAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, service+":", secret.Err(err)) // a setting's value may be a secret
		return 2
	}
	if err := Serve(ctx, cfg, k, log); err != nil {
		log.Error(service+" stopped", "err", err)
		return ops.ExitCode(err) // 2: its address is taken
	}
	return 0
}
