package stack_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/kinds/circuit"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// startOn brings up the embedded default on the database at dbURL, with
// the recorded upstream; tune adjusts the configuration first.
func startOn(t *testing.T, dbURL string, tune func(*stack.Config)) *stack.Stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	}
	cfg := stack.Config{
		DataDir: t.TempDir(), DatabaseURL: dbURL, Recorded: testenv.Recorded(t),
		Upstream: upstream.Config{RetryBackoff: 5 * time.Millisecond},
		Quota:    governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000}},
	}
	if tune != nil {
		tune(&cfg)
	}
	st, err := stack.Start(context.Background(), cfg, log)
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

// exports is every kind's export of the session at key, as row counts and
// digests, for comparing two databases.
func exports(t *testing.T, st *stack.Stack, key f1.SessionKey) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range kinds.All() {
		for _, e := range k.Spec().Exports {
			if e.Lap {
				continue // derived from the samples and laps compared here
			}
			ek := key
			if e.PerEvent {
				ek = key.Event()
			}
			var b strings.Builder
			n, err := e.Write(ctx, st.Pool, kind.Query{SessionKey: ek}, &b)
			if err != nil && !errors.Is(err, circuit.ErrNoLayout) { // Monza 2019's layout is not recorded
				t.Fatalf("export %s: %v", e.Name, err)
			}
			out[e.Name] = fmt.Sprintf("%d rows %x", n, sha256.Sum256([]byte(b.String())))
		}
	}
	return out
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// within with what it waited for.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outageImport plans cmd on st, takes PostgreSQL away (behind pg) as soon
// as the plan is accepted, keeps it away for outage once the session's
// manifest is published (so every extractor meets it), brings it back and
// follows the run to its summary, failing with what is still pending when
// the run does not end within settle after the outage.
func outageImport(t *testing.T, st *stack.Stack, pg *testenv.Outage, cmd streams.PlanCommand, key f1.SessionKey, outage, settle time.Duration) (*streams.PlanReply, *streams.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), outage+settle+time.Minute)
	defer cancel()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reply, err := client.Plan(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		t.Fatalf("plan %+v: %v", cmd, err)
	}
	pg.Cut()
	loaded, err := st.JS.Stream(ctx, streams.Loaded)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the session's manifest published during the outage", func() bool {
		_, err := loaded.GetLastMsgForSubject(ctx, streams.SessionLoaded(key))
		return err == nil
	})
	cut := time.Now()
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := st.Ready()(rctx); err == nil {
		t.Errorf("readiness is green while PostgreSQL is unreachable")
	} else {
		t.Logf("readiness during the outage: %v", err)
	}
	rcancel()
	time.Sleep(time.Until(cut.Add(outage))) // the outage itself
	pg.Heal()
	t.Logf("PostgreSQL back after %s", time.Since(cut).Round(time.Second))

	fctx, fcancel := context.WithTimeout(ctx, settle)
	defer fcancel()
	sum, err := w.Follow(fctx, reply.RunID, nil)
	if err != nil {
		var pending []string
		rows, qerr := st.Pool.Query(context.Background(), `SELECT kind FROM run_items WHERE run_id=$1 AND status='pending' ORDER BY kind`, reply.RunID)
		if qerr == nil {
			for rows.Next() {
				var k string
				_ = rows.Scan(&k)
				pending = append(pending, k)
			}
			rows.Close()
		}
		t.Fatalf("the run did not end within %s of PostgreSQL's return (%v): %d items still pending %v (query: %v)",
			settle, err, len(pending), pending, qerr)
	}
	return reply, sum
}

// TestPostgresOutageLosesNothing: PostgreSQL goes away for longer than a
// fixed delivery budget lasts, while every extractor has a manifest to
// write; once it is back the run completes with every kind done and the
// tables equal those of a run without an outage.
func TestPostgresOutageLosesNothing(t *testing.T) {
	key := f1.Key(2019, 14, "Qualifying")
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"}
	clean := start(t)
	_, want, _ := importRun(t, clean, cmd)
	wantRows := exports(t, clean, key)

	db := testenv.Database(t)
	pg := testenv.NewOutage(t, db)
	st := startOn(t, pg.URL(db), nil)
	_, sum := outageImport(t, st, pg, cmd, key, 30*time.Second, time.Minute)
	if sum.Status != "completed" || len(sum.Failures) != 0 || fmt.Sprint(sum.DataExtracted) != fmt.Sprint(want.DataExtracted) ||
		fmt.Sprint(sum.KindsUnavailable) != fmt.Sprint(want.KindsUnavailable) {
		t.Fatalf("after the outage: %+v\nwithout one: %+v", sum, want)
	}
	got := exports(t, st, key)
	for name, w := range wantRows {
		if got[name] != w {
			t.Errorf("%s after the outage: %s, without one: %s", name, got[name], w)
		}
	}
}

// TestOutageBeyondTheRetryBudgetIsDeadLettered: PostgreSQL stays away for
// longer than the retry budget; every manifest is dead-lettered with its
// reason instead of being dropped, and once PostgreSQL is back the run
// completes, failed, listing each kind as dead-lettered and how to replay it.
func TestOutageBeyondTheRetryBudgetIsDeadLettered(t *testing.T) {
	key := f1.Key(2019, 14, "Qualifying")
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"}
	db := testenv.Database(t)
	pg := testenv.NewOutage(t, db)
	st := startOn(t, pg.URL(db), func(c *stack.Config) {
		c.Retry = consume.Policy{First: 100 * time.Millisecond, Max: time.Second, For: 3 * time.Second}
	})
	reply, sum := outageImport(t, st, pg, cmd, key, 10*time.Second, time.Minute)
	kinds := len(reply.Report.SessionGaps[0].Kinds)
	if sum.Status != "failed" || len(sum.Failures) != kinds || sum.SessionsFailed != 1 {
		t.Fatalf("want the run failed with its %d kinds dead-lettered: %+v", kinds, sum)
	}
	for _, f := range sum.Failures {
		if !strings.Contains(f, "dead-lettered by extract-") || !strings.Contains(f, "retry budget spent") ||
			!strings.Contains(f, "postgresql unreachable") || !strings.Contains(f, "paddock dlq replay ") {
			t.Errorf("failure %q does not say it was dead-lettered, why and how to replay it", f)
		}
	}
	t.Logf("reported: %s", sum.Failures[0])
	dlq, err := st.JS.Stream(context.Background(), streams.DLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if int(info.State.Msgs) != kinds {
		t.Fatalf("DLQ holds %d messages, want one per kind (%d)", info.State.Msgs, kinds)
	}
	// A dead letter holds what a replay needs: the original as it was.
	raw, err := dlq.GetLastMsgForSubject(context.Background(), streams.DeadLetterSubject(streams.ExtractorConsumer("weather")))
	if err != nil {
		t.Fatal(err)
	}
	d, err := streams.ParseDeadLetter(raw.Header, raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	var m streams.Manifest
	if d.Stream != streams.Loaded || d.Subject != streams.SessionLoaded(key) || d.Deliveries < 2 ||
		streams.Decode(d.Data, &m) != nil || m.RunID != reply.RunID {
		t.Fatalf("dead letter %+v", d)
	}
}
