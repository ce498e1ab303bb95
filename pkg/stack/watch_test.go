package stack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/planner"
	"github.com/paddock-f1/paddock/pkg/season"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/pkg/watch"
	"github.com/paddock-f1/paddock/streams"
)

// fakeClock is a settable clock shared by the planner and the watchers.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.Set(t)
	return c
}

// TestTwoWatchersImportASessionOnce runs two watchers on one stack with
// the clock 40 minutes after 2019 round 14 Qualifying ended: the
// schedule is loaded, every session that ended in the week before is
// planned exactly once (Qualifying imports, the others are not recorded
// and end unavailable), Qualifying's rows equal an import's, and another
// round of both watchers plans nothing. Then the leader dies: the other
// takes the lease over, plans nothing already planned, and plans the race
// once it is due.
func TestTwoWatchersImportASessionOnce(t *testing.T) {
	ctx := context.Background()
	clock := newClock(time.Date(2019, 1, 2, 0, 0, 0, 0, time.UTC)) // nothing of 2019 has ended
	st, newWatcher := startWatched(t, clock)
	const ttl = 2 * time.Second
	w1, nc1 := newWatcher("w1", ttl)
	w2, nc2 := newWatcher("w2", ttl)
	watchers := []*watch.Watcher{w1, w2}
	conns := map[*watch.Watcher]*nats.Conn{w1: nc1, w2: nc2}

	var planned []watch.Planned
	var mu sync.Mutex
	leaders := map[string]bool{}
	// look has every live watcher look once; at most one may act.
	look := func(ws ...*watch.Watcher) []watch.Planned {
		t.Helper()
		var out []watch.Planned
		acting := 0
		for _, w := range ws {
			r, err := w.Look(ctx)
			if err != nil {
				t.Fatalf("%s: %v", w.Name(), err)
			}
			if r.Leader {
				acting++
				leaders[w.Name()] = true
			}
			out = append(out, r.Planned...)
		}
		if acting > 1 {
			t.Fatalf("%d watchers acted in one round", acting)
		}
		mu.Lock()
		planned = append(planned, out...)
		mu.Unlock()
		return out
	}

	// The season's schedule is unknown: the watcher asks for it.
	lookUntilKnown(t, st, watchers...)

	// 40 minutes after Qualifying ended.
	clock.Set(sessionEnd(t, st, 14, "Qualifying").Add(40 * time.Minute))
	var due []string // the sessions that ended 30 minutes to a week before
	rows, err := st.Pool.Query(ctx, `SELECT round || '/' || name FROM sessions WHERE year = 2019
		AND coalesce(end_utc, start_utc + interval '2 hours') <= $1 AND coalesce(end_utc, start_utc + interval '2 hours') > $2
		ORDER BY start_utc`, clock.Now().Add(-30*time.Minute), clock.Now().Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		due = append(due, s)
	}
	rows.Close()
	t.Logf("due at %s: %v", clock.Now().Format(time.RFC3339), due)

	var qRun string
	waitFor(t, 2*time.Minute, "every due session planned and its run ended", func() bool {
		for _, p := range look(watchers...) {
			if p.Round == 14 && p.Session == "Qualifying" {
				qRun = p.RunID
			}
		}
		return len(runsPerSession(t, st)) == len(due) &&
			count(t, st, `SELECT count(*) FROM runs WHERE status = 'running'`) == 0
	})
	perSession := runsPerSession(t, st)
	for _, s := range due {
		if perSession[s] != 1 {
			t.Errorf("session %s: %d runs, want exactly 1 (runs per session: %v)", s, perSession[s], perSession)
		}
	}
	if len(perSession) != len(due) {
		t.Errorf("runs per session %v, want one for each of %v", perSession, due)
	}
	if qRun == "" {
		t.Fatalf("Qualifying was not planned: %v", planned)
	}
	var status string
	if err := st.Pool.QueryRow(ctx, `SELECT summary->>'status' FROM runs WHERE run_id = $1`, qRun).Scan(&status); err != nil {
		t.Fatal(err)
	}
	watched := kindRows(t, st, qRun)
	if watched["weather"] != 95 || watched["laps"] != 275 {
		t.Errorf("the watcher's run %s (%s) has rows %v, want 95 weather samples and 275 laps", qRun, status, watched)
	}

	// A second round of both watchers plans nothing more.
	for range 3 {
		if got := look(watchers...); len(got) > 0 {
			t.Fatalf("a second round planned %v", got)
		}
	}

	// Rows equal an import's: re-extracting the session (from the archive)
	// gives the same rows per kind.
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Qualifying", Force: true})
	if calls != 0 {
		t.Errorf("the import made %d upstream requests, want 0 (the watcher archived everything)", calls)
	}
	imported := kindRows(t, st, sum.RunID)
	if fmt.Sprint(imported) != fmt.Sprint(watched) {
		t.Errorf("rows per kind: the watcher's run %v, an import %v", watched, imported)
	}

	// The leader dies right after renewing (its connection drops, its
	// lease is not given up): the other takes the lease over once the TTL
	// has run out, not before.
	if got := look(watchers...); len(got) > 0 {
		t.Fatalf("planned %v after the import", got)
	}
	var leader, other *watch.Watcher
	for _, w := range watchers {
		if w.Lease().Held() {
			leader = w
		} else {
			other = w
		}
	}
	if leader == nil || other == nil {
		t.Fatalf("want one holder among the watchers, have leaders %v", leaders)
	}
	conns[leader].Close()
	died := time.Now()
	waitFor(t, 5*ttl, other.Name()+" taking the lease over", func() bool {
		if got := look(other); len(got) > 0 {
			t.Fatalf("%s planned %v again after taking over", other.Name(), got)
		}
		return other.Lease().Held()
	})
	took := time.Since(died)
	t.Logf("%s took over %s after %s died", other.Name(), took.Round(10*time.Millisecond), leader.Name())
	if took < ttl/2 {
		t.Errorf("%s took the lease %s after %s died, before its TTL (%s) could run out", other.Name(), took, leader.Name(), ttl)
	}

	// The race becomes due: the new leader plans it, once.
	clock.Set(sessionEnd(t, st, 14, "Race").Add(40 * time.Minute))
	waitFor(t, time.Minute, "the race planned by "+other.Name(), func() bool {
		look(other)
		return runsPerSession(t, st)["14/Race"] > 0 && count(t, st, `SELECT count(*) FROM runs WHERE status = 'running'`) == 0
	})
	for range 3 {
		if got := look(other); len(got) > 0 {
			t.Fatalf("planned %v again", got)
		}
	}
	if n := runsPerSession(t, st)["14/Race"]; n != 1 {
		t.Errorf("the race has %d runs, want 1", n)
	}
}

// TestWatcherPlansAnIncompleteSessionHourly serves 2019 round 14
// Qualifying's WeatherData cut mid-line, so weather fails while the other
// kinds are done: the session is incomplete. The watcher plans it once,
// not again within the hour (a restarted watcher neither), plans it again
// an hour later, when the feed is whole, and not any more once the
// session is complete.
func TestWatcherPlansAnIncompleteSessionHourly(t *testing.T) {
	ctx := context.Background()
	clock := newClock(time.Date(2019, 1, 2, 0, 0, 0, 0, time.UTC))
	st, newWatcher := startWatched(t, clock)
	var cut atomic.Bool
	cut.Store(true)
	st.Standin.Rewrite = func(r *http.Request, body []byte) []byte {
		if cut.Load() && strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/WeatherData.jsonStream") {
			return body[:len(body)-20]
		}
		return body
	}
	w, _ := newWatcher("w", 0)
	lookUntilKnown(t, st, w)

	q := "14/Qualifying"
	first := sessionEnd(t, st, 14, "Qualifying").Add(40 * time.Minute)
	clock.Set(first)
	lookAt := func(at time.Time) []watch.Planned {
		t.Helper()
		clock.Set(at)
		r, err := w.Look(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r.Planned
	}
	settled := func() bool {
		return runsPerSession(t, st)[q] > 0 && count(t, st, `SELECT count(*) FROM runs WHERE status = 'running'`) == 0
	}
	waitFor(t, 2*time.Minute, "Qualifying planned and its run ended", func() bool {
		lookAt(first)
		return settled()
	})
	if n := count(t, st, `SELECT count(*) FROM extractions WHERE year = 2019 AND round = 14 AND session = 'Qualifying' AND kind = 'weather' AND status = 'failed'`); n != 1 {
		t.Fatalf("weather of the cut feed: %d failed outcomes, want 1", n)
	}
	for _, at := range []time.Time{first, first.Add(30 * time.Minute), first.Add(59 * time.Minute)} {
		if got := lookAt(at); len(got) > 0 {
			t.Fatalf("at %s, %s after the first plan: planned %v again within the hour", at.Format(time.TimeOnly), at.Sub(first), got)
		}
	}
	w.Close()
	restarted, _ := newWatcher("restarted", 0)
	waitFor(t, time.Minute, "the restarted watcher holding the lease", func() bool {
		r, err := restarted.Look(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Planned) > 0 {
			t.Fatalf("the restarted watcher planned %v within the hour", r.Planned)
		}
		return r.Leader
	})
	w = restarted

	cut.Store(false)
	again := first.Add(61 * time.Minute)
	got := lookAt(again)
	if len(got) != 1 || got[0].Session != "Qualifying" {
		t.Fatalf("an hour later: planned %v, want Qualifying again", got)
	}
	second := got[0].RunID
	waitFor(t, 2*time.Minute, "the second run ended", func() bool {
		lookAt(again)
		return count(t, st, `SELECT count(*) FROM runs WHERE run_id = $1 AND status <> 'running'`, second) == 1
	})
	if n := count(t, st, `SELECT count(*) FROM weather_samples WHERE year = 2019 AND round = 14 AND session = 'Qualifying'`); n != 95 {
		t.Errorf("weather samples after the second run: %d, want 95", n)
	}
	for _, at := range []time.Time{again.Add(2 * time.Hour), again.Add(5 * time.Hour)} {
		if got := lookAt(at); len(got) > 0 {
			t.Fatalf("the complete session planned again at %s: %v", at.Format(time.TimeOnly), got)
		}
	}
	if n := runsPerSession(t, st)[q]; n != 2 {
		t.Errorf("Qualifying has %d runs, want 2", n)
	}
}

// startWatched starts the embedded default on a fresh database with the
// recorded upstream, its NATS server open on a free port and the planner
// on clock; newWatcher starts a watcher of 2019 on clock with its own
// NATS connection, as another process would.
func startWatched(t *testing.T, clock *fakeClock) (*stack.Stack, func(name string, ttl time.Duration) (*watch.Watcher, *nats.Conn)) {
	t.Helper()
	ctx := context.Background()
	port := listenPort(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: t.TempDir(), ListenPort: port, DatabaseURL: testenv.Database(t), Recorded: testenv.Recorded(t),
		Upstream: upstream.Config{RetryBackoff: 5 * time.Millisecond},
		Quota:    governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000}},
		Planner:  planner.Config{Now: clock.Now},
	}, log)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return st, func(name string, ttl time.Duration) (*watch.Watcher, *nats.Conn) {
		nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port), nats.Name(name))
		if err != nil {
			t.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		w, err := watch.New(ctx, watch.Config{Year: 2019, LeaseTTL: ttl, Name: name, Now: clock.Now}, nc, js, st.Pool, log.With("watcher", name))
		if err != nil {
			t.Fatalf("watcher %s: %v", name, err)
		}
		t.Cleanup(func() { w.Close(); nc.Close() })
		return w, nc
	}
}

// sessionEnd is when a 2019 session ended, as the loaded schedule says.
func sessionEnd(t *testing.T, st *stack.Stack, round int, name string) time.Time {
	t.Helper()
	var end time.Time
	if err := st.Pool.QueryRow(context.Background(), `SELECT coalesce(end_utc, start_utc + interval '2 hours') FROM sessions
		WHERE year = 2019 AND round = $1 AND name = $2`, round, name).Scan(&end); err != nil {
		t.Fatalf("the end of 2019/%d/%s: %v", round, name, err)
	}
	return end
}

// lookUntilKnown has w look until the 2019 schedule it asks for is in
// PostgreSQL; nothing may be planned meanwhile.
func lookUntilKnown(t *testing.T, st *stack.Stack, ws ...*watch.Watcher) {
	t.Helper()
	waitFor(t, time.Minute, "the 2019 schedule loaded by the watcher", func() bool {
		for _, w := range ws {
			r, err := w.Look(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", w.Name(), err)
			}
			if len(r.Planned) > 0 {
				t.Fatalf("planned %v before any session of 2019 ended", r.Planned)
			}
		}
		known, err := season.Known(context.Background(), st.Pool, 2019)
		return err == nil && known
	})
}

// listenPort is a free TCP port on 127.0.0.1.
func listenPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runsPerSession counts the runs planned for each session ("round/name"),
// the --force import's aside.
func runsPerSession(t *testing.T, st *stack.Stack) map[string]int {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), `SELECT (command->>'round') || '/' || (command->>'session'), count(*)
		FROM runs WHERE year = 2019 AND NOT coalesce((command->>'force')::boolean, false) GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

// kindRows is a run's rows per kind done.
func kindRows(t *testing.T, st *stack.Stack, runID string) map[string]int {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), `SELECT kind, rows FROM run_items WHERE run_id = $1 AND status = 'done'`, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}
