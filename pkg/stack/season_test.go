package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// dryRun asks the planner for a season's gap report without planning.
func dryRun(t *testing.T, st *stack.Stack, year int) *streams.GapReport {
	t.Helper()
	reply, err := client.Plan(context.Background(), st.NC, streams.PlanCommand{Year: year, DryRun: true}, time.Minute)
	if err != nil {
		t.Fatalf("gaps %d: %v", year, err)
	}
	if reply.RunID != "" {
		t.Fatalf("a dry run got run id %q", reply.RunID)
	}
	return reply.Report
}

// recorded reports whether the recordings hold a session's feed.
func recorded(t *testing.T, archivePath, feed string) bool {
	for _, host := range []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"} {
		if _, err := os.Stat(filepath.Join(testenv.Recorded(t), host, "static", archivePath, feed)); err == nil {
			return true
		}
	}
	return false
}

// TestGapReportsMatchTheRecordings: for every recorded season, the gap
// report of an empty database lists every past session as missing, an
// import then extracts exactly what the recordings hold (a kind is done
// where its feed is recorded and unavailable where not), and afterwards
// the report is empty and a second import plans nothing and calls nothing.
func TestGapReportsMatchTheRecordings(t *testing.T) {
	st := start(t)
	ctx := context.Background()
	for _, year := range recordedYears {
		t.Run(itoa(year), func(t *testing.T) {
			empty := dryRun(t, st, year)
			var past, events int
			if err := st.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT round) FROM sessions
				WHERE year=$1 AND coalesce(end_utc, start_utc + interval '2 hours') < now()`, year).Scan(&past, &events); err != nil {
				t.Fatal(err)
			}
			if past == 0 || empty.Sessions != past || len(empty.MissingSessions) != past || len(empty.SessionGaps) != past ||
				len(empty.MissingRaces) != events || empty.Events != events {
				t.Fatalf("empty database: report %d sessions, %d missing, %d gaps, %d missing races of %d events; the schedule has %d past sessions",
					empty.Sessions, len(empty.MissingSessions), len(empty.SessionGaps), len(empty.MissingRaces), empty.Events, past)
			}
			circuits := 0
			for _, g := range empty.SessionGaps {
				for _, k := range g.Kinds {
					if k == "circuit" {
						circuits++
					}
				}
			}
			if circuits != events {
				t.Errorf("circuit planned %d times for %d events: once per event", circuits, events)
			}

			_, sum, calls := importRun(t, st, streams.PlanCommand{Year: year})
			if sum.SessionsFailed != 0 || int64(sum.APICallsMade) != calls {
				t.Fatalf("import: %+v (stand-in %d)", sum, calls)
			}
			rows, err := st.Pool.Query(ctx, `SELECT s.archive_path, x.kind, x.status, s.round, s.name FROM extractions x
				JOIN sessions s ON (s.year, s.round, s.name) = (x.year, x.round, x.session) WHERE x.year=$1`, year)
			if err != nil {
				t.Fatal(err)
			}
			feedOf := map[string]string{"weather": "WeatherData.jsonStream", "laps": "TimingData.jsonStream", "drivers": "DriverList.jsonStream"}
			checked := 0
			for rows.Next() {
				var path, kind, status, name string
				var round int
				if err := rows.Scan(&path, &kind, &status, &round, &name); err != nil {
					t.Fatal(err)
				}
				feed, ok := feedOf[kind]
				if !ok {
					continue
				}
				checked++
				want := "unavailable"
				if recorded(t, path, feed) {
					want = "done"
				}
				if status != want {
					t.Errorf("%d/%d %s %s: %s, the recordings imply %s", year, round, name, kind, status, want)
				}
			}
			rows.Close()
			if checked != past*len(feedOf) {
				t.Errorf("%d session outcomes for %d past sessions", checked, past)
			}

			after := dryRun(t, st, year)
			if len(after.SessionGaps) != 0 || len(after.MissingSessions) != 0 || len(after.MissingRaces) != 0 {
				t.Errorf("after the import: %d gaps, %d missing sessions, %d missing races", len(after.SessionGaps), len(after.MissingSessions), len(after.MissingRaces))
			}
			_, again, calls := importRun(t, st, streams.PlanCommand{Year: year})
			if again.GapsDetected != 0 || calls != 0 {
				t.Errorf("second import: %d gaps, %d calls", again.GapsDetected, calls)
			}
		})
	}
}
