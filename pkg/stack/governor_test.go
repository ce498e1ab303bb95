package stack_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// weatherDigest fingerprints every stored weather row and ledger outcome.
func weatherDigest(t *testing.T, st *stack.Stack) string {
	t.Helper()
	var d string
	err := st.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*)::text || ':' || coalesce(md5(string_agg(w::text, '|' ORDER BY year, round, session, seq)), '') FROM weather_samples w)
		|| '/' || (SELECT count(*)::text || ':' || md5(string_agg(year||'/'||round||'/'||session||'/'||kind||'/'||status||'/'||rows, '|' ORDER BY year, round, session, kind)) FROM extractions)`).Scan(&d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestQuotaWindowIsNeverExceeded imports a whole recorded year through a
// stand-in that enforces 40 calls per 4 s per host, the governor set to
// the same quota: no request is ever refused, the loader pauses and
// resumes by itself, and the rows equal an unlimited run's.
func TestQuotaWindowIsNeverExceeded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for several quota windows")
	}
	const calls, window = 40, 4 * time.Second
	limited := startWith(t, governor.Config{Window: window, Default: governor.Limit{PerWindow: calls}})
	hosts := []string{upstream.LiveTiming, upstream.Mirror, upstream.Jolpica, upstream.GitHubRaw}
	for _, h := range hosts {
		limited.Standin.Limit(h, calls, window)
	}
	t0 := time.Now()
	_, sum, made := importRun(t, limited, streams.PlanCommand{Year: 2020, Kinds: []string{"weather"}})
	took := time.Since(t0)
	if sum.Status != "completed" || sum.SessionsFailed != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	if v := limited.Standin.Violations(); v != 0 {
		t.Fatalf("the stand-in refused %d requests over its quota", v)
	}
	for _, h := range hosts {
		if n := limited.Standin.MaxInWindow(h, window); n > calls {
			t.Errorf("%s: %d requests within %s, limit %d", h, n, window, calls)
		}
	}
	if sum.RateLimitPauses == 0 || int64(sum.APICallsMade) != made {
		t.Fatalf("pauses %d, api_calls_made %d, stand-in %d", sum.RateLimitPauses, sum.APICallsMade, made)
	}
	t.Logf("%d calls under %d per %s: %d pauses, %s", made, calls, window, sum.RateLimitPauses, took.Round(time.Millisecond))

	free := start(t)
	importRun(t, free, streams.PlanCommand{Year: 2020, Kinds: []string{"weather"}})
	if a, b := weatherDigest(t, limited), weatherDigest(t, free); a != b {
		t.Fatalf("rows differ from an unlimited run: %s vs %s", a, b)
	}
}

// TestRetryAfterOnEveryFifthCall: an upstream answering 429 with
// Retry-After to every fifth request; the import completes, every pause
// is counted, no gap fails, and every request is accounted for.
func TestRetryAfterOnEveryFifthCall(t *testing.T) {
	var throttled atomic.Int64
	st := start(t, func(r *http.Request, n int64) (int, http.Header, bool) {
		if n%5 == 0 {
			throttled.Add(1)
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, true
		}
		return 0, nil, false
	})
	_, sum, made := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14)})
	if sum.Status != "completed" || sum.SessionsFailed != 0 || sum.DataExtracted["weather"] != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if int64(sum.APICallsMade) != made || throttled.Load() == 0 {
		t.Fatalf("api_calls_made %d, stand-in %d, throttled %d", sum.APICallsMade, made, throttled.Load())
	}
	if int64(sum.RateLimitPauses) != throttled.Load() {
		t.Fatalf("rate_limit_pauses %d, the stand-in throttled %d requests", sum.RateLimitPauses, throttled.Load())
	}
	t.Logf("%d requests, %d answered 429: %d pauses, %d gaps failed", made, throttled.Load(), sum.RateLimitPauses, sum.SessionsFailed)
}

// TestMaxCallsDefersWhatDoesNotFit: --max-calls spends at most that many
// calls; the rest is deferred and a later plan picks it up.
func TestMaxCallsDefersWhatDoesNotFit(t *testing.T) {
	st := start(t)
	reply, sum, _ := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), MaxCalls: 5, Kinds: []string{"weather"}})
	if len(reply.Report.SessionGaps) != 2 || len(reply.Report.Deferred) != 3 || reply.Report.EstimatedCalls != 4 {
		t.Fatalf("report: %d gaps, %d deferred, %d estimated", len(reply.Report.SessionGaps), len(reply.Report.Deferred), reply.Report.EstimatedCalls)
	}
	if sum.APICallsMade-sum.ScheduleCalls != 4 {
		t.Fatalf("sessions took %d calls, the cap allowed 5 (4 planned)", sum.APICallsMade-sum.ScheduleCalls)
	}
	reply, _, _ = importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Kinds: []string{"weather"}})
	if len(reply.Report.SessionGaps) != 3 {
		t.Fatalf("the deferred sessions were not planned again: %d gaps", len(reply.Report.SessionGaps))
	}
	if !strings.Contains(reply.Report.Quota[0].Host, "livetiming") {
		t.Fatalf("quota line %+v", reply.Report.Quota)
	}
}

// TestDatabaseConnectionsDroppedMidImport cuts every PostgreSQL
// connection of the run's database several times while a season imports:
// handlers that lose their connection are retried, the pool reconnects,
// and the run completes with every session settled and no row twice.
func TestDatabaseConnectionsDroppedMidImport(t *testing.T) {
	st := startWith(t, governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000, MinInterval: 15 * time.Millisecond}})
	var db string
	if err := st.Pool.QueryRow(context.Background(), `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(context.Background(), testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	stop := make(chan struct{})
	cuts := make(chan int, 1)
	go func() {
		n := 0
		defer func() { cuts <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(700 * time.Millisecond):
			}
			var killed int
			_ = admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid()`, db).Scan(&killed)
			if killed > 0 {
				n++
			}
		}
	}()
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Kinds: []string{"weather"}})
	close(stop)
	n := <-cuts
	if n == 0 {
		t.Fatal("no connection was cut: the import was too quick for the test")
	}
	if sum.Status != "completed" || sum.SessionsProcessed != sum.GapsDetected || int64(sum.APICallsMade) != calls {
		t.Fatalf("after %d cuts: %+v (stand-in %d)", n, sum, calls)
	}
	settled := count(t, st, `SELECT count(*) FROM extractions WHERE year=2019 AND status IN ('done','unavailable')`)
	samples := count(t, st, `SELECT count(*) FROM weather_samples WHERE year=2019`)
	if settled != sum.GapsDetected || samples != 95 {
		t.Fatalf("after %d cuts: %d of %d sessions settled, %d samples (want 95)", n, settled, sum.GapsDetected, samples)
	}
	t.Logf("%d times every connection was cut; %d sessions settled, %d calls", n, settled, calls)
}
