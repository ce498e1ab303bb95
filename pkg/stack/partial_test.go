package stack_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paddock-f1/paddock/streams"
)

// TestTruncatedTimingDataFailsLapsAndPlainImportRefetches serves the 2019
// Monza qualifying's TimingData cut at 40% of its bytes, in the middle of
// a line: laps fails naming the feed, the line and why (it used to end
// "done" with the laps of the first 40% of the session), no lap is stored
// and the other kinds are done. Once the upstream serves the feed whole,
// a plain import (no flag) re-plans laps, asks the upstream anew for
// TimingData alone and stores every lap.
func TestTruncatedTimingDataFailsLapsAndPlainImportRefetches(t *testing.T) {
	st := start(t)
	var broken atomic.Bool
	broken.Store(true)
	var badLine atomic.Int64
	st.Standin.Rewrite = func(r *http.Request, body []byte) []byte {
		if !broken.Load() || !strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/TimingData.jsonStream") {
			return body
		}
		cut := len(body) * 2 / 5
		for body[cut-1] == '\n' || body[cut] == '\r' || body[cut] == '\n' {
			cut++
		}
		badLine.Store(int64(bytes.Count(body[:cut], []byte("\n")) + 1))
		return body[:cut]
	}
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q"}
	_, sum, _ := importRun(t, st, cmd)
	if sum.KindsFailed["laps"] != 1 || len(sum.KindsFailed) != 1 || len(sum.Failures) != 1 || sum.DataExtracted["laps"] != 0 {
		t.Fatalf("want laps alone failed: %+v", sum)
	}
	t.Logf("reported: %s", sum.Failures[0])
	for _, want := range []string{"TimingData.jsonStream", fmt.Sprintf("line %d: ", badLine.Load()), "truncated"} {
		if !strings.Contains(sum.Failures[0], want) {
			t.Errorf("failure %q does not say %q", sum.Failures[0], want)
		}
	}
	if strings.Contains(sum.Failures[0], "--refetch") {
		t.Errorf("failure %q asks for a flag: the next import asks anew by itself", sum.Failures[0])
	}
	if n := count(t, st, `SELECT count(*) FROM laps`); n != 0 {
		t.Fatalf("a failed laps left %d rows", n)
	}
	for _, k := range []string{"weather", "race-control", "results", "drivers"} {
		if sum.DataExtracted[k] != 1 {
			t.Errorf("%s not done: %+v", k, sum)
		}
	}

	broken.Store(false)
	reply, sum, calls := importRun(t, st, cmd)
	if got := reply.Report.SessionGaps; len(got) != 1 || strings.Join(got[0].Kinds, ",") != "laps" {
		t.Fatalf("plain import planned %+v, want laps alone", got)
	}
	if sum.Status != "completed" || sum.DataExtracted["laps"] != 1 || len(sum.KindsFailed) != 0 {
		t.Fatalf("after the fix: %+v", sum)
	}
	if calls != 1 || sum.APICallsMade != 1 {
		t.Errorf("plain import made %d calls (summary %d), want 1: TimingData asked anew, the rest from the archive", calls, sum.APICallsMade)
	}
	if n := count(t, st, `SELECT count(*) FROM laps WHERE year=2019 AND round=14`); n != 275 {
		t.Fatalf("after the fix: %d laps, FastF1 has 275", n)
	}
	if _, sum, calls = importRun(t, st, cmd); calls != 0 || sum.GapsDetected != 0 {
		t.Fatalf("a third import planned %d sessions and made %d calls, want nothing", sum.GapsDetected, calls)
	}
}

// TestSkippedLineIsCountedShownAndReplanned serves a WeatherData with a
// blank line in its middle, the one defect a kind tolerates by skipping a
// line: weather is done with every sample, and the outcome, the ledger and
// the run summary say one line was skipped. The next plain import asks the
// upstream anew for that feed once; served whole, weather is done with no
// line skipped and nothing is planned after.
func TestSkippedLineIsCountedShownAndReplanned(t *testing.T) {
	st := start(t)
	var blank atomic.Bool
	blank.Store(true)
	st.Standin.Rewrite = func(r *http.Request, body []byte) []byte {
		if !blank.Load() || !strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/WeatherData.jsonStream") {
			return body
		}
		lines := bytes.SplitAfter(body, []byte("\r\n"))
		at := len(lines) / 2
		return bytes.Join(append(lines[:at:at], append([][]byte{[]byte("\r\n")}, lines[at:]...)...), nil)
	}
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}}
	_, sum, _ := importRun(t, st, cmd)
	if sum.Status != "completed" || sum.DataExtracted["weather"] != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if len(sum.Skipped) != 1 || !strings.Contains(sum.Skipped[0], "weather") || !strings.Contains(sum.Skipped[0], "1 line skipped") {
		t.Fatalf("summary's skipped = %q, want weather's one line", sum.Skipped)
	}
	t.Logf("reported: %s", sum.Skipped[0])
	if n := count(t, st, `SELECT count(*) FROM weather_samples`); n != 95 {
		t.Fatalf("%d weather samples, FastF1 has 95", n)
	}
	if n := count(t, st, `SELECT skipped_lines FROM extractions WHERE kind='weather'`); n != 1 {
		t.Fatalf("ledger skipped_lines = %d, want 1", n)
	}

	blank.Store(false)
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}})
	if sum.GapsDetected != 1 || calls != 1 || sum.DataExtracted["weather"] != 1 || len(sum.Skipped) != 0 {
		t.Fatalf("suspect weather re-planned: %d gaps, %d calls, %+v; want it asked anew (1 call) and whole", sum.GapsDetected, calls, sum)
	}
	if n := count(t, st, `SELECT skipped_lines FROM extractions WHERE kind='weather'`); n != 0 {
		t.Fatalf("ledger skipped_lines = %d after a whole feed", n)
	}
	if _, sum, calls = importRun(t, st, cmd); calls != 0 || sum.GapsDetected != 0 {
		t.Fatalf("a third import planned %d sessions and made %d calls, want nothing", sum.GapsDetected, calls)
	}
}

// TestSkippedLineTheUpstreamKeepsIsAskedOnce: when the upstream serves the
// same blank line again, the kind stays done with the line counted and is
// not planned any more: a suspect feed costs one more request, not one per
// import.
func TestSkippedLineTheUpstreamKeepsIsAskedOnce(t *testing.T) {
	st := start(t)
	st.Standin.Rewrite = func(r *http.Request, body []byte) []byte {
		if !strings.HasSuffix(r.URL.Path, "2019-09-07_Qualifying/WeatherData.jsonStream") {
			return body
		}
		return append(body, "\r\n"...) // a blank last line
	}
	cmd := streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}}
	importRun(t, st, cmd)
	_, sum, calls := importRun(t, st, cmd)
	if sum.GapsDetected != 1 || calls != 1 || len(sum.Skipped) != 1 {
		t.Fatalf("second import: %d gaps, %d calls, skipped %q; want weather asked anew once, still skipping its line", sum.GapsDetected, calls, sum.Skipped)
	}
	t.Logf("reported: %s", sum.Skipped[0])
	if _, sum, calls = importRun(t, st, cmd); calls != 0 || sum.GapsDetected != 0 {
		t.Fatalf("third import planned %d sessions and made %d calls, want nothing", sum.GapsDetected, calls)
	}
	if n := count(t, st, `SELECT skipped_lines FROM extractions WHERE kind='weather'`); n != 1 {
		t.Fatalf("ledger skipped_lines = %d, want the 1 line still counted", n)
	}
}
