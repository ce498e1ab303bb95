// Package envconf reads typed configuration from the environment with
// defaults, collecting every malformed value into one error, and renders
// a configuration for the log with secrets masked.
package envconf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

// Reader reads variables and remembers what was wrong.
type Reader struct {
	errs []error
	get  func(string) string
}

// New reads from the process environment.
func New() *Reader { return &Reader{get: os.Getenv} }

// String returns key's value or def (also when the value breaks the
// key's rule, which Err then reports).
func (r *Reader) String(key, def string) string {
	if v := r.get(key); v != "" {
		if why := checkString(key, v); why != "" {
			r.bad(key, v, why)
			return def
		}
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
	if why := checkInt(key, n); why != "" {
		r.bad(key, v, why)
		return def
	}
	return n
}

// Duration returns key's value as a Go duration ("30s", "2m") or def. A
// duration must be over 0 unless its rule says otherwise.
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
	if why := checkDuration(key, d, def); why != "" {
		r.bad(key, v, why)
		return def
	}
	return d
}

// Err reports every malformed variable, each on its own line with what a
// good value looks like; nil when every value read was good.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return badSettings(r.errs)
}

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
		if v := r.String(env, ""); v != "" {
			cfg.BaseURLs[host] = v
		}
	}
	cfg.Timeout = r.Duration("PADDOCK_HTTP_TIMEOUT", upstream.DefaultTimeout)
	cfg.Retries = r.Int("PADDOCK_HTTP_RETRIES", upstream.DefaultRetries)
	if cfg.Retries == 0 {
		cfg.Retries = -1 // upstream.Config: 0 is the default, negative none
	}
	cfg.MaxBodyBytes = int64(r.Int("PADDOCK_HTTP_MAX_BODY", upstream.DefaultMaxBodyBytes))
	return cfg
}

// Quota reads the rate governor's configuration: PADDOCK_QUOTA_WINDOW
// (default 1h), PADDOCK_STREAM_REPLICAS (the JetStream replicas of every
// stream, ledgers included; default 1) and per host PADDOCK_QUOTA_LIVETIMING, _MIRROR, _JOLPICA,
// _MULTIVIEWER, _GITHUBRAW as "calls" or "calls/min-interval" (e.g.
// "500/250ms"; "0" = unlimited). Unset hosts keep governor.DefaultConfig.
func (r *Reader) Quota() governor.Config {
	cfg := governor.DefaultConfig()
	cfg.Window = r.Duration("PADDOCK_QUOTA_WINDOW", cfg.Window)
	cfg.Replicas = r.Int("PADDOCK_STREAM_REPLICAS", 0)
	for env, host := range map[string]string{
		"PADDOCK_QUOTA_LIVETIMING":  upstream.LiveTiming,
		"PADDOCK_QUOTA_MIRROR":      upstream.Mirror,
		"PADDOCK_QUOTA_JOLPICA":     upstream.Jolpica,
		"PADDOCK_QUOTA_MULTIVIEWER": upstream.MultiViewer,
		"PADDOCK_QUOTA_GITHUBRAW":   upstream.GitHubRaw,
	} {
		v := r.get(env)
		if v == "" {
			continue
		}
		l := cfg.Limits[host]
		calls, interval, hasInterval := strings.Cut(v, "/")
		n, err := strconv.Atoi(calls)
		if err != nil || n < 0 {
			r.errs = append(r.errs, fmt.Errorf("%s=%q: want calls per window, e.g. 500 or 500/250ms", env, v))
			continue
		}
		l.PerWindow = n
		if hasInterval {
			d, err := time.ParseDuration(interval)
			if err != nil || d < 0 {
				r.errs = append(r.errs, fmt.Errorf("%s=%q: minimum interval %q is not a duration of 0 or more; want calls per window, e.g. 500 or 500/250ms", env, v, interval))
				continue
			}
			l.MinInterval = d
		}
		cfg.Limits[host] = l
	}
	return cfg
}
