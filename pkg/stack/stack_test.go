package stack_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/kinds/weather"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/pkg/upstream"
	"github.com/paddock-f1/paddock/streams"
)

// start brings up the embedded default on a fresh database and the
// recorded upstream.
func start(t *testing.T, fault ...func(r *http.Request, n int64) (int, http.Header, bool)) *stack.Stack {
	t.Helper()
	return startWith(t, governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000}}, fault...)
}

// startWith is start with the given quota.
func startWith(t *testing.T, quota governor.Config, fault ...func(r *http.Request, n int64) (int, http.Header, bool)) *stack.Stack {
	t.Helper()
	return startFull(t, quota, "", fault...)
}

// startFull is startWith posting notifications to slackURL.
func startFull(t *testing.T, quota governor.Config, slackURL string, fault ...func(r *http.Request, n int64) (int, http.Header, bool)) *stack.Stack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: t.TempDir(), DatabaseURL: testenv.Database(t), Recorded: testenv.Recorded(t),
		Upstream: upstream.Config{RetryBackoff: 5 * time.Millisecond},
		Quota:    quota, SlackWebhookURL: slackURL,
	}, log)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	if len(fault) > 0 {
		st.Standin.Fault = fault[0]
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return st
}

// importRun plans cmd and follows the run to its summary, returning the
// reply, the summary and the upstream requests the stand-in answered.
func importRun(t *testing.T, st *stack.Stack, cmd streams.PlanCommand) (*streams.PlanReply, *streams.Summary, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := st.Standin.Requests()
	w, err := client.NewWatch(ctx, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reply, err := client.Plan(ctx, st.NC, cmd, time.Minute)
	if err != nil {
		t.Fatalf("plan %+v: %v", cmd, err)
	}
	sum, err := w.Follow(ctx, reply.RunID, nil)
	if err != nil {
		t.Fatalf("follow %s: %v", reply.RunID, err)
	}
	return reply, sum, st.Standin.Requests() - before
}

func round(r int) *int { return &r }

// referenceSession is a FastF1 reference session folder.
type referenceSession struct {
	dir     string
	Year    int    `json:"year"`
	Round   int    `json:"round"`
	Session string `json:"session"`
}

func referenceSessions(t *testing.T, file string) []referenceSession {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(testenv.Reference(t), "*", file))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no reference %s found: %v", file, err)
	}
	var out []referenceSession
	for _, p := range dirs {
		dir := filepath.Dir(p)
		b, err := os.ReadFile(filepath.Join(dir, "info.json"))
		if err != nil {
			t.Fatal(err)
		}
		rs := referenceSession{dir: dir}
		if err := json.Unmarshal(b, &rs); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		out = append(out, rs)
	}
	return out
}

// TestWeatherEqualsFastF1 imports every reference session that has a
// weather.csv and compares the export with FastF1's, cell by cell.
func TestWeatherEqualsFastF1(t *testing.T) {
	st := start(t)
	cells := 0
	for _, rs := range referenceSessions(t, "weather.csv") {
		t.Run(filepath.Base(rs.dir), func(t *testing.T) {
			_, sum, calls := importRun(t, st, streams.PlanCommand{Year: rs.Year, Round: round(rs.Round), Session: rs.Session, Kinds: []string{"weather"}})
			if sum.Status != "completed" || sum.DataExtracted["weather"] != 1 {
				t.Fatalf("summary = %+v", sum)
			}
			if int64(sum.APICallsMade) != calls {
				t.Errorf("api_calls_made = %d, stand-in answered %d", sum.APICallsMade, calls)
			}
			samples, err := weather.Read(context.Background(), st.Pool, f1.Key(rs.Year, rs.Round, rs.Session))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := weather.WriteCSV(&got, samples); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(rs.dir, "weather.csv"))
			if err != nil {
				t.Fatal(err)
			}
			cells += compareCells(t, got.Bytes(), want)
		})
	}
	t.Logf("weather: %d cells compared with FastF1, all equal", cells)
}

// compareCells fails on the first differing cells and returns how many
// cells it compared.
func compareCells(t *testing.T, got, want []byte) int {
	t.Helper()
	g, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("our csv: %v", err)
	}
	w, err := csv.NewReader(bytes.NewReader(want)).ReadAll()
	if err != nil {
		t.Fatalf("reference csv: %v", err)
	}
	if len(g) != len(w) {
		t.Fatalf("rows: got %d, FastF1 has %d", len(g), len(w))
	}
	n, bad := 0, 0
	for i := range w {
		if len(g[i]) != len(w[i]) {
			t.Fatalf("row %d: %d cells, FastF1 has %d", i, len(g[i]), len(w[i]))
		}
		for j := range w[i] {
			n++
			if g[i][j] != w[i][j] {
				bad++
				if bad <= 5 {
					t.Errorf("row %d column %s: got %q, FastF1 %q", i, w[0][j], g[i][j], w[i][j])
				}
			}
		}
	}
	if !bytes.Equal(got, want) && bad == 0 {
		t.Errorf("cells agree but bytes differ (quoting or line ends)")
	}
	return n
}

// rowVersions returns the physical versions (xmin) of a session's weather
// rows and ledger entry: unchanged versions mean no row was written.
func rowVersions(t *testing.T, st *stack.Stack) string {
	t.Helper()
	var v string
	err := st.Pool.QueryRow(context.Background(), `SELECT
		(SELECT string_agg(xmin::text, ',' ORDER BY seq) FROM weather_samples WHERE year=2019 AND round=14 AND session='Qualifying')
		|| '|' || (SELECT xmin::text FROM extractions WHERE year=2019 AND round=14 AND session='Qualifying' AND kind='weather')`).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReimportCostsNothing: the same import again plans nothing, calls
// nothing and writes nothing; --force re-extracts from the archive alone.
func TestReimportCostsNothing(t *testing.T) {
	st := start(t)
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}}
	reply, sum, calls := importRun(t, st, cmd)
	// Three schedule sources, then WeatherData and RaceControlMessages.
	if calls != 5 || sum.APICallsMade != 5 || reply.Report.EstimatedCalls != 2 {
		t.Fatalf("first import: calls %d, summary %d, estimated %d; want 5, 5, 2", calls, sum.APICallsMade, reply.Report.EstimatedCalls)
	}
	first := rowVersions(t, st)

	reply, sum, calls = importRun(t, st, cmd)
	if calls != 0 || sum.APICallsMade != 0 || len(reply.Report.SessionGaps) != 0 || sum.GapsDetected != 0 {
		t.Fatalf("second import: calls %d, summary %+v, gaps %d", calls, sum, len(reply.Report.SessionGaps))
	}
	if again := rowVersions(t, st); again != first {
		t.Fatalf("second import rewrote rows: %s -> %s", first, again)
	}

	cmd.Force = true
	reply, sum, calls = importRun(t, st, cmd)
	if calls != 0 || sum.APICallsMade != 0 || sum.ArchiveHits != 2 || sum.DataExtracted["weather"] != 1 || reply.Report.EstimatedCalls != 0 {
		t.Fatalf("forced import: calls %d, summary %+v, estimated %d", calls, sum, reply.Report.EstimatedCalls)
	}
	var n int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM weather_samples WHERE year=2019 AND round=14`).Scan(&n); err != nil || n != 95 {
		t.Fatalf("after force: %d samples (%v), want 95", n, err)
	}
}

// TestWholeYearEndsWithEverySessionSettled imports a whole recorded year
// for each way the upstream serves it: from F1 with Index.json (2019), from
// the mirror only (2022), without any Index.json (2020).
func TestWholeYearEndsWithEverySessionSettled(t *testing.T) {
	st := start(t)
	for _, year := range []int{2019, 2020, 2022} {
		t.Run(itoa(year), func(t *testing.T) {
			// Weather alone: one required feed, so the estimate is exact
			// whether a session has data or not.
			reply, sum, calls := importRun(t, st, streams.PlanCommand{Year: year, Kinds: []string{"weather"}})
			if int64(sum.APICallsMade) != calls {
				t.Errorf("weather: api_calls_made = %d, stand-in answered %d", sum.APICallsMade, calls)
			}
			if est := reply.Report.EstimatedCalls; est != sum.APICallsMade-sum.ScheduleCalls || est != reply.Report.EstimatedMinCalls {
				t.Errorf("weather: estimated %d..%d, the sessions took %d calls", reply.Report.EstimatedMinCalls, est, sum.APICallsMade-sum.ScheduleCalls)
			}
			// Every kind: the sessions' calls lie within the estimate's range.
			reply, sum, calls = importRun(t, st, streams.PlanCommand{Year: year})
			if int64(sum.APICallsMade) != calls {
				t.Errorf("api_calls_made = %d, stand-in answered %d", sum.APICallsMade, calls)
			}
			if took := sum.APICallsMade - sum.ScheduleCalls; took < sum.EstimatedMinCalls || took > sum.EstimatedCalls || sum.EstimatedCalls != reply.Report.EstimatedCalls {
				t.Errorf("estimated %d..%d (report %d), the sessions took %d calls", sum.EstimatedMinCalls, sum.EstimatedCalls, reply.Report.EstimatedCalls, took)
			}
			if sum.GapsDetected != len(reply.Report.SessionGaps) || sum.SessionsProcessed != sum.GapsDetected {
				t.Errorf("gaps %d, processed %d, report %d", sum.GapsDetected, sum.SessionsProcessed, len(reply.Report.SessionGaps))
			}
			if sum.SessionsSucceeded+sum.SessionsUnavail != sum.SessionsProcessed || sum.SessionsFailed != 0 {
				t.Errorf("summary %+v: every session must be done or unavailable", sum)
			}
			pending := count(t, st, `SELECT count(*) FROM run_items WHERE run_id=$1 AND status='pending'`, reply.RunID)
			unsettled := count(t, st, `SELECT count(*) FROM sessions s
				WHERE s.year=$1 AND coalesce(s.end_utc, s.start_utc + interval '2 hours') < now()
				AND NOT EXISTS (SELECT 1 FROM extractions x WHERE (x.year, x.round, x.session) = (s.year, s.round, s.name)
					AND x.kind='weather' AND x.status IN ('done','unavailable'))`, year)
			sessions := count(t, st, `SELECT count(*) FROM sessions WHERE year=$1`, year)
			if pending != 0 || unsettled != 0 || sessions < 80 {
				t.Errorf("pending %d, sessions without outcome %d, sessions %d", pending, unsettled, sessions)
			}
			t.Logf("%d, every kind: %d sessions, %d with data, %d unavailable, %d upstream calls (stand-in counted %d)",
				year, sum.SessionsProcessed, sum.SessionsSucceeded, sum.SessionsUnavail, sum.APICallsMade, calls)

			// Nothing is left to do, and asking again costs nothing.
			_, again, calls := importRun(t, st, streams.PlanCommand{Year: year})
			if again.GapsDetected != 0 || calls != 0 {
				t.Errorf("re-import of %d: %d gaps, %d calls", year, again.GapsDetected, calls)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestBadPlanCommandsPublishNothing: every refused command says why and
// leaves PLANS and GAPS untouched.
func TestBadPlanCommandsPublishNothing(t *testing.T) {
	st := start(t)
	ctx := context.Background()
	// Make the 2019 schedule known so rounds and sessions are checked against it.
	importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"})
	count := func() (n uint64) {
		for _, name := range []string{streams.Plans, streams.Gaps} {
			s, err := st.JS.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += info.State.LastSeq
		}
		return n
	}
	before := count()
	cases := []struct {
		name string
		cmd  streams.PlanCommand
		want string
	}{
		{"year before F1", streams.PlanCommand{Year: 1949}, "year 1949 is outside the archive"},
		{"year before the archive", streams.PlanCommand{Year: 2010}, "starts in 2018"},
		{"future year", streams.PlanCommand{Year: 2100}, "year 2100 is outside the archive"},
		{"round 0", streams.PlanCommand{Year: 2019, Round: round(0)}, "round 0 does not exist"},
		{"round 99", streams.PlanCommand{Year: 2019, Round: round(99)}, "round 99 does not exist"},
		{"round beyond the season", streams.PlanCommand{Year: 2019, Round: round(24)}, "the season has rounds 1 to 21"},
		{"unknown kind", streams.PlanCommand{Year: 2019, Kinds: []string{"tyres"}}, `unknown kind "tyres"`},
		{"unknown session", streams.PlanCommand{Year: 2019, Session: "Warmup"}, `unknown session "Warmup"`},
		{"session not in the round", streams.PlanCommand{Year: 2019, Round: round(14), Session: "Sprint"}, "has no Sprint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := client.Plan(ctx, st.NC, c.cmd, 30*time.Second)
			var pe *client.PlanError
			if !errors.As(err, &pe) || pe.Code != "400" {
				t.Fatalf("err = %v, want a 400 refusal", err)
			}
			if !bytes.Contains([]byte(pe.Message), []byte(c.want)) {
				t.Fatalf("message %q does not say %q", pe.Message, c.want)
			}
		})
	}
	if after := count(); after != before {
		t.Fatalf("refused commands published %d messages", after-before)
	}
}

// TestRedeliveredManifestGivesSameRows replays the session's manifest
// twice (as a redelivery would) and finds the same rows, never duplicates,
// for every kind of the registry: each export reads back what it did
// before, row for row.
func TestRedeliveredManifestGivesSameRows(t *testing.T) {
	st := start(t)
	ctx := context.Background()
	key := f1.Key(2019, 14, "Qualifying")
	importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"})
	want := exports(t, st, key)
	if want["laps"] == "" || strings.HasPrefix(want["laps"], "0 rows") {
		t.Fatalf("nothing imported: %v", want)
	}
	loaded, err := st.JS.Stream(ctx, streams.Loaded)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := loaded.GetLastMsgForSubject(ctx, streams.SessionLoaded(key))
	if err != nil {
		t.Fatal(err)
	}
	var m streams.Manifest
	if err := streams.Decode(raw.Data, &m); err != nil {
		t.Fatal(err)
	}
	m.Force = true // extract again even though the ledger has this input
	for i := 0; i < 2; i++ {
		m.RunID = "replay-" + itoa(i)
		if _, err := st.JS.Publish(ctx, raw.Subject, streams.Encode(m)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until both deliveries reported every kind's outcome.
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cons, err := st.JS.OrderedConsumer(wctx, streams.Events, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.Extracted("*", key)},
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for seen["replay-0"] < len(m.Kinds) || seen["replay-1"] < len(m.Kinds) {
		msg, err := cons.Next(jetstream.FetchMaxWait(time.Until(deadlineOf(wctx))))
		if err != nil {
			t.Fatalf("replayed manifests not extracted by all %d kinds within 60s (seen %v): %v", len(m.Kinds), seen, err)
		}
		var e streams.Extraction
		if streams.Decode(msg.Data(), &e) == nil {
			seen[e.RunID]++
		}
	}
	got := exports(t, st, key)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s after two redeliveries: %s, before: %s", name, got[name], w)
		}
	}
	t.Logf("every kind's rows unchanged after two redeliveries: %v", got)
}

// TestBrokenFeedFailsWithItsReason: a feed the upstream keeps answering
// 502 fails its kind with a reason naming the URL; the session is re-planned
// and completes once the upstream recovers.
func TestBrokenFeedFailsWithItsReason(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	st := start(t, func(r *http.Request, n int64) (int, http.Header, bool) {
		return http.StatusBadGateway, nil, broken.Load() && strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/WeatherData.jsonStream")
	})
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Qualifying"}
	_, sum, calls := importRun(t, st, cmd)
	if sum.Status != "failed" || sum.SessionsFailed != 1 || len(sum.Failures) != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	// Graceful degradation: the session's other kinds still complete.
	if sum.SessionsPartial != 1 || sum.DataExtracted["laps"] != 1 || sum.DataExtracted["drivers"] != 1 {
		t.Fatalf("the other kinds must complete (partial session): %+v", sum)
	}
	t.Logf("reported failure: %s", sum.Failures[0])
	if !strings.Contains(sum.Failures[0], "WeatherData.jsonStream") || !strings.Contains(sum.Failures[0], "502") {
		t.Fatalf("failure %q does not name the feed and the status", sum.Failures[0])
	}
	if int64(sum.APICallsMade) != calls {
		t.Fatalf("api_calls_made %d, stand-in answered %d (retries and the mirror count)", sum.APICallsMade, calls)
	}
	broken.Store(false)
	_, sum, _ = importRun(t, st, cmd)
	if sum.Status != "completed" || sum.DataExtracted["weather"] != 1 {
		t.Fatalf("after recovery: %+v", sum)
	}
}

// TestRateLimitedLoadIsRetried: a 429 with Retry-After pauses the gap and
// retries it; the session completes, nothing fails, and the throttled call
// is counted.
func TestRateLimitedLoadIsRetried(t *testing.T) {
	var throttled atomic.Int32
	st := start(t, func(r *http.Request, n int64) (int, http.Header, bool) {
		if strings.HasSuffix(r.URL.Path, "/WeatherData.jsonStream") && throttled.Add(1) == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, true
		}
		return 0, nil, false
	})
	t0 := time.Now()
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}})
	if sum.Status != "completed" || sum.SessionsFailed != 0 || sum.DataExtracted["weather"] != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if int64(sum.APICallsMade) != calls || calls != 6 {
		t.Fatalf("api_calls_made %d, stand-in %d; want 6 (5 + the throttled one)", sum.APICallsMade, calls)
	}
	if waited := time.Since(t0); waited < time.Second {
		t.Fatalf("Retry-After: 1 not honoured: done after %s", waited)
	}
}

// TestMalformedFeedFailsAndRefetchRecovers: a feed that is not a
// jsonStream fails its kind with a clear reason; the next plain import
// asks the upstream for it anew, replacing the archived response, and
// completes.
func TestMalformedFeedFailsAndRefetchRecovers(t *testing.T) {
	var garbage atomic.Bool
	garbage.Store(true)
	st := start(t, func(r *http.Request, n int64) (int, http.Header, bool) {
		return http.StatusOK, nil, garbage.Load() && strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/WeatherData.jsonStream")
	})
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"}
	_, sum, _ := importRun(t, st, cmd)
	if sum.Status != "failed" || len(sum.Failures) != 1 || !strings.Contains(sum.Failures[0], "WeatherData.jsonStream line 1: ") ||
		!strings.Contains(sum.Failures[0], "the next import asks the upstream for WeatherData.jsonStream anew") {
		t.Fatalf("summary = %+v", sum)
	}
	t.Logf("reported failure: %s", sum.Failures[0])
	garbage.Store(false)
	_, sum, calls := importRun(t, st, cmd)
	if sum.Status != "completed" || sum.DataExtracted["weather"] != 1 || calls != 1 {
		t.Fatalf("after a plain import: %+v, %d calls (want 1: WeatherData asked anew)", sum, calls)
	}
}

// logLevel is the services' log level in verbose test runs
// (PADDOCK_LOG_LEVEL=info for more).
func logLevel() slog.Level {
	if os.Getenv("PADDOCK_LOG_LEVEL") == "info" {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// count runs a counting query, failing the test when it cannot.
func count(t *testing.T, st *stack.Stack, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestBrokenTelemetryLineFailsOnlyItsKind serves a car data stream with a
// line of bad base64 two thirds in: car-data fails naming the line and the
// reason, after having streamed rows into its transaction, and none of
// them stays; every other kind of the session is done. Once the upstream
// is fixed, a plain import asks for the stream anew and imports it whole.
func TestBrokenTelemetryLineFailsOnlyItsKind(t *testing.T) {
	st := start(t)
	var broken atomic.Bool
	broken.Store(true)
	var badLine atomic.Int64
	st.Standin.Rewrite = func(r *http.Request, body []byte) []byte {
		if !broken.Load() || !strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/CarData.z.jsonStream") {
			return body
		}
		lines := bytes.SplitAfter(body, []byte("\r\n"))
		at := len(lines) * 2 / 3
		badLine.Store(int64(at + 1))
		out := append([][]byte{}, lines[:at]...)
		out = append(out, []byte("00:59:59.999\"!!! not base64 !!!\"\r\n"))
		return bytes.Join(append(out, lines[at:]...), nil)
	}
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"}
	_, sum, _ := importRun(t, st, cmd)
	if sum.KindsFailed["car-data"] != 1 || len(sum.KindsFailed) != 1 || len(sum.Failures) != 1 {
		t.Fatalf("want car-data alone failed: %+v", sum)
	}
	if want := fmt.Sprintf("line %d", badLine.Load()); !strings.Contains(sum.Failures[0], want) || !strings.Contains(sum.Failures[0], "base64") {
		t.Fatalf("failure %q does not name %s and the reason", sum.Failures[0], want)
	}
	for _, k := range []string{"position", "laps", "weather", "results", "race-control"} {
		if sum.DataExtracted[k] != 1 {
			t.Errorf("%s not done: %+v", k, sum)
		}
	}
	count := func() (samples, streams int) {
		if err := st.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM car_samples), (SELECT count(*) FROM car_streams)`).Scan(&samples, &streams); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s, c := count(); s != 0 || c != 0 {
		t.Fatalf("a failed car-data left %d samples and %d streams", s, c)
	}
	t.Logf("reported: %s", sum.Failures[0])

	broken.Store(false)
	_, sum, calls := importRun(t, st, cmd)
	if sum.DataExtracted["car-data"] != 1 || len(sum.KindsFailed) != 0 || calls != 1 {
		t.Fatalf("after the fix: %+v, %d calls (want 1: CarData.z asked anew)", sum, calls)
	}
	if s, c := count(); s != 105928 || c != 4 {
		t.Fatalf("after the fix: %d samples in %d streams, FastF1 has 105928 for 4 cars", s, c)
	}
}

// TestUnreachableUpstreamIsOneShortError: with every upstream host
// unreachable, planning a season whose schedule is unknown fails with one
// short error naming the hosts and why, and what to do.
func TestUnreachableUpstreamIsOneShortError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	base := map[string]string{}
	for _, h := range []string{upstream.LiveTiming, upstream.Mirror, upstream.Jolpica, upstream.GitHubRaw, upstream.MultiViewer} {
		base[h] = closed + "/" + h
	}
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Config{DataDir: t.TempDir(), DatabaseURL: testenv.Database(t),
		Upstream: upstream.Config{BaseURLs: base, Retries: 1, RetryBackoff: time.Millisecond}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = client.Plan(ctx, st.NC, streams.PlanCommand{Year: 2019, DryRun: true}, time.Minute)
	if err == nil {
		t.Fatal("planning without an upstream succeeded")
	}
	msg := err.Error()
	host := strings.TrimPrefix(closed, "http://")
	if !strings.Contains(msg, "cannot reach "+host) || !strings.Contains(msg, "connection refused") ||
		!strings.Contains(msg, "check the network") || len(msg) > 300 {
		t.Fatalf("error %q: want one short line naming %s, the cause and what to do", msg, host)
	}
	t.Logf("%s", msg)
}
