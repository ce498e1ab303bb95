// Package logging builds paddock's slog logger: colourful through tint on
// a terminal, JSON lines otherwise, at the level PADDOCK_LOG_LEVEL names
// (debug, info, warn, error; info by default). Every line names its
// service once (a logger derived With("service", ...) renames it, as the
// embedded default does for each service it runs), and durations read as
// durations ("1h0m0s"), not nanoseconds.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// New returns a logger writing to w for service.
func New(w io.Writer, service string, level slog.Level) *slog.Logger {
	var h slog.Handler
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		h = tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, ReplaceAttr: masked(durations)})
	} else {
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: masked(durations)})
	}
	return slog.New(&serviceHandler{next: h, service: service})
}

// durations writes a duration as its string ("2m30s").
func durations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// serviceHandler adds "service" to every record exactly once; a "service"
// attribute given With replaces it instead of repeating it.
type serviceHandler struct {
	next    slog.Handler
	service string
}

func (h *serviceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *serviceHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.String("service", h.service))
	return h.next.Handle(ctx, r)
}

func (h *serviceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	service := h.service
	rest := attrs[:0:0]
	for _, a := range attrs {
		if a.Key == "service" {
			service = a.Value.String()
			continue
		}
		rest = append(rest, a)
	}
	next := h.next
	if len(rest) > 0 {
		next = next.WithAttrs(rest)
	}
	return &serviceHandler{next: next, service: service}
}

func (h *serviceHandler) WithGroup(name string) slog.Handler {
	return &serviceHandler{next: h.next.WithGroup(name), service: h.service}
}

// Level parses a level name; unset or unknown names give def. A process
// checks the name first (ParseLevel, envconf's PADDOCK_LOG_LEVEL rule), so
// an unknown one stops it at start instead of being replaced silently.
func Level(name string, def slog.Level) slog.Level {
	if l, ok := ParseLevel(name); ok {
		return l
	}
	return def
}

// ParseLevel reads a level name: debug, info, warn (or warning) or
// error, in any case; ok is false for any other name.
func ParseLevel(name string) (slog.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}
