package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// statusDB is a fresh database with the schema and three runs: a
// complete one, one that ended with a failure, unavailable kinds, a
// deferred and a queued session, and one still running after a pause.
func statusDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.Schemas()...); err != nil {
		t.Fatal(err)
	}
	round := func(r int) *int { return &r }
	t0 := time.Date(2025, 9, 1, 2, 16, 26, 0, time.UTC) // before the running run, whenever the test runs
	report := streams.GapReport{Year: 2019,
		Deferred: []streams.SessionRef{{SessionKey: streams.Key(2019, 16, "Race"), Event: "Russian Grand Prix"}},
		Queued:   []streams.SessionRef{{SessionKey: streams.Key(2019, 15, "Qualifying"), Event: "Singapore Grand Prix"}},
	}
	runs := []struct {
		id       string
		cmd      streams.PlanCommand
		report   any
		status   string
		errText  string
		started  time.Time
		finished *time.Time
		summary  any
	}{
		{"20250901T021626-aaaaaaaa", streams.PlanCommand{Year: 2019, Round: round(14), Session: "Qualifying", Kinds: []string{"laps"}},
			streams.GapReport{Year: 2019}, "completed", "", t0, ptr(t0.Add(4300 * time.Millisecond)), streams.Summary{RateLimitPauses: 0}},
		{"20250901T031626-bbbbbbbb", streams.PlanCommand{Year: 2019, Round: round(15), Kinds: kinds.Names(), MaxCalls: 40},
			report, "failed", "", t0.Add(time.Hour), ptr(t0.Add(time.Hour + 2*time.Minute + 14*time.Second)), streams.Summary{RateLimitPauses: 2}},
		{"20250901T041500-cccccccc", streams.PlanCommand{Year: 2020, Session: "Practice 2", Force: true},
			streams.GapReport{Year: 2020}, "running", "", time.Now().Add(-90 * time.Second), nil, nil},
	}
	for _, r := range runs {
		cmd, _ := json.Marshal(r.cmd)
		var rep, sum []byte
		if r.report != nil {
			rep, _ = json.Marshal(r.report)
		}
		if r.summary != nil {
			sum, _ = json.Marshal(r.summary)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO runs (run_id, year, command, report, status, error, started_at, finished_at, summary) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
			r.id, r.cmd.Year, cmd, rep, r.status, r.errText, r.started, r.finished, sum); err != nil {
			t.Fatal(err)
		}
	}
	items := []struct {
		run, session, kind, status string
		round, rows                int
		reason                     string
	}{
		{"20250901T021626-aaaaaaaa", "Qualifying", "laps", "done", 14, 275, ""},
		{"20250901T031626-bbbbbbbb", "Qualifying", "weather", "done", 15, 60, ""},
		{"20250901T031626-bbbbbbbb", "Race", "weather", "unavailable", 15, 0, "no data for this session: WeatherData.jsonStream is on neither host"},
		{"20250901T031626-bbbbbbbb", "Practice 1", "weather", "unavailable", 15, 0, "no data for this session: WeatherData.jsonStream is on neither host"},
		{"20250901T031626-bbbbbbbb", "Qualifying", "laps", "failed", 15, 0, "laps: parse TimingData: unexpected end of JSON input"},
		{"20250901T031626-bbbbbbbb", "Qualifying", "circuit", "unavailable", 15, 0, "multiviewer:circuit is not published for this session (api.multiviewer.app answered 404)"},
		{"20250901T041500-cccccccc", "Practice 2", "weather", "pending", 3, 0, ""},
		{"20250901T041500-cccccccc", "Practice 2", "laps", "done", 3, 310, ""},
	}
	for _, it := range items {
		year := 2019
		if strings.HasSuffix(it.run, "cccccccc") {
			year = 2020
		}
		if _, err := pool.Exec(ctx, `INSERT INTO run_items (run_id, year, round, session, kind, status, rows, reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			it.run, year, it.round, it.session, it.kind, it.status, it.rows, it.reason); err != nil {
			t.Fatal(err)
		}
	}
	until := time.Date(2025, 9, 1, 3, 16, 0, 0, time.UTC)
	for _, l := range []struct {
		run, subject        string
		calls, hits, pauses int
	}{
		{"20250901T031626-bbbbbbbb", "call:2019/15/Qualifying#1.1", 1, 0, 0},
		{"20250901T031626-bbbbbbbb", "call:2019/15/Qualifying#1.2", 1, 0, 0},
		{"20250901T031626-bbbbbbbb", "load:2019/15/Qualifying#1", 0, 3, 0},
		{"20250901T031626-bbbbbbbb", "pause:livetiming.formula1.com:" + itoa(until.UnixMilli()) + ":quota", 0, 0, 1},
		{"20250901T031626-bbbbbbbb", "pause:api.jolpi.ca:" + itoa(until.Add(30*time.Second).UnixMilli()) + ":retry-after", 0, 0, 1},
		{"20250901T041500-cccccccc", "pause:livetiming.formula1.com:" + itoa(until.Add(time.Hour).UnixMilli()) + ":quota", 0, 0, 1},
	} {
		if _, err := pool.Exec(ctx, `INSERT INTO run_loads (run_id, subject, calls, archive_hits, pauses) VALUES ($1,$2,$3,$4,$5)`,
			l.run, l.subject, l.calls, l.hits, l.pauses); err != nil {
			t.Fatal(err)
		}
	}
	return url
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestStatus(t *testing.T) {
	t.Setenv("DATABASE_URL", statusDB(t))

	t.Run("recent runs", func(t *testing.T) {
		out, code, msg := runCLI(t, "status")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "RUN") {
			t.Fatalf("want a header and 3 runs, newest first:\n%s", out)
		}
		for i, want := range [][]string{
			{"20250901T041500-cccccccc", "running", `import --year 2020 --session "Practice 2" --force`},
			{"20250901T031626-bbbbbbbb", "2025-09-01T03:16:26Z", "partial", "2m14s", "import --year 2019 --round 15 --max-calls 40"},
			{"20250901T021626-aaaaaaaa", "2025-09-01T02:16:26Z", "complete", "4.3s", "import --year 2019 --round 14 --session Qualifying --kinds laps"},
		} {
			for _, w := range want {
				if !strings.Contains(lines[i+1], w) {
					t.Errorf("line %d lacks %q:\n%s", i+1, w, out)
				}
			}
		}
		if strings.Contains(lines[2], "--kinds") {
			t.Errorf("a run of every kind reads with --kinds: %s", lines[2])
		}
		out, _, _ = runCLI(t, "status", "--limit", "1")
		if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, "cccccccc") {
			t.Errorf("--limit 1:\n%s", out)
		}
	})

	t.Run("recent runs as JSON", func(t *testing.T) {
		out, code, msg := runCLI(t, "status", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		var got struct{ Runs []runRow }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if len(got.Runs) != 3 {
			t.Fatalf("%d runs:\n%s", len(got.Runs), out)
		}
		r := got.Runs[1]
		if r.RunID != "20250901T031626-bbbbbbbb" || r.Status != "failed" || r.State != "partial" || r.DurationSeconds != 134 ||
			r.Command != "import --year 2019 --round 15 --max-calls 40" || r.FinishedAt == nil {
			t.Errorf("second run: %+v", r)
		}
		if got.Runs[0].State != "running" || got.Runs[0].FinishedAt != nil || got.Runs[0].DurationSeconds < 90 {
			t.Errorf("running run: %+v", got.Runs[0])
		}
	})

	t.Run("one run", func(t *testing.T) {
		out, code, msg := runCLI(t, "status", "--run", "20250901T031626-bbbbbbbb")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		for _, want := range []string{
			"Run 20250901T031626-bbbbbbbb: partial\n",
			"  command:  import --year 2019 --round 15 --max-calls 40\n",
			"api_calls_made: 2, archive_hits: 3, rate_limit_pauses: 2\n",
			"  laps                  0       1            0        0          0\n",
			"  weather               1       0            2        0         60\n",
			"  laps failed: 1 session\n    2019/15 Qualifying: laps: parse TimingData: unexpected end of JSON input\n",
			"  weather unavailable: 2 sessions\n    2019/15 Practice 1, 2019/15 Race: no data for this session: WeatherData.jsonStream is on neither host\n",
			"  circuit unavailable: 1 session\n    2019/15 Qualifying: multiviewer:circuit is not published",
			"  rate-limit pauses: 2\n    livetiming.formula1.com until 2025-09-01T03:16:00Z (quota)\n    api.jolpi.ca until 2025-09-01T03:16:30Z (retry-after)\n",
			"deferred to a later plan (over --max-calls or the quota): 1 session\n    R16 Russian Grand Prix           Race\n",
			"already queued by another run (followed: its outcomes are counted here): 1 session\n    R15 Singapore Grand Prix         Qualifying\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
		out, _, _ = runCLI(t, "status", "--run", "20250901T041500-cccccccc")
		for _, want := range []string{"Run 20250901T041500-cccccccc: running\n", "running for ", "weather pending: 1 session\n    2020/03 Practice 2\n", "rate-limit pauses: 1\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("running run lacks %q:\n%s", want, out)
			}
		}
		out, _, _ = runCLI(t, "status", "--run", "20250901T021626-aaaaaaaa")
		if !strings.Contains(out, ": complete\n") || strings.Contains(out, "unavailable:") || strings.Contains(out, "rate-limit pauses:") {
			t.Errorf("complete run:\n%s", out)
		}
	})

	t.Run("one run as JSON", func(t *testing.T) {
		out, code, msg := runCLI(t, "status", "--run", "20250901T031626-bbbbbbbb", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		var d runDetail
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if d.State != "partial" || d.Status != "failed" || d.RateLimitPauses != 2 || len(d.Pauses) != 2 || d.APICallsMade != 2 || d.ArchiveHits != 3 {
			t.Errorf("run: %+v", d)
		}
		if len(d.Deferred) != 1 || d.Deferred[0].Event != "Russian Grand Prix" || len(d.Queued) != 1 || d.Queued[0].Session != "Qualifying" {
			t.Errorf("deferred %+v, queued %+v", d.Deferred, d.Queued)
		}
		byKind := map[string]kindStatus{}
		for _, k := range d.Kinds {
			byKind[k.Kind] = k
		}
		if w := byKind["weather"]; w.Done != 1 || w.Rows != 60 || len(w.Unavailable) != 2 || w.Unavailable[0].Session != "Practice 1" || w.Unavailable[0].Reason == "" {
			t.Errorf("weather: %+v", w)
		}
		if l := byKind["laps"]; len(l.Failed) != 1 || l.Failed[0].Reason != "laps: parse TimingData: unexpected end of JSON input" || l.Failed[0].Round != 15 {
			t.Errorf("laps: %+v", l)
		}
		if !strings.Contains(out, `"pending": []`) || !strings.Contains(out, `"host": "api.jolpi.ca"`) {
			t.Errorf("JSON lists absent things as null, or lacks the pauses:\n%s", out)
		}
	})

	t.Run("unknown run", func(t *testing.T) {
		out, code, msg := runCLI(t, "status", "--run", "20991231T000000-deadbeef")
		if code != 1 || !strings.Contains(msg, `run "20991231T000000-deadbeef" not found`) || out != "" {
			t.Errorf("exit %d, %q, output %q", code, msg, out)
		}
	})
}

func TestStatusWithoutRuns(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.Database(t))
	_, code, msg := runCLI(t, "status")
	if code != 1 || !strings.Contains(msg, "no run tables") {
		t.Errorf("a database without the schema: exit %d, %q", code, msg)
	}
	url := testenv.Database(t)
	t.Setenv("DATABASE_URL", url[:strings.LastIndex(url, "/")]+"/paddock_test_missing_db")
	_, code, msg = runCLI(t, "status")
	if code != 1 || !strings.Contains(msg, "does not exist") {
		t.Errorf("a database that does not exist: exit %d, %q", code, msg)
	}
}

func TestStatusCommandLine(t *testing.T) {
	r := 5
	for _, tc := range []struct {
		cmd  streams.PlanCommand
		want string
	}{
		{streams.PlanCommand{Year: 2024}, "import --year 2024"},
		{streams.PlanCommand{Year: 2024, Kinds: kinds.Names()}, "import --year 2024"},
		{streams.PlanCommand{Year: 2019, Round: &r, Session: "Qualifying", Kinds: []string{"laps"}}, "import --year 2019 --round 5 --session Qualifying --kinds laps"},
		{streams.PlanCommand{Year: 2024, Session: "Practice 2", Kinds: []string{"laps", "weather"}, Force: true, Refetch: true, MaxCalls: 100, Notify: true},
			`import --year 2024 --session "Practice 2" --kinds laps,weather --force --refetch --max-calls 100 --notify`},
	} {
		if got := commandLine(tc.cmd); got != tc.want {
			t.Errorf("commandLine(%+v) = %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// TestStatusShowsARunNotPlannedYet: an accepted run whose plan is not
// published yet (its schedule loading, or its planner died and another
// takes it over) is "planning", not "running" with nothing planned.
func TestStatusShowsARunNotPlannedYet(t *testing.T) {
	url := statusDB(t)
	t.Setenv("DATABASE_URL", url)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const id = "20250901T051500-eeeeeeee"
	if _, err := conn.Exec(context.Background(), `INSERT INTO runs (run_id, year, command, started_at) VALUES ($1, 2021, '{"year": 2021}', now())`, id); err != nil {
		t.Fatal(err)
	}
	out, code, msg := runCLI(t, "status")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if line := strings.SplitN(strings.TrimSpace(out), "\n", 3)[1]; !strings.Contains(line, id) || !strings.Contains(line, " planning ") {
		t.Fatalf("the newest run is not shown planning:\n%s", out)
	}
	out, code, msg = runCLI(t, "status", "--run", id)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	for _, want := range []string{"Run " + id + ": planning\n", "not planned yet: a planner is loading the season schedule"} {
		if !strings.Contains(out, want) {
			t.Errorf("status --run lacks %q:\n%s", want, out)
		}
	}
}
