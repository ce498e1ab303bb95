package stack_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/ops"
	"github.com/paddock-f1/paddock/streams"
)

// TestMetricsMoveWithTheRun serves the running stack's /healthz, /readyz
// and /metrics, scrapes /metrics before and after an import and finds the
// application counters moved by what the run's summary reports: the
// upstream requests, the extractions by outcome, the finished run.
func TestMetricsMoveWithTheRun(t *testing.T) {
	st := start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- ops.Serve(ctx, addr, nil, st.Ready(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b strings.Builder
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		return resp.StatusCode, b.String()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get("/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never ready: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	scrape := func() map[string]float64 {
		code, body := get("/metrics")
		if code != 200 {
			t.Fatalf("/metrics %d", code)
		}
		return parseMetrics(t, body)
	}
	before := scrape()
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"})
	after := scrape()
	delta := func(prefix string) float64 {
		var d float64
		for k, v := range after {
			if strings.HasPrefix(k, prefix) {
				d += v - before[k]
			}
		}
		return d
	}
	var done, unavailable int
	for _, n := range sum.DataExtracted {
		done += n
	}
	for _, n := range sum.KindsUnavailable {
		unavailable += n
	}
	checks := []struct {
		metric string
		want   float64
	}{
		{"paddock_upstream_requests_total{", float64(sum.APICallsMade)},
		{`paddock_extractions_total{kind=`, float64(done + unavailable)},
		{`paddock_runs_total{status="completed"}`, 1},
		{`paddock_run_duration_seconds_count`, 1},
	}
	for _, c := range checks {
		if got := delta(c.metric); got != c.want {
			t.Errorf("%s moved by %v, the run says %v", c.metric, got, c.want)
		}
	}
	var doneMoved float64
	for k, v := range after {
		if strings.HasPrefix(k, "paddock_extractions_total{") && strings.Contains(k, `status="done"`) {
			doneMoved += v - before[k]
		}
	}
	if doneMoved != float64(done) {
		t.Errorf("done extractions moved by %v, the run has %d", doneMoved, done)
	}
	if delta("paddock_archive_bytes_total{direction=\"in\"}") <= 0 || delta("paddock_rows_written_total{") <= 0 ||
		delta("paddock_sessions_loaded_total{") < 1 || after[`paddock_quota_limit{host="livetiming.formula1.com"}`] <= 0 {
		t.Errorf("archive bytes, rows written, sessions loaded or quota limit did not move")
	}
	t.Logf("run: %d calls (stand-in %d), %d kinds done, %d unavailable; metrics moved the same", sum.APICallsMade, calls, done, unavailable)
}

// parseMetrics reads Prometheus' text format: series (name with labels)
// to value.
func parseMetrics(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if len(out) == 0 {
		t.Fatal("no metrics")
	}
	return out
}
