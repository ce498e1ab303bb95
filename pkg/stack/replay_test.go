package stack_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/kinds/circuit"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// refuseUpstream makes the stand-in answer every request with a 500 and
// returns the number of requests it was asked: a replay must ask none.
func refuseUpstream(st *stack.Stack) *atomic.Int64 {
	var asked atomic.Int64
	st.Standin.Fault = func(r *http.Request, n int64) (int, http.Header, bool) {
		asked.Add(1)
		return http.StatusInternalServerError, nil, true
	}
	return &asked
}

// replayCmd is what 'paddock replay KIND --year 2019 --round 14
// --session Q' plans.
func replayCmd(k string) streams.PlanCommand {
	return streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{k}, Force: true, ArchiveOnly: true}
}

// TestReplayAsksNoUpstreamAndRebuildsTheSameRows imports a recorded
// session, then replays each kind with an upstream that fails every
// request: no request is made, the kind is extracted again (its ledger
// names the replay's run) and every table of the kind holds the same rows
// as after the import. A kind whose required feed the archive lacks (the
// Monza 2019 layout) and sessions never imported are left out, named as
// not archived, and cost nothing either.
func TestReplayAsksNoUpstreamAndRebuildsTheSameRows(t *testing.T) {
	st := start(t)
	key := f1.Key(2019, 14, "Qualifying")
	_, sum, _ := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"})
	if sum.SessionsSucceeded != 1 {
		t.Fatalf("import: %+v", sum)
	}
	asked := refuseUpstream(st)
	for _, k := range kinds.All() {
		name := k.Spec().Name
		if name == circuit.Kind().Spec().Name {
			continue // not archived: below
		}
		t.Run(name, func(t *testing.T) {
			before := kindTables(t, st, k)
			exports := kindExports(t, st, k, key)
			reply, sum, calls := importRun(t, st, replayCmd(name))
			if calls != 0 || asked.Load() != 0 || sum.APICallsMade != 0 || reply.Report.EstimatedCalls != 0 {
				t.Fatalf("replay of %s: stand-in asked %d times (%d counted), summary %d calls, estimated %d; want 0",
					name, calls, asked.Load(), sum.APICallsMade, reply.Report.EstimatedCalls)
			}
			if sum.Status != "completed" || sum.SessionsProcessed != 1 || sum.DataExtracted[name] != 1 || sum.ArchiveHits == 0 {
				t.Fatalf("replay of %s: summary %+v, want the session re-extracted from the archive", name, sum)
			}
			var runID string
			if err := st.Pool.QueryRow(context.Background(), `SELECT run_id FROM extractions
				WHERE year=2019 AND round=14 AND session='Qualifying' AND kind=$1`, name).Scan(&runID); err != nil || runID != reply.RunID {
				t.Fatalf("ledger of %s names run %q (%v), want the replay's %s", name, runID, err, reply.RunID)
			}
			after := kindTables(t, st, k)
			for table, rows := range before {
				if len(rows) == 0 {
					t.Errorf("%s: no rows imported", table)
				}
				compareRows(t, table, rows, after[table])
			}
			for e, sum := range kindExports(t, st, k, key) {
				if exports[e] != sum {
					t.Errorf("export %s after the replay: %s, after the import: %s", e, sum, exports[e])
				}
			}
		})
	}

	// The layout of Monza 2019 is not recorded: its archived answer is a
	// 404, so there is nothing to replay. The season's other sessions were
	// never imported: nothing of them is archived.
	reply, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Kinds: []string{"circuit", "weather"}, Force: true, ArchiveOnly: true})
	if calls != 0 || asked.Load() != 0 || sum.APICallsMade != 0 {
		t.Fatalf("season replay: %d requests (%d asked), %d counted", calls, asked.Load(), sum.APICallsMade)
	}
	if g := reply.Report.SessionGaps; len(g) != 1 || g[0].SessionKey != key || !slices.Equal(g[0].Kinds, []string{"weather"}) {
		t.Fatalf("season replay planned %+v, want weather of %s alone", g, key)
	}
	// The circuit goes with the event's last session, the race.
	notArchived := func(k f1.SessionKey) bool {
		return slices.ContainsFunc(reply.Report.NotArchived, func(r streams.SessionRef) bool { return r.SessionKey == k })
	}
	if n := len(reply.Report.NotArchived); n < 80 || !notArchived(f1.Key(2019, 14, "Race")) || notArchived(key) {
		t.Fatalf("season replay: %d sessions not archived, want every session of the season but %s", n, key)
	}
	if sum.SessionsProcessed != 1 || sum.DataExtracted["weather"] != 1 || len(sum.KindsUnavailable) != 0 {
		t.Fatalf("season replay: %+v", sum)
	}
}

// TestReplayOfAnUnknownSeasonAsksNothing: a season whose schedule was
// never loaded is refused, saying the archive lacks it, without a request.
func TestReplayOfAnUnknownSeasonAsksNothing(t *testing.T) {
	st := start(t)
	asked := refuseUpstream(st)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := streams.PlanCommand{Year: 2020, Kinds: []string{"weather"}, Force: true, ArchiveOnly: true}
	reply, err := client.Submit(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Follow(ctx, reply.RunID, nil)
	var pe *client.PlanError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "raw archive holds no schedule of 2020") {
		t.Fatalf("replay of 2020: %v, want a refusal saying the archive has no schedule", err)
	}
	if n := asked.Load(); n != 0 || st.Standin.Requests() != 0 {
		t.Fatalf("the refused replay asked the upstream %d times", n)
	}
	t.Logf("refused: %s", pe.Message)
}

// TestRaisedVersionMakesSessionsStale: after an import by weather v1, a
// paddock whose weather extractor is v2 reports the session stale in the
// gap report, and a plain import re-extracts it from the archive without
// a request; the ledger then records v2 and nothing is left to do.
func TestRaisedVersionMakesSessionsStale(t *testing.T) {
	dir, db := t.TempDir(), testenv.Database(t)
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather", "laps"}}
	weather := kinds.MustLookup("weather")

	onDir := func(c *stack.Config) { c.DataDir = dir }
	st := startOn(t, db, onDir)
	if _, sum, _ := importRun(t, st, cmd); sum.DataExtracted["weather"] != 1 || sum.DataExtracted["laps"] != 1 {
		t.Fatalf("import: %+v", sum)
	}
	before := kindTables(t, st, weather)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	restore := kinds.Use(kinds.WithVersion(weather, weather.Spec().Version+1))
	t.Cleanup(restore)
	st = startOn(t, db, onDir) // the same archive and tables
	asked := refuseUpstream(st)
	ctx := context.Background()
	gaps, err := client.Plan(ctx, st.NC, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", DryRun: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []streams.StaleKind{{Kind: "weather", From: 1, To: 2, Sessions: 1}}
	if r := gaps.Report; !slices.Equal(r.Stale, want) || len(r.SessionGaps) != 1 || !slices.Contains(r.SessionGaps[0].Kinds, "weather") ||
		slices.Contains(r.SessionGaps[0].Kinds, "laps") {
		t.Fatalf("gap report: stale %+v, gaps %+v; want %+v and the session's weather (not its laps) among the gaps", r.Stale, r.SessionGaps, want)
	}

	reply, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather", "laps"}})
	if calls != 0 || asked.Load() != 0 || sum.APICallsMade != 0 || reply.Report.EstimatedCalls != 0 {
		t.Fatalf("re-extracting the stale session: stand-in asked %d times, summary %d calls, estimated %d; want 0",
			asked.Load(), sum.APICallsMade, reply.Report.EstimatedCalls)
	}
	if sum.DataExtracted["weather"] != 1 || sum.DataExtracted["laps"] != 0 || !slices.Equal(reply.Report.Stale, want) {
		t.Fatalf("plain import after the version bump: %+v, stale %+v; want weather alone re-extracted", sum, reply.Report.Stale)
	}
	var version int
	if err := st.Pool.QueryRow(ctx, `SELECT extractor_version FROM extractions
		WHERE year=2019 AND round=14 AND session='Qualifying' AND kind='weather'`).Scan(&version); err != nil || version != 2 {
		t.Fatalf("ledger records weather v%d (%v), want v2", version, err)
	}
	after := kindTables(t, st, weather)
	for table, rows := range before {
		compareRows(t, table, rows, after[table])
	}
	reply, sum, calls = importRun(t, st, cmd)
	if len(reply.Report.Stale) != 0 || len(reply.Report.SessionGaps) != 0 || calls != 0 || sum.GapsDetected != 0 {
		t.Fatalf("after re-extraction: stale %+v, gaps %d, %d calls", reply.Report.Stale, len(reply.Report.SessionGaps), calls)
	}
}

var createTable = regexp.MustCompile(`(?i)create\s+table\s+(?:if\s+not\s+exists\s+)?(\w+)`)

// kindTables reads every table k's schema creates, whole, each row as
// text in text order.
// Identity columns (and columns of the same name, which refer to them)
// are left out: a store numbers its rows anew; kindExports compares
// what they join.
func kindTables(t *testing.T, st *stack.Stack, k kind.Kind) map[string][]string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	err := fs.WalkDir(k.Spec().Schema, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(k.Spec().Schema, path)
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			tables = append(tables, strings.ToLower(m[1]))
		}
		return err
	})
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v (found %v)", k.Spec().Name, err, tables)
	}
	identity := map[string]bool{}
	rows, err := st.Pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_name = ANY($1) AND is_identity = 'YES'`, tables)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		identity[c] = true
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		var cols []string
		rows, err := st.Pool.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_name = $1 ORDER BY ordinal_position`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			if !identity[c] {
				cols = append(cols, `"`+c+`"`)
			}
		}
		rows.Close()
		out[table] = queryRows(t, st, fmt.Sprintf(`SELECT ROW(%s)::text AS r FROM %s ORDER BY r`, strings.Join(cols, ", "), table))
	}
	return out
}

func queryRows(t *testing.T, st *stack.Stack, sql string) []string {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// compareRows fails on the first rows of table that differ.
func compareRows(t *testing.T, table string, want, got []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, %d before", table, len(got), len(want))
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s row %d: %s, before: %s", table, i, got[i], want[i])
			return
		}
	}
}

// kindExports writes each of k's CSV exports of the session (per-event
// ones of its event) and returns their row counts and digests.
func kindExports(t *testing.T, st *stack.Stack, k kind.Kind, key f1.SessionKey) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range k.Spec().Exports {
		q := kind.Query{SessionKey: key}
		if e.PerEvent {
			q.SessionKey = key.Event()
		}
		if e.Lap {
			q.Driver, q.Lap = "16", "fastest"
		}
		var b strings.Builder
		n, err := e.Write(context.Background(), st.Pool, q, &b)
		if err != nil && !errors.Is(err, circuit.ErrNoLayout) {
			t.Fatalf("export %s: %v", e.Name, err)
		}
		out[e.Name] = fmt.Sprintf("%d rows, %d bytes, %x", n, b.Len(), sha256.Sum256([]byte(b.String())))
	}
	return out
}
