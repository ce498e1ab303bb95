package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPlannerKilledWhilePlanning kills the planner process (SIGKILL) while
// it plans an accepted command, and starts another: the run is carried
// out whole by the new planner, the CLI that sent it ends with the run's
// summary, and no run is left running.
func TestPlannerKilledWhilePlanning(t *testing.T) {
	d := newDeployment(t)
	// No loader yet: the 2019 schedule is unknown, so the planner waits for
	// it and is certainly planning when it is killed.
	addr := freeAddr(t)
	planner := d.start("planner", addr)
	d.start("extract-weather", anyPort)
	waitFor(t, 30*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		var r result
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r.out, r.err = d.paddock("import", "--year", "2019", "--round", "14", "--session", "Q", "--kinds", "weather", "--timeout", "90s")
			if r.err == nil || !strings.Contains(r.out, "no planner is running on this NATS server") || time.Now().After(deadline) {
				break
			}
		}
		done <- r
	}()
	// The run exists once the planner took the command.
	waitFor(t, 30*time.Second, func() error {
		select {
		case r := <-done:
			t.Fatalf("the import ended before the planner was killed: %v\n%s", r.err, r.out)
		default:
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM runs`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no run yet")
		}
		return nil
	})
	if err := planner.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = planner.Wait()
	d.start("loader", anyPort)
	d.start("planner", anyPort)

	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the import did not end within 2 minutes of the planner's restart")
	}
	if r.err != nil || !strings.Contains(r.out, "Import complete") || !strings.Contains(r.out, "sessions_succeeded:   1") {
		t.Fatalf("import across the planner's death: %v\n%s", r.err, r.out)
	}
	var runs, running, samples int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status='running') FROM runs`).Scan(&runs, &running); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM weather_samples WHERE year=2019 AND round=14 AND session='Qualifying'`).Scan(&samples); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || running != 0 || samples != 95 {
		t.Fatalf("%d runs (%d still running), %d weather samples; want 1 completed run and 95 samples", runs, running, samples)
	}
	t.Logf("planner killed while planning; the run ended %s after the command was sent", time.Since(started).Round(time.Millisecond))
	d.stopAll()
}
