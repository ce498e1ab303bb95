package envconf

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/logging"
)

// The rules every setting is checked against when it is read. A value
// that breaks its rule is reported by Err, naming the variable, the value
// and what a good one looks like; the default is used meanwhile. An unset
// variable always means its default: the rules judge only values given.

// durationRules are the durations allowed something other than over 0.
// Every other duration (windows, timeouts, ack waits, waits) must be over
// 0: a zero or negative one would disable what it bounds.
var durationRules = map[string]func(time.Duration) string{
	// consume.Policy: negative = never give up; 0 would silently mean 6h.
	"PADDOCK_RETRY_FOR": func(d time.Duration) string {
		if d == 0 {
			return "must not be 0: give a budget such as 6h, or a negative one (-1s) to retry for ever"
		}
		return ""
	},
}

// intRules check integer settings; the default is any integer.
var intRules = map[string]func(int) string{
	"PADDOCK_HTTP_RETRIES":    atLeast(0, "0 (no retry) or more, e.g. 2"),
	"PADDOCK_HTTP_MAX_BODY":   atLeast(1, "a size in bytes over 0, e.g. 67108864 (64 MiB)"),
	"PADDOCK_CONCURRENCY":     atLeast(1, "1 or more messages at once, e.g. 4"),
	"PADDOCK_STREAM_REPLICAS": between(1, 5, "1 to 5 JetStream replicas: 1 on one server, 3 on a cluster"),
}

// stringRules check the other settings.
var stringRules = map[string]func(string) string{
	"PADDOCK_LOG_LEVEL": func(v string) string {
		if _, ok := logging.ParseLevel(v); !ok {
			return "unknown log level: want debug, info, warn or error"
		}
		return ""
	},
	"PADDOCK_HTTP_ADDR": checkAddr,
	"PADDOCK_MIGRATE": func(v string) string {
		if v != "true" && v != "false" {
			return `want true or false`
		}
		return ""
	},
	"PADDOCK_LIVETIMING_URL":  checkBaseURL,
	"PADDOCK_MIRROR_URL":      checkBaseURL,
	"PADDOCK_JOLPICA_URL":     checkBaseURL,
	"PADDOCK_MULTIVIEWER_URL": checkBaseURL,
	"PADDOCK_GITHUBRAW_URL":   checkBaseURL,
}

func atLeast(n int, want string) func(int) string {
	return func(v int) string {
		if v < n {
			return "want " + want
		}
		return ""
	}
}

func between(lo, hi int, want string) func(int) string {
	return func(v int) string {
		if v < lo || v > hi {
			return "want " + want
		}
		return ""
	}
}

// checkAddr accepts host:port or :port with a port from 0 to 65535 (0:
// any free port).
func checkAddr(v string) string {
	const want = "want host:port or :port, e.g. :8081 or 127.0.0.1:8081"
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return want
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "port " + strconv.Quote(port) + " is not a number from 0 to 65535; " + want
	}
	return ""
}

// checkBaseURL accepts an absolute http or https URL.
func checkBaseURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "want an http or https base URL, e.g. http://127.0.0.1:8099/livetiming.formula1.com"
	}
	return ""
}

// LogLevel returns PADDOCK_LOG_LEVEL's level, or def when it is unset; an
// unknown level is reported by Err, never silently replaced.
func (r *Reader) LogLevel(def slog.Level) slog.Level {
	v := r.String("PADDOCK_LOG_LEVEL", "")
	if l, ok := logging.ParseLevel(v); ok {
		return l
	}
	return def
}

// bad records that key's value v breaks its rule.
func (r *Reader) bad(key, v, why string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: %s", key, v, why))
}

// checkString, checkInt and checkDuration return why v breaks key's rule,
// or "" when it keeps it.
func checkString(key, v string) string {
	if check := stringRules[key]; check != nil {
		return check(v)
	}
	return ""
}

func checkInt(key string, v int) string {
	if check := intRules[key]; check != nil {
		return check(v)
	}
	return ""
}

func checkDuration(key string, v, def time.Duration) string {
	if check, ok := durationRules[key]; ok {
		return check(v)
	}
	if v <= 0 {
		if def > 0 {
			return fmt.Sprintf("want a duration over 0, e.g. %s (the default)", def)
		}
		return "want a duration over 0, e.g. 30s"
	}
	return ""
}

// badSettings is every bad value one start found.
type badSettings []error

func (b badSettings) Error() string {
	if len(b) == 1 {
		return b[0].Error()
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d bad settings:", len(b))
	for _, err := range b {
		sb.WriteString("\n  " + err.Error())
	}
	return sb.String()
}

func (b badSettings) Unwrap() []error { return b }
