package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOneServiceAndReadableDurations: a line names its service once, the
// innermost one, and a duration reads as one.
func TestOneServiceAndReadableDurations(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "paddock", slog.LevelInfo).With("service", "loader", "run_id", "r1")
	log.Info("upstream paused", "wait", 90*time.Minute)
	line := buf.String()
	if n := strings.Count(line, `"service"`); n != 1 {
		t.Fatalf("%d service keys in %s", n, line)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["service"] != "loader" || rec["wait"] != "1h30m0s" || rec["run_id"] != "r1" {
		t.Fatalf("record %v", rec)
	}
}
