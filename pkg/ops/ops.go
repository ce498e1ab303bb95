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
// reachable, its consumer bound).
func Serve(ctx context.Context, addr string, live, ready Check, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", handler(live))
	mux.HandleFunc("/readyz", handler(ready))
	mux.Handle("/metrics", promhttp.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ops: listen %s: %w", addr, err)
	}
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
