package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/streams"
)

func TestHeadline(t *testing.T) {
	deferred := &streams.GapReport{Year: 2019, Deferred: []streams.SessionRef{{SessionKey: streams.Key(2019, 16, "Race"), Event: "Russian Grand Prix"}}}
	for _, tc := range []struct {
		name   string
		s      streams.Summary
		report *streams.GapReport
		want   string
	}{
		{"every kind done", streams.Summary{Year: 2019, Status: "completed", DataExtracted: map[string]int{"weather": 1, "laps": 1}},
			&streams.GapReport{Year: 2019}, "✅ Import complete - Season 2019"},
		{"nothing to do", streams.Summary{Year: 2019, Status: "completed"}, nil, "✅ Import complete - Season 2019"},
		{"weather never published", streams.Summary{Year: 2019, Status: "completed", DataExtracted: map[string]int{"laps": 1}, KindsUnavailable: map[string]int{"weather": 1}},
			nil, "⚠️ Import partial - Season 2019: 1 kind unavailable"},
		{"unavailable and failed", streams.Summary{Year: 2019, Status: "failed", DataExtracted: map[string]int{"laps": 4},
			KindsUnavailable: map[string]int{"weather": 2, "circuit": 1}, KindsFailed: map[string]int{"results": 1}},
			nil, "⚠️ Import partial - Season 2019: 3 kinds unavailable, 1 failed"},
		{"deferred", streams.Summary{Year: 2019, Status: "completed", DataExtracted: map[string]int{"laps": 1}},
			deferred, "⚠️ Import partial - Season 2019: 1 session deferred"},
		{"nothing done, something failed", streams.Summary{Year: 2019, Status: "failed", KindsFailed: map[string]int{"laps": 2}, KindsUnavailable: map[string]int{"weather": 1}},
			nil, "❌ Import failed - Season 2019: 1 kind unavailable, 2 failed"},
		{"not planned", streams.Summary{Year: 2019, Status: "failed", Failures: []string{"schedule: Jolpica answered 500"}},
			nil, "❌ Import failed - Season 2019"},
		{"only unavailable", streams.Summary{Year: 2019, Status: "completed", KindsUnavailable: map[string]int{"circuit": 1}},
			nil, "⚠️ Import partial - Season 2019: 1 kind unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := headline("Import", &tc.s, tc.report); got != tc.want {
				t.Errorf("headline = %q, want %q", got, tc.want)
			}
			var out bytes.Buffer
			printSummary(&out, "Import", &tc.s, tc.report, nil, false)
			if first, _, _ := strings.Cut(out.String(), "\n"); first != tc.want {
				t.Errorf("summary starts with %q, want %q", first, tc.want)
			}
		})
	}
}

// roundFourteen is the summary and outcomes of a round whose weather was
// never published for two sessions and whose circuit MultiViewer lacks.
func roundFourteen() (*streams.Summary, *streams.GapReport, []streams.Extraction) {
	s := &streams.Summary{RunID: "20261202T021626-4c8357b9", Year: 2019, Status: "completed", GapsDetected: 3, SessionsProcessed: 3, SessionsSucceeded: 3,
		DataExtracted:    map[string]int{"laps": 3, "weather": 1},
		KindsUnavailable: map[string]int{"weather": 2, "circuit": 1},
	}
	report := &streams.GapReport{Year: 2019,
		Deferred: []streams.SessionRef{{SessionKey: streams.Key(2019, 16, "Race"), Event: "Russian Grand Prix"}},
		Queued:   []streams.SessionRef{{SessionKey: streams.Key(2019, 15, "Qualifying"), Event: "Singapore Grand Prix"}},
	}
	var o outcomes
	for _, e := range []streams.Extraction{
		{Kind: "weather", SessionKey: streams.Key(2019, 14, "Race"), Status: "unavailable", Reason: "no data for this session: WeatherData.jsonStream is on neither host"},
		{Kind: "laps", SessionKey: streams.Key(2019, 14, "Race"), Status: "done", Rows: 900},
		{Kind: "circuit", SessionKey: streams.Key(2019, 14, "Practice 1"), Status: "unavailable", Reason: "multiviewer:circuit is not published for this session"},
		{Kind: "weather", SessionKey: streams.Key(2019, 14, "Practice 1"), Status: "unavailable", Reason: "no data for this session: WeatherData.jsonStream is on neither host"},
		{Kind: "weather", SessionKey: streams.Key(2019, 14, "Race"), Status: "unavailable", Reason: "no data for this session: WeatherData.jsonStream is on neither host"}, // redelivered
		{Kind: "weather", SessionKey: streams.Key(2019, 14, "Qualifying"), Status: "done", Rows: 95},
	} {
		o.add(e)
	}
	return s, report, o.unavailable()
}

func TestUnavailableListedPerSession(t *testing.T) {
	s, report, unavailable := roundFourteen()
	if len(unavailable) != 3 {
		t.Fatalf("outcomes kept %d unavailable, want 3 (a redelivery counts once): %+v", len(unavailable), unavailable)
	}
	var out bytes.Buffer
	printSummary(&out, "Import", s, report, unavailable, false)
	got := out.String()
	for _, want := range []string{
		"⚠️ Import partial - Season 2019: 3 kinds unavailable, 1 session deferred\n",
		"  kinds_unavailable:    {circuit: 1, weather: 2}\n",
		"  unavailable: 3 kinds in 2 sessions\n" +
			"    2019/14 Practice 1     circuit: multiviewer:circuit is not published for this session\n" +
			"    2019/14 Practice 1     weather: no data for this session: WeatherData.jsonStream is on neither host\n" +
			"    2019/14 Race           weather: no data for this session: WeatherData.jsonStream is on neither host\n",
		"  deferred to a later plan (run the same import again to load them): 1 session\n    R16 Russian Grand Prix           Race\n",
		"  already queued by another run (followed: its outcomes are counted here): 1 session\n    R15 Singapore Grand Prix         Qualifying\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks\n%s\nin:\n%s", want, got)
		}
	}
}

func TestUnavailableKindsShareALine(t *testing.T) {
	s := &streams.Summary{RunID: "r", Year: 2019, Status: "completed", KindsUnavailable: map[string]int{"weather": 1, "laps": 1, "drivers": 1}}
	why := "no data for this session: WeatherData.jsonStream is on neither host"
	var o outcomes
	for _, k := range []string{"weather", "laps", "drivers"} {
		o.add(streams.Extraction{Kind: k, SessionKey: streams.Key(2019, -1, "Day 1"), Status: "unavailable", Reason: why})
	}
	var out bytes.Buffer
	printSummary(&out, "Import", s, nil, o.unavailable(), false)
	if want := "    2019/T1 Day 1          drivers, laps, weather: " + why + "\n"; !strings.Contains(out.String(), want) {
		t.Errorf("lacks %q:\n%s", want, out.String())
	}
}

func TestUnavailableNotSeenPointsToStatus(t *testing.T) {
	s := &streams.Summary{RunID: "20261202T021626-4c8357b9", Year: 2019, Status: "completed", KindsUnavailable: map[string]int{"weather": 25}}
	var o outcomes
	for r := 1; r <= 21; r++ {
		o.add(streams.Extraction{Kind: "weather", SessionKey: streams.Key(2019, r, "Race"), Status: "unavailable", Reason: "not published"})
	}
	var out bytes.Buffer
	printSummary(&out, "Import", s, nil, o.unavailable(), false)
	got := out.String()
	if !strings.Contains(got, "  unavailable: 25 kinds in 21 sessions\n") || !strings.Contains(got, "2019/20 Race") || strings.Contains(got, "2019/21 Race") ||
		!strings.Contains(got, "    ... and 5 kinds more: 'paddock status --run 20261202T021626-4c8357b9' lists every one\n") {
		t.Errorf("a long list is cut at 20 sessions and points to status:\n%s", got)
	}
}

func TestUnavailableInJSON(t *testing.T) {
	s, report, unavailable := roundFourteen()
	var out bytes.Buffer
	printSummary(&out, "Import", s, report, unavailable, true)
	var got struct {
		Summary     streams.Summary
		State       string
		Unavailable []streams.Extraction
		Deferred    []streams.SessionRef
		Queued      []streams.SessionRef `json:"already_queued"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if got.Summary.RunID != s.RunID || got.State != "partial" || len(got.Unavailable) != 3 || got.Unavailable[0].Reason == "" ||
		len(got.Deferred) != 1 || len(got.Queued) != 1 {
		t.Errorf("JSON summary: %s", out.String())
	}
}

func TestHeadlineGapReportNamesQueuedAndDeferred(t *testing.T) {
	_, report, _ := roundFourteen()
	var out bytes.Buffer
	printReport(&out, &streams.PlanReply{RunID: "r", Report: report}, false)
	for _, want := range []string{
		"  Already queued by another run (this run follows it): 1 session\n    R15 Singapore Grand Prix         Qualifying\n",
		"  Deferred to a later plan (over --max-calls or the quota): 1 session\n    R16 Russian Grand Prix           Race\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("gap report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestHeadlineExitOfAFailedRun(t *testing.T) {
	if err := runFailed(&streams.Summary{Status: "completed", KindsUnavailable: map[string]int{"weather": 3}}); err != nil {
		t.Errorf("a partial run without failures exits with %v", err)
	}
	err := runFailed(&streams.Summary{RunID: "r1", Status: "failed", SessionsFailed: 2})
	if e, ok := err.(*exitError); !ok || e.code != 1 || !strings.Contains(e.msg, "2 session(s) failed") || !strings.Contains(e.msg, "paddock status --run r1") {
		t.Errorf("failed sessions: %v", err)
	}
	err = runFailed(&streams.Summary{RunID: "r2", Status: "failed", Failures: []string{"schedule: Jolpica answered 500"}})
	if e, ok := err.(*exitError); !ok || e.code != 1 || !strings.Contains(e.msg, "schedule: Jolpica answered 500") {
		t.Errorf("a run not planned: %v", err)
	}
}
