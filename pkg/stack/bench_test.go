package stack_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// recordedYears are the seasons the shipped recordings cover.
var recordedYears = []int{2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026}

// BenchmarkImportEverything imports every season the project ships, end
// to end on the embedded default (in-process JetStream, PostgreSQL, the
// recorded upstream through the real HTTP client), then re-extracts all of
// it from the raw archive with --force: the baseline that costs no
// upstream call, run side by side. Reported: sessions per second of each,
// their ratio, upstream calls per session and the process's peak RSS.
func BenchmarkImportEverything(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Measured as the paddock command runs it: with its memory limit.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	stack.LimitMemory()
	var sessions, calls, withData int
	var cold, warm time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := stack.Start(context.Background(), stack.Config{
			DataDir: b.TempDir(), DatabaseURL: testenv.Database(b), Recorded: testenv.Recorded(b),
			Quota: governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 1 << 30}},
		}, log)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, force := range []bool{false, true} {
			t0 := time.Now()
			for _, year := range recordedYears {
				sum := benchRun(b, st, streams.PlanCommand{Year: year, Force: force})
				if !force {
					sessions += sum.SessionsProcessed
					calls += sum.APICallsMade
					withData += sum.SessionsSucceeded
				} else if sum.APICallsMade != 0 {
					b.Fatalf("forced re-extraction of %d made %d upstream calls", year, sum.APICallsMade)
				}
			}
			if force {
				warm += time.Since(t0)
			} else {
				cold += time.Since(t0)
			}
		}
		b.StopTimer()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(sessions)/cold.Seconds(), "sessions/s")
	b.ReportMetric(float64(sessions)/warm.Seconds(), "archive-sessions/s")
	b.ReportMetric(cold.Seconds()/warm.Seconds(), "cold/archive")
	b.ReportMetric(float64(calls)/float64(sessions), "calls/session")
	b.ReportMetric(float64(sessions)/float64(b.N), "sessions")
	b.ReportMetric(float64(withData)/float64(b.N), "sessions-with-data")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

func benchRun(b testing.TB, st *stack.Stack, cmd streams.PlanCommand) *streams.Summary {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	reply, err := client.Plan(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := w.Follow(ctx, reply.RunID, nil)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Status != "completed" {
		b.Fatalf("run %d: %+v", cmd.Year, sum)
	}
	return sum
}

// peakRSSMiB is the process's peak resident set (VmHWM), 0 where /proc
// has none.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkGovernedImport imports a whole recorded season (2019) under a
// quota of 50 calls per 10 s per host and compares its duration with the
// least any client could take under that quota: a host that needs n calls
// needs at least floor((n-1)/50) full windows after its first call. The
// same import without a quota runs side by side as the floor for work
// that is not waiting. Reported: the ratio (goal: at most 1.1) and the
// seconds of each.
func BenchmarkGovernedImport(b *testing.B) {
	const calls, window = 50, 10 * time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var ratio, governed, least float64
	for i := 0; i < b.N; i++ {
		run := func(quota governor.Config) (time.Duration, *stack.Stack) {
			st, err := stack.Start(context.Background(), stack.Config{
				DataDir: b.TempDir(), DatabaseURL: testenv.Database(b), Recorded: testenv.Recorded(b), Quota: quota,
			}, log)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			benchRun(b, st, streams.PlanCommand{Year: 2019})
			return time.Since(t0), st
		}
		free, st := run(governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 1 << 30}})
		_ = st.Close()
		took, st := run(governor.Config{Window: window, Default: governor.Limit{PerWindow: calls}})
		bound := free
		for _, h := range []string{upstream.LiveTiming, upstream.Mirror, upstream.Jolpica, upstream.GitHubRaw} {
			if n := st.Standin.RequestsFor(h); n > 0 {
				bound = max(bound, time.Duration((n-1)/calls)*window)
			}
		}
		_ = st.Close()
		ratio += took.Seconds() / bound.Seconds()
		governed += took.Seconds()
		least += bound.Seconds()
	}
	b.ReportMetric(ratio/float64(b.N), "duration/least")
	b.ReportMetric(governed/float64(b.N), "governed-s")
	b.ReportMetric(least/float64(b.N), "least-s")
}
