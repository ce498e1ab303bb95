package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// dlqKinds are the kinds the dead-letter test imports: weather is the one
// poisoned, the others show that a replay re-runs only what was given up.
var dlqKinds = []string{"weather", "drivers", "race-control"}

// TestDeadLetterReplayImports: weather's table refuses every row (a
// trigger's exception), which no retry can cure, so its extractor
// dead-letters the manifest at its first delivery; the run fails naming it. 'paddock dlq ls' lists it with its run and session and
// 'paddock status' counts it. Once the table takes rows again, 'paddock
// dlq replay ID' re-sends it to the weather extractor alone, follows the
// replay's run to a complete summary, and the tables equal those of a
// clean import; the DLQ no longer lists it.
func TestDeadLetterReplayImports(t *testing.T) {
	session := []string{"--year", "2019", "--round", "14", "--session", "Q"}
	kindsFlag := []string{"--kinds", strings.Join(dlqKinds, ",")}

	// A clean import, in the embedded default, for the tables to equal.
	cleanDB := testenv.Database(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("DATABASE_URL", cleanDB)
	out, code, msg := runCLI(t, append(append([]string{"import", "--recorded", testenv.Recorded(t), "--data-dir", t.TempDir()}, session...), kindsFlag...)...)
	if code != 0 {
		t.Fatalf("clean import: exit %d (%s)\n%s", code, msg, out)
	}
	want := dlqExports(t, session)

	// Running services whose weather table refuses rows.
	db := testenv.Database(t)
	natsURL := startServices(t, db)
	t.Setenv("NATS_URL", natsURL)
	t.Setenv("DATABASE_URL", db)
	pool := openPool(t, db)
	if _, err := pool.Exec(context.Background(), `
		CREATE FUNCTION refuse_weather() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'weather_samples refuses rows'; END $$;
		CREATE TRIGGER refuse_weather BEFORE INSERT ON weather_samples FOR EACH STATEMENT EXECUTE FUNCTION refuse_weather()`); err != nil {
		t.Fatal(err)
	}
	out, code, msg = runCLI(t, append(append([]string{"import"}, session...), kindsFlag...)...)
	t.Logf("poisoned import (exit %d, %s):\n%s", code, msg, out)
	if code != 1 || !strings.Contains(out, "dead-lettered by extract-weather") || !strings.Contains(out, "weather_samples refuses rows") {
		t.Fatalf("want the import failed with weather dead-lettered: exit %d (%s)\n%s", code, msg, out)
	}

	// dlq ls: the dead letter with its run and session.
	out, code, msg = runCLI(t, "dlq", "ls")
	t.Logf("dlq ls:\n%s", out)
	if code != 0 || !strings.Contains(out, "extract-weather") || !strings.Contains(out, "2019/14 Qualifying") ||
		!strings.Contains(out, "retrying cannot help") || !strings.Contains(out, "f1.session.loaded.2019.14.Q") {
		t.Fatalf("dlq ls: exit %d (%s)\n%s", code, msg, out)
	}
	out, code, msg = runCLI(t, "dlq", "ls", "--json", "--consumer", "extract-weather")
	var listed struct {
		DeadLetters []struct {
			ID         uint64 `json:"id"`
			Consumer   string `json:"consumer"`
			RunID      string `json:"run_id"`
			Session    string `json:"session"`
			Reason     string `json:"reason"`
			Deliveries uint64 `json:"deliveries"`
		} `json:"dead_letters"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed.DeadLetters) != 1 ||
		listed.DeadLetters[0].RunID == "" || listed.DeadLetters[0].Session != "2019/14 Qualifying" ||
		listed.DeadLetters[0].Deliveries != 1 {
		t.Fatalf("dlq ls --json: exit %d (%s)\n%s", code, msg, out)
	}
	id := listed.DeadLetters[0].ID
	if out, _, _ := runCLI(t, "dlq", "ls", "--json", "--consumer", "extract-laps"); !strings.Contains(out, `"dead_letters": []`) {
		t.Errorf("dlq ls --consumer extract-laps lists others' dead letters:\n%s", out)
	}
	if n, ok := heldMetric(t, "extract-weather"); !ok || n != 1 {
		t.Errorf("paddock_dead_letters{consumer=\"extract-weather\"} = %v (reported: %v), want 1", n, ok)
	}
	out, code, msg = runCLI(t, "status")
	if code != 0 || !strings.Contains(out, "dead letters: 1 (paddock dlq ls)") {
		t.Errorf("status does not count the dead letter: exit %d (%s)\n%s", code, msg, out)
	}

	// Replayed before the cause is fixed, it fails again and is back in
	// the DLQ under a new ID, with its new run.
	out, code, msg = runCLI(t, "dlq", "replay", fmt.Sprint(id))
	t.Logf("dlq replay %d before the fix (exit %d, %s):\n%s", id, code, msg, out)
	if code != 1 || !strings.Contains(out, "❌ Dead-letter replay failed") || !strings.Contains(out, "weather_samples refuses rows") {
		t.Fatalf("a replay before the fix: exit %d (%s), want 1 and the failure\n%s", code, msg, out)
	}
	out, _, _ = runCLI(t, "dlq", "ls", "--json")
	if json.Unmarshal([]byte(out), &listed) != nil || len(listed.DeadLetters) != 1 || listed.DeadLetters[0].ID == id {
		t.Fatalf("after a failed replay, want the message back under a new ID:\n%s", out)
	}
	firstRun, id := listed.DeadLetters[0].RunID, listed.DeadLetters[0].ID

	// The cause fixed, the replay imports it.
	if _, err := pool.Exec(context.Background(), `DROP TRIGGER refuse_weather ON weather_samples`); err != nil {
		t.Fatal(err)
	}
	out, code, msg = runCLI(t, "dlq", "replay", fmt.Sprint(id))
	t.Logf("dlq replay %d:\n%s", id, out)
	if code != 0 || !strings.Contains(out, "✅ Dead-letter replay complete - Season 2019") || !strings.Contains(out, "data_extracted:       {weather: 1}") {
		t.Fatalf("dlq replay %d: exit %d (%s)\n%s", id, code, msg, out)
	}
	got := dlqExports(t, session)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s after the replay differs from a clean import's:\n%s\nwant\n%s", k, got[k], w)
		}
	}
	// Only weather ran again: the other kinds keep the first import's
	// outcome.
	var reruns int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM extractions WHERE kind <> 'weather' AND run_id IN
		(SELECT run_id FROM runs WHERE command ? 'dlq_replay')`).Scan(&reruns); err != nil || reruns != 0 {
		t.Errorf("kinds other than weather extracted by a replay: %d (%v)", reruns, err)
	}
	// The failed replay's run stays failed and names the run that
	// followed; status lists the replays by their command.
	out, _, _ = runCLI(t, "status", "--run", firstRun)
	if !strings.Contains(out, "replayed as run ") {
		t.Errorf("status --run %s does not name the replay that followed:\n%s", firstRun, out)
	}
	if out, _, _ = runCLI(t, "status"); !strings.Contains(out, "dlq replay "+fmt.Sprint(id)) {
		t.Errorf("status does not list the replay's run:\n%s", out)
	}
	if n, ok := heldMetric(t, "extract-weather"); !ok || n != 0 {
		t.Errorf("after the replay paddock_dead_letters{consumer=\"extract-weather\"} = %v (reported: %v), want 0", n, ok)
	}
	out, code, _ = runCLI(t, "dlq", "ls")
	if code != 0 || !strings.Contains(out, "no dead letters") {
		t.Errorf("dlq ls after the replay:\n%s", out)
	}
	if out, _, _ := runCLI(t, "status"); strings.Contains(out, "dead letters:") {
		t.Errorf("status still counts dead letters:\n%s", out)
	}
	if _, code, msg := runCLI(t, "dlq", "replay", fmt.Sprint(id)); code != 1 || !strings.Contains(msg, "paddock dlq ls") {
		t.Errorf("replaying it again: exit %d, %q; want exit 1 naming 'paddock dlq ls'", code, msg)
	}
}

// TestDeadLetterReplayEmbedded: the embedded default keeps its dead
// letters in its data directory; 'dlq ls' reads them there and 'dlq replay
// --all' runs the services in-process to import them.
func TestDeadLetterReplayEmbedded(t *testing.T) {
	db, dir := testenv.Database(t), t.TempDir()
	st := startStack(t, stack.Config{DataDir: dir, DatabaseURL: db})
	if _, err := st.Pool.Exec(context.Background(), `
		CREATE FUNCTION refuse_weather() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'weather_samples refuses rows'; END $$;
		CREATE TRIGGER refuse_weather BEFORE INSERT ON weather_samples FOR EACH STATEMENT EXECUTE FUNCTION refuse_weather();
		`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	round := 14
	reply, err := client.Plan(ctx, st.NC, streams.PlanCommand{Year: 2019, Round: &round, Session: "Q", Kinds: []string{"weather"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := w.Follow(ctx, reply.RunID, nil)
	w.Close()
	if err != nil || sum.Status != "failed" {
		t.Fatalf("poisoned run: %v %+v", err, sum)
	}
	if _, err := st.Pool.Exec(ctx, `DROP TRIGGER refuse_weather ON weather_samples`); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	t.Setenv("NATS_URL", "")
	t.Setenv("DATABASE_URL", db)
	out, code, msg := runCLI(t, "dlq", "ls", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "1 dead letter") || !strings.Contains(out, "run "+reply.RunID+", 2019/14 Qualifying weather") {
		t.Fatalf("dlq ls --data-dir: exit %d (%s)\n%s", code, msg, out)
	}
	out, code, msg = runCLI(t, "dlq", "replay", "--all", "--data-dir", dir, "--recorded", testenv.Recorded(t))
	if code != 0 || !strings.Contains(out, "data_extracted:       {weather: 1}") {
		t.Fatalf("dlq replay --all: exit %d (%s)\n%s", code, msg, out)
	}
	if out, _, _ := runCLI(t, "dlq", "ls", "--data-dir", dir); !strings.Contains(out, "no dead letters") {
		t.Errorf("dlq ls after the replay:\n%s", out)
	}
	if out, _, _ := runCLI(t, "export", "weather", "--year", "2019", "--round", "14", "--session", "Q"); strings.Count(out, "\n") != 96 {
		t.Errorf("weather after the replay: %d lines, want a header and 95 rows", strings.Count(out, "\n"))
	}
}

// dlqExports exports every kind of dlqKinds for the session from
// DATABASE_URL.
func dlqExports(t *testing.T, session []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range dlqKinds {
		csv, code, msg := runCLI(t, append([]string{"export", k}, session...)...)
		if code != 0 {
			t.Fatalf("export %s: exit %d (%s)", k, code, msg)
		}
		if strings.Count(csv, "\n") < 2 {
			t.Fatalf("export %s has no rows:\n%s", k, csv)
		}
		out[k] = csv
	}
	return out
}

// startServices runs every service on the database at db with the recorded
// upstream and a retry budget of two seconds, and returns the NATS URL
// other processes reach them on.
func startServices(t *testing.T, db string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	startStack(t, stack.Config{DataDir: t.TempDir(), ListenPort: port, DatabaseURL: db})
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// startStack starts cfg with the recorded upstream and a retry budget of
// two seconds; it is closed at the end of the test (Close again is fine).
func startStack(t *testing.T, cfg stack.Config) *stack.Stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg.Recorded = testenv.Recorded(t)
	cfg.Upstream = upstream.Config{RetryBackoff: 5 * time.Millisecond}
	cfg.Quota = governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000}}
	cfg.Retry = consume.Policy{First: 50 * time.Millisecond, Max: 500 * time.Millisecond, For: 2 * time.Second}
	st, err := stack.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start services: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close services: %v", err)
		}
	})
	return st
}

// openPool connects to the database at db for the test's own statements.
func openPool(t *testing.T, db string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// heldMetric reads paddock_dead_letters of consumer as this process's
// /metrics would serve it.
func heldMetric(t *testing.T, consumer string) (float64, bool) {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "paddock_dead_letters" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" && l.GetValue() == consumer {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
