// Package stack wires every paddock service into one process: the
// embedded default. With an empty NATSURL it starts nats-server with
// JetStream in-process (store under DataDir); with Recorded set it serves
// that recorded upstream tree locally and points the real HTTP client at
// it. Services run exactly as their standalone binaries run them.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/notify"
	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/pkg/planner"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// Config configures the stack.
type Config struct {
	DataDir string // JetStream store of the embedded server
	// ListenPort opens the embedded server to other processes on
	// 127.0.0.1:ListenPort; 0 keeps it in-process only.
	ListenPort  int
	NATSURL     string      // "" = embedded server
	NATSAuth    natsrv.Auth // credentials and CA for NATSURL
	DatabaseURL string
	Recorded    string // recorded upstream tree to serve locally; "" = the real upstream
	Upstream    upstream.Config
	Quota       governor.Config // zero Window: governor.DefaultConfig()
	Planner     planner.Config
	// LoaderAckWait is how soon a dead loader's gap is handed out again;
	// one minute by default.
	LoaderAckWait time.Duration
	// Services selects what runs in-process; nil = every service.
	Services []string
	// ExtractorConcurrency is the number of messages each extractor
	// handles at once; 4 by default.
	ExtractorConcurrency int
	// SlackWebhookURL receives the notifications of runs planned with
	// Notify; without it they are logged.
	SlackWebhookURL string
	// Retry is how extractors and run accounting retry through an outage
	// before dead-lettering; zero fields take consume.DefaultPolicy's.
	Retry consume.Policy
}

// Service names; each kind's extractor is ExtractorService(kind).
const (
	ServicePlanner = "planner"
	ServiceLoader  = "loader"
	ServiceNotify  = "notifier"
)

// ExtractorService is the service name of kind's extractor.
func ExtractorService(kind string) string { return "extract-" + kind }

// Stack is a running set of services and their connections.
type Stack struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	Pool     *pgxpool.Pool
	Archive  *archive.Archive
	Upstream *upstream.Client
	Governor *governor.Governor
	Standin  *standin.Server

	srv     *natsrv.Server
	ready   []ops.Check // every component's readiness
	cancel  context.CancelFunc
	closing atomic.Bool // Close has begun
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
}

// Start brings the stack up: NATS (embedded or remote), the topology,
// PostgreSQL with migrations applied, the stand-in when asked, then the
// services. Close takes it down.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (_ *Stack, err error) {
	st := &Stack{}
	// What each step of the start took, at debug level: the fixed cost of
	// every one-session command.
	t0 := time.Now()
	phase := func(name string) { log.Debug("stack started", "through", name, "elapsed", time.Since(t0)) }
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()

	// PostgreSQL is opened and its schema checked while NATS starts: the
	// two take about as long, and neither needs the other.
	pg := openPostgres(ctx, cfg.DatabaseURL, log)
	defer func() {
		if st.Pool == nil { // Start returned before taking the pool
			if pool, _ := pg(); pool != nil {
				pool.Close()
			}
		}
	}()

	// NATS.
	if cfg.NATSURL == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("stack: the embedded server needs a data directory (--data-dir or PADDOCK_DATA_DIR)")
		}
		dir := filepath.Join(cfg.DataDir, "jetstream")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("stack: data directory: %w", err)
		}
		if st.srv, err = natsrv.Start(natsrv.Options{StoreDir: dir, Port: cfg.ListenPort}); err != nil {
			return nil, err
		}
		if st.NC, err = st.srv.Connect("paddock"); err != nil {
			return nil, err
		}
	} else if st.NC, err = natsrv.Connect(cfg.NATSURL, "paddock", log, cfg.NATSAuth); err != nil {
		return nil, err
	} else if err := natsrv.WaitConnected(ctx, st.NC, cfg.NATSURL); err != nil {
		return nil, err
	}
	phase("nats")
	if st.JS, err = jetstream.New(st.NC); err != nil {
		return nil, fmt.Errorf("stack: jetstream: %w", err)
	}
	if err := streams.Apply(ctx, st.JS, cfg.Quota.Replicas); err != nil {
		return nil, err
	}
	if st.Archive, err = archive.Open(ctx, st.JS, streams.RawBucket); err != nil {
		return nil, err
	}

	phase("topology")
	// PostgreSQL.
	if st.Pool, err = pg(); err != nil {
		return nil, err
	}
	phase("schema")

	// Upstream.
	up := cfg.Upstream
	if cfg.Recorded != "" {
		if st.Standin, err = standin.New(cfg.Recorded); err != nil {
			return nil, err
		}
		if err := st.Standin.Start(); err != nil {
			return nil, err
		}
		up.BaseURLs = st.Standin.BaseURLs()
		log.Info("serving the recorded upstream", "dir", cfg.Recorded, "url", st.Standin.URL())
	}
	quota := cfg.Quota
	if quota.Window == 0 { // unset: paddock's defaults
		quota = governor.DefaultConfig()
	}
	ld, err := loader.Wire(ctx, st.JS, st.Archive, loader.Config{Upstream: up, Quota: quota, AckWait: cfg.LoaderAckWait},
		log.With("service", ServiceLoader))
	if err != nil {
		return nil, err
	}
	st.Governor, st.Upstream = ld.Governor, ld.Upstream
	phase("loader")

	// Services.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.cancel = cancel
	want := func(name string) bool {
		if cfg.Services == nil {
			return true
		}
		for _, s := range cfg.Services {
			if s == name {
				return true
			}
		}
		return false
	}
	acc := runs.New(st.Pool, st.JS, log.With("service", "runs"))
	acc.SetRetry(cfg.Retry)
	if want(ServicePlanner) {
		p := planner.New(cfg.Planner, st.NC, st.JS, st.Pool, st.Archive, st.Governor, acc, log.With("service", ServicePlanner))
		st.goRun(ServicePlanner, func() error { return p.Serve(rctx) })
		st.goRun("runs", func() error { return acc.Run(rctx) })
		st.goRun("runs-dlq", func() error { return acc.RunDeadLetters(rctx) })
		st.ready = append(st.ready, acc.Ready())
	}
	if want(ServicePlanner) {
		// Ready when the plan endpoint answers, so a plan sent right after
		// Start finds it.
		if err := waitForService(ctx, st.NC, streams.PlanService); err != nil {
			return nil, err
		}
	}
	phase("planner")
	if want(ServiceLoader) {
		st.goRun(ServiceLoader, func() error { return ld.Run(rctx) })
		st.ready = append(st.ready, ld.Ready())
	}
	if want(ServiceNotify) {
		var post notify.Poster = notify.Log{Log: log.With("service", ServiceNotify)}
		if cfg.SlackWebhookURL != "" {
			post = &notify.Webhook{URL: cfg.SlackWebhookURL}
		}
		nt := notify.New(st.JS, post, log.With("service", ServiceNotify))
		st.goRun(ServiceNotify, func() error { return nt.Run(rctx) })
		st.ready = append(st.ready, nt.Ready())
	}
	n := cfg.ExtractorConcurrency
	if n <= 0 {
		n = 4
	}
	for _, k := range kinds.All() {
		if name := ExtractorService(k.Spec().Name); want(name) {
			x := extractor.New(k, st.Pool, st.JS, st.Archive, log.With("service", name))
			x.SetRetry(cfg.Retry)
			st.goRun(name, func() error { return x.Run(rctx, n) })
			st.ready = append(st.ready, x.Ready())
		}
	}
	phase("services")
	return st, nil
}

// Ready is the stack's readiness: NATS and PostgreSQL reachable, every
// service's consumer bound.
func (st *Stack) Ready() ops.Check {
	return ops.All(append([]ops.Check{natsrv.Health(st.NC), st.Pool.Ping}, st.ready...)...)
}

// openPostgres opens the pool of dsn and applies pending migrations in
// the background; the function it returns waits for both (once).
func openPostgres(ctx context.Context, dsn string, log *slog.Logger) func() (*pgxpool.Pool, error) {
	var (
		pool *pgxpool.Pool
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		if pool, err = store.Open(ctx, dsn); err != nil {
			return
		}
		if err = store.Migrate(ctx, pool, log, kinds.Schemas()...); err != nil {
			pool.Close()
			pool = nil
		}
	}()
	return func() (*pgxpool.Pool, error) {
		<-done
		return pool, err
	}
}

// waitForService pings a NATS micro service until it answers (10 s).
func waitForService(ctx context.Context, nc *nats.Conn, name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := nc.Request("$SRV.PING."+name, nil, 200*time.Millisecond); err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("stack: the %s service did not come up within 10s", name)
		}
		time.Sleep(time.Millisecond)
	}
}

func (st *Stack) goRun(name string, f func() error) {
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		// A service still starting when the stack closes ends with the
		// cancellation: that is the close, not a failure.
		if err := f(); err != nil && !(errors.Is(err, context.Canceled) && st.closing.Load()) {
			st.mu.Lock()
			st.errs = append(st.errs, fmt.Errorf("%s: %w", name, err))
			st.mu.Unlock()
		}
	}()
}

// Close drains the services, then closes NATS, the pool, the stand-in and
// the embedded server, in that order. It returns what the services
// reported on the way.
func (st *Stack) Close() error {
	st.closing.Store(true)
	if st.cancel != nil {
		st.cancel()
		st.wg.Wait()
	}
	if st.NC != nil {
		_ = st.NC.Drain()
		st.NC.Close()
	}
	if st.Pool != nil {
		st.Pool.Close()
	}
	if st.Standin != nil {
		_ = st.Standin.Close()
	}
	if st.srv != nil {
		st.srv.Shutdown()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return errors.Join(st.errs...)
}
