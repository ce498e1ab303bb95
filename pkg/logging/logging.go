// Package logging builds paddock's slog logger: colourful through tint on
// a terminal, JSON lines otherwise, at the level PADDOCK_LOG_LEVEL names
// (debug, info, warn, error; info by default).
package logging

import (
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
		h = tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly})
	} else {
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	return slog.New(h).With("service", service)
}

// Level parses a level name; unknown names give def.
func Level(name string, def slog.Level) slog.Level {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return def
}
