package stack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/loader"
	"github.com/paddock-f1/paddock/pkg/planner"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// startWithout brings up the embedded default without the loader, so
// gaps stay queued until the test starts one (startLoader).
func startWithout(t *testing.T, pl planner.Config) *stack.Stack {
	t.Helper()
	services := []string{stack.ServicePlanner, stack.ServiceNotify, stack.ExtractorService("weather")}
	st, err := stack.Start(context.Background(), stack.Config{
		DataDir: t.TempDir(), DatabaseURL: testenv.Database(t), Recorded: testenv.Recorded(t),
		Upstream: upstream.Config{RetryBackoff: 5 * time.Millisecond},
		Quota:    governor.DefaultConfig(),
		Planner:  pl, Services: services,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return st
}

// startLoader runs a loader against st's NATS, archive and stand-in until
// the test ends.
func startLoader(t *testing.T, st *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ld, err := loader.Wire(ctx, st.JS, st.Archive, loader.Config{
		Upstream: upstream.Config{BaseURLs: st.Standin.BaseURLs(), RetryBackoff: 5 * time.Millisecond},
		Quota:    governor.DefaultConfig(),
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ld.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// TestRunFollowsTheRunThatOwnsItsSessions: a second import of sessions
// another run has queued does not report success at once; it follows that
// run's outcomes and ends with them.
func TestRunFollowsTheRunThatOwnsItsSessions(t *testing.T) {
	st := startWithout(t, planner.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Make the schedule known first: the loader loads it, then stops.
	dry := streams.PlanCommand{Year: 2019, DryRun: true}
	func() {
		lctx, lcancel := context.WithCancel(ctx)
		defer lcancel()
		ld, err := loader.Wire(lctx, st.JS, st.Archive, loader.Config{
			Upstream: upstream.Config{BaseURLs: st.Standin.BaseURLs()},
			Quota:    governor.DefaultConfig(),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = ld.Run(lctx) }()
		if _, err := client.Plan(ctx, st.NC, dry, time.Minute); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		lcancel()
		<-done
	}()

	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}}
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w2, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	first, err := client.Plan(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second, err := client.Plan(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if q := second.Report.Queued; len(q) != 1 || q[0].RunID != first.RunID {
		t.Fatalf("second run's queued sessions = %+v, want the session, followed from %s", q, first.RunID)
	}
	// Nothing is loaded yet: the second run must still be running.
	var status string
	if err := st.Pool.QueryRow(ctx, `SELECT status FROM runs WHERE run_id=$1`, second.RunID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "running" {
		t.Fatalf("the second run is %q while the session it needs is still queued by %s", status, first.RunID)
	}
	startLoader(t, st)
	type result struct {
		sum    *streams.Summary
		events int
		err    error
	}
	follow := func(w *client.Watch, runID string) chan result {
		ch := make(chan result, 1)
		go func() {
			var r result
			r.sum, r.err = w.Follow(ctx, runID, func(ev client.Event) {
				if ev.Extraction != nil {
					r.events++
				}
			})
			ch <- r
		}()
		return ch
	}
	a, b := follow(w, first.RunID), follow(w2, second.RunID)
	for name, ch := range map[string]chan result{"first": a, "second": b} {
		r := <-ch
		if r.err != nil {
			t.Fatalf("%s run: %v", name, r.err)
		}
		if r.sum.Status != "completed" || r.sum.SessionsSucceeded != 1 || r.sum.DataExtracted["weather"] != 1 {
			t.Fatalf("%s run's summary: %+v, want one session succeeded with weather", name, r.sum)
		}
		if r.events != 1 {
			t.Errorf("%s run: followed %d outcomes, want 1", name, r.events)
		}
	}
	if n := count(t, st, `SELECT count(*) FROM weather_samples WHERE year=2019 AND round=14 AND session='Qualifying'`); n != 95 {
		t.Fatalf("%d weather samples, want 95 (imported once)", n)
	}
}

// TestPlanWaitsBehindAPausedUpstream: a season whose schedule must be
// loaded while the upstream is paused waits, saying for what and until
// when, and is carried out once the pause ends, however long the wait.
func TestPlanWaitsBehindAPausedUpstream(t *testing.T) {
	// Dry runs give up on a schedule after ScheduleWait; runs must not.
	st := startWithout(t, planner.Config{ScheduleWait: time.Second})
	startLoader(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pause := time.Now().Add(7 * time.Second)
	for _, h := range []string{upstream.LiveTiming, upstream.Mirror, upstream.Jolpica, upstream.MultiViewer, upstream.GitHubRaw} {
		if err := st.Governor.PauseHost(ctx, h, pause); err != nil {
			t.Fatal(err)
		}
	}
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reply, err := client.Submit(ctx, st.NC, streams.PlanCommand{Year: 2024, Round: round(12), Session: "FP1", Kinds: []string{"weather"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var waiting []streams.Waiting
	var planned *streams.PlanReply
	sum, err := w.Follow(ctx, reply.RunID, func(ev client.Event) {
		switch {
		case ev.Waiting != nil:
			waiting = append(waiting, *ev.Waiting)
		case ev.Planned != nil:
			planned = ev.Planned
		}
	})
	if err != nil {
		t.Fatalf("run %s: %v", reply.RunID, err)
	}
	if planned == nil || planned.Report == nil || len(planned.Report.SessionGaps) != 1 {
		t.Fatalf("planned event: %+v", planned)
	}
	if sum.Status != "completed" || sum.SessionsSucceeded != 1 {
		t.Fatalf("summary: %+v", sum)
	}
	if len(waiting) == 0 {
		t.Fatal("no waiting event while the upstream was paused")
	}
	wt := waiting[0]
	if wt.PausedUntil == nil || wt.PausedUntil.Sub(pause).Abs() > time.Second || wt.Host == "" {
		t.Fatalf("waiting event %+v does not name the pause until %s", wt, pause.UTC())
	}
	if done := time.Now(); done.Before(pause) {
		t.Fatalf("run ended at %s, before the pause ended at %s", done, pause)
	}
}

// TestDeadLetteredPlanFailsItsRun: an accepted command no planner can
// carry out (here, written by a newer paddock) lands in the dead-letter
// stream, and its run fails with the reason instead of waiting forever.
func TestDeadLetteredPlanFailsItsRun(t *testing.T) {
	st := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const runID = "20260101T000000-0badc0de"
	newer := fmt.Sprintf(`{"v": %d, "run_id": %q, "year": 2019}`, streams.SchemaVersion+1, runID)
	if _, err := st.JS.Publish(ctx, streams.PlanAccepted(runID), []byte(newer)); err != nil {
		t.Fatal(err)
	}
	_, err = w.Follow(ctx, runID, nil)
	var pe *client.PlanError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "dead-lettered by planner") {
		t.Fatalf("following the run: %v, want its refusal naming the dead letter", err)
	}
	var status, reason string
	if err := st.Pool.QueryRow(ctx, `SELECT status, error FROM runs WHERE run_id=$1`, runID).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(reason, "paddock dlq replay") {
		t.Fatalf("run %s is %q (%q), want failed with how to replay it", runID, status, reason)
	}
}
