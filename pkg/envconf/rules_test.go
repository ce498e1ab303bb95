package envconf

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/upstream"
)

// reader reads env instead of the process environment.
func reader(env map[string]string) *Reader {
	return &Reader{get: func(k string) string { return env[k] }}
}

// readAll reads every setting a paddock process reads, as the services
// and the CLI do.
func readAll(r *Reader) {
	r.Upstream()
	r.Quota()
	r.LogLevel(slog.LevelInfo)
	r.String("PADDOCK_HTTP_ADDR", ":8081")
	r.String("PADDOCK_MIGRATE", "true")
	r.Duration("PADDOCK_ACK_WAIT", time.Minute)
	r.Duration("PADDOCK_SCHEDULE_WAIT", 2*time.Minute)
	r.Duration("PADDOCK_RETRY_FOR", 6*time.Hour)
	r.Int("PADDOCK_CONCURRENCY", 4)
}

func TestEverySettingIsChecked(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		want       string // in the error; "" = accepted
	}{
		{"PADDOCK_HTTP_TIMEOUT", "0s", `PADDOCK_HTTP_TIMEOUT="0s": want a duration over 0, e.g. 30s (the default)`},
		{"PADDOCK_HTTP_TIMEOUT", "-5s", `PADDOCK_HTTP_TIMEOUT="-5s": want a duration over 0`},
		{"PADDOCK_HTTP_TIMEOUT", "10", `PADDOCK_HTTP_TIMEOUT="10" is not a duration (e.g. 30s, 2m)`},
		{"PADDOCK_HTTP_TIMEOUT", "10s", ""},
		{"PADDOCK_HTTP_RETRIES", "-1", `PADDOCK_HTTP_RETRIES="-1": want 0 (no retry) or more, e.g. 2`},
		{"PADDOCK_HTTP_RETRIES", "0", ""},
		{"PADDOCK_HTTP_RETRIES", "two", `PADDOCK_HTTP_RETRIES="two" is not an integer`},
		{"PADDOCK_HTTP_MAX_BODY", "0", `PADDOCK_HTTP_MAX_BODY="0": want a size in bytes over 0`},
		{"PADDOCK_HTTP_MAX_BODY", "-10", `PADDOCK_HTTP_MAX_BODY="-10": want a size in bytes over 0`},
		{"PADDOCK_HTTP_MAX_BODY", "1048576", ""},
		{"PADDOCK_QUOTA_WINDOW", "0s", `PADDOCK_QUOTA_WINDOW="0s": want a duration over 0, e.g. 1h0m0s (the default)`},
		{"PADDOCK_QUOTA_WINDOW", "-1h", `PADDOCK_QUOTA_WINDOW="-1h": want a duration over 0`},
		{"PADDOCK_QUOTA_WINDOW", "4s", ""},
		{"PADDOCK_QUOTA_LIVETIMING", "0", ""}, // unlimited
		{"PADDOCK_QUOTA_LIVETIMING", "500/0s", ""},
		{"PADDOCK_QUOTA_LIVETIMING", "-1", `PADDOCK_QUOTA_LIVETIMING="-1": want calls per window, e.g. 500 or 500/250ms`},
		{"PADDOCK_QUOTA_JOLPICA", "200/-1s", `PADDOCK_QUOTA_JOLPICA="200/-1s": minimum interval "-1s" is not a duration of 0 or more`},
		{"PADDOCK_QUOTA_MIRROR", "lots", `PADDOCK_QUOTA_MIRROR="lots": want calls per window`},
		{"PADDOCK_QUOTA_MIRROR", "500/", `PADDOCK_QUOTA_MIRROR="500/": minimum interval "" is not a duration`},
		{"PADDOCK_ACK_WAIT", "0s", `PADDOCK_ACK_WAIT="0s": want a duration over 0, e.g. 1m0s (the default)`},
		{"PADDOCK_ACK_WAIT", "-1m", `PADDOCK_ACK_WAIT="-1m": want a duration over 0`},
		{"PADDOCK_SCHEDULE_WAIT", "0s", `PADDOCK_SCHEDULE_WAIT="0s": want a duration over 0, e.g. 2m0s (the default)`},
		{"PADDOCK_RETRY_FOR", "0s", `PADDOCK_RETRY_FOR="0s": must not be 0`},
		{"PADDOCK_RETRY_FOR", "-1s", ""}, // never give up
		{"PADDOCK_CONCURRENCY", "0", `PADDOCK_CONCURRENCY="0": want 1 or more messages at once, e.g. 4`},
		{"PADDOCK_CONCURRENCY", "-3", `PADDOCK_CONCURRENCY="-3": want 1 or more`},
		{"PADDOCK_CONCURRENCY", "8", ""},
		{"PADDOCK_STREAM_REPLICAS", "0", `PADDOCK_STREAM_REPLICAS="0": want 1 to 5 JetStream replicas`},
		{"PADDOCK_STREAM_REPLICAS", "7", `PADDOCK_STREAM_REPLICAS="7": want 1 to 5 JetStream replicas`},
		{"PADDOCK_STREAM_REPLICAS", "3", ""},
		{"PADDOCK_LOG_LEVEL", "verbose", `PADDOCK_LOG_LEVEL="verbose": unknown log level: want debug, info, warn or error`},
		{"PADDOCK_LOG_LEVEL", "WARN", ""},
		{"PADDOCK_HTTP_ADDR", "8081", `PADDOCK_HTTP_ADDR="8081": want host:port or :port, e.g. :8081 or 127.0.0.1:8081`},
		{"PADDOCK_HTTP_ADDR", ":99999", `PADDOCK_HTTP_ADDR=":99999": port "99999" is not a number from 0 to 65535`},
		{"PADDOCK_HTTP_ADDR", "127.0.0.1:8081", ""},
		{"PADDOCK_MIGRATE", "yes", `PADDOCK_MIGRATE="yes": want true or false`},
		{"PADDOCK_MIGRATE", "false", ""},
		{"PADDOCK_LIVETIMING_URL", "localhost:8099", `PADDOCK_LIVETIMING_URL="localhost:8099": want an http or https base URL`},
		{"PADDOCK_MIRROR_URL", "http://127.0.0.1:8099/livetiming-mirror.fastf1.dev", ""},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			r := reader(map[string]string{tc.key: tc.value})
			readAll(r)
			err := r.Err()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want %s", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q\nwant %q", err, tc.want)
			}
		})
	}
}

// TestEveryBadValueInOneError: all the bad values are named at once, so
// one start tells everything to fix.
func TestEveryBadValueInOneError(t *testing.T) {
	r := reader(map[string]string{"PADDOCK_HTTP_TIMEOUT": "0s", "PADDOCK_CONCURRENCY": "0", "PADDOCK_LOG_LEVEL": "loud", "PADDOCK_QUOTA_WINDOW": "-1h"})
	readAll(r)
	err := r.Err()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, k := range []string{"PADDOCK_HTTP_TIMEOUT", "PADDOCK_CONCURRENCY", "PADDOCK_LOG_LEVEL", "PADDOCK_QUOTA_WINDOW"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("%s missing from %v", k, err)
		}
	}
}

// TestUnsetMeansDefault: nothing set is the documented defaults, and an
// explicit 0 retries means no retry (upstream.Config's 0 is "default").
func TestUnsetMeansDefault(t *testing.T) {
	r := reader(nil)
	up, q, lvl := r.Upstream(), r.Quota(), r.LogLevel(slog.LevelInfo)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if up.Timeout != upstream.DefaultTimeout || up.Retries != upstream.DefaultRetries || up.MaxBodyBytes != upstream.DefaultMaxBodyBytes ||
		q.Window != time.Hour || q.Replicas != 0 || lvl != slog.LevelInfo {
		t.Fatalf("defaults: %+v %+v %v", up, q, lvl)
	}
	r = reader(map[string]string{"PADDOCK_HTTP_RETRIES": "0", "PADDOCK_LOG_LEVEL": "debug"})
	if up, lvl := r.Upstream(), r.LogLevel(slog.LevelInfo); up.Retries >= 0 || lvl != slog.LevelDebug {
		t.Fatalf("PADDOCK_HTTP_RETRIES=0 gives Retries %d (want negative: none), level %v", up.Retries, lvl)
	}
}
