// Package envconf reads typed configuration from the environment with
// defaults, collecting every malformed value into one error, and renders
// a configuration for the log with secrets masked.
package envconf

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/upstream"
)

// Reader reads variables and remembers what was wrong.
type Reader struct {
	errs []error
	get  func(string) string
}

// New reads from the process environment.
func New() *Reader { return &Reader{get: os.Getenv} }

// String returns key's value or def.
func (r *Reader) String(key, def string) string {
	if v := r.get(key); v != "" {
		return v
	}
	return def
}

// Int returns key's value as an integer or def.
func (r *Reader) Int(key string, def int) int {
	v := r.get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not an integer", key, v))
		return def
	}
	return n
}

// Duration returns key's value as a Go duration ("30s", "2m") or def.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v := r.get(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a duration (e.g. 30s, 2m)", key, v))
		return def
	}
	return d
}

// Err reports every malformed variable.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Upstream reads the upstream client configuration: base URLs per host
// (PADDOCK_LIVETIMING_URL, PADDOCK_MIRROR_URL, PADDOCK_JOLPICA_URL,
// PADDOCK_MULTIVIEWER_URL, PADDOCK_GITHUBRAW_URL), PADDOCK_HTTP_TIMEOUT,
// PADDOCK_HTTP_RETRIES and PADDOCK_HTTP_MAX_BODY (bytes).
func (r *Reader) Upstream() upstream.Config {
	cfg := upstream.Config{BaseURLs: map[string]string{}}
	for env, host := range map[string]string{
		"PADDOCK_LIVETIMING_URL":  upstream.LiveTiming,
		"PADDOCK_MIRROR_URL":      upstream.Mirror,
		"PADDOCK_JOLPICA_URL":     upstream.Jolpica,
		"PADDOCK_MULTIVIEWER_URL": upstream.MultiViewer,
		"PADDOCK_GITHUBRAW_URL":   upstream.GitHubRaw,
	} {
		if v := r.get(env); v != "" {
			cfg.BaseURLs[host] = v
		}
	}
	cfg.Timeout = r.Duration("PADDOCK_HTTP_TIMEOUT", 0)
	cfg.Retries = r.Int("PADDOCK_HTTP_RETRIES", 0)
	cfg.MaxBodyBytes = int64(r.Int("PADDOCK_HTTP_MAX_BODY", 0))
	return cfg
}
