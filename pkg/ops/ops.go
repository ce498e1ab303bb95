// Package ops serves a service's operational endpoints: /healthz (the
// process is alive), /readyz (it can do its work: 200 while its readiness
// checks pass, 503 with the reason otherwise) and /metrics (Prometheus:
// the Go runtime and paddock's application metrics, package metrics).
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports a condition of the service; nil means it holds.
type Check func(context.Context) error

// All is a check that passes when every one of checks does; it reports
// the first that fails.
func All(checks ...Check) Check {
	return func(ctx context.Context) error {
		for _, c := range checks {
			if c == nil {
				continue
			}
			if err := c(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// Bound is a readiness check of a consumer: it fails until the flag is
// set (the service bound its durable consumer).
func Bound(name string, bound *atomic.Bool) Check {
	return func(context.Context) error {
		if !bound.Load() {
			return fmt.Errorf("%s: consumer not bound yet", name)
		}
		return nil
	}
}

// Serve listens on addr until ctx ends; an empty addr serves nothing.
// live reports that the process works at all (nil: alive while it
// answers); ready that it can do its work now (NATS and PostgreSQL
// reachable, its consumer bound). A service binds with Listen before it
// starts anything and serves with ServeListener, so a port already taken
// stops it at once.
func Serve(ctx context.Context, addr string, live, ready Check, log *slog.Logger) error {
	ln, err := Listen("address", addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, live, ready, log)
}

// ListenError is an address the ops endpoints cannot be served on: a bad
// setting, which a service reports at start (exit code 2).
type ListenError struct {
	Setting string // where the address came from, e.g. PADDOCK_HTTP_ADDR
	Addr    string
	Err     error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("%s %s: address already in use: free the port or set %s", e.Setting, e.Addr, e.Setting)
	}
	return fmt.Sprintf("%s %s: %v: set %s to a free host:port, e.g. :8081", e.Setting, e.Addr, e.Err, e.Setting)
}

func (e *ListenError) Unwrap() error { return e.Err }

// ExitCode is the exit code of a service that stopped with err: 2 for a
// bad setting (an address Listen could not bind), 1 for anything else.
func ExitCode(err error) int {
	if _, ok := errors.AsType[*ListenError](err); ok {
		return 2
	}
	return 1
}

// Listen binds addr for ServeListener; setting names where addr came from
// (PADDOCK_HTTP_ADDR, --http-addr) for the error, a *ListenError. An empty
// addr binds nothing and returns a nil listener.
func Listen(setting, addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Setting: setting, Addr: addr, Err: err}
	}
	return ln, nil
}

// ServeListener serves the ops endpoints on ln (from Listen) until ctx
// ends, then closes it; a nil ln serves nothing. live and ready are as
// for Serve.
func ServeListener(ctx context.Context, ln net.Listener, live, ready Check, log *slog.Logger) error {
	if ln == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", handler(live))
	mux.HandleFunc("/readyz", handler(ready))
	mux.Handle("/metrics", promhttp.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("ops endpoints", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ops: %w", err)
	}
	return nil
}

// handler answers 200 "ok" while check passes (or is nil), 503 with the
// reason otherwise.
func handler(check Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if check != nil {
			cctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := check(cctx); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	}
}
