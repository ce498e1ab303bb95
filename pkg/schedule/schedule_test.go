package schedule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/standin"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

const recorded = "../../testdata/f1/recorded"

// indexHost is where each recorded Index.json lives.
var indexHost = map[int]string{2019: upstream.LiveTiming, 2021: upstream.LiveTiming, 2022: upstream.Mirror, 2023: upstream.LiveTiming}

func readRecorded(t *testing.T, host, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recorded, host, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parts parses every recorded source of year (nil where not recorded).
func parts(t *testing.T, year int) (index, f1s, jolpica *Season) {
	t.Helper()
	var err error
	if h, ok := indexHost[year]; ok {
		if index, err = ParseIndex(readRecorded(t, h, IndexPath(year))); err != nil {
			t.Fatal(err)
		}
	}
	if f1s, err = ParseF1Schedule(readRecorded(t, upstream.GitHubRaw, F1SchedulePath(year))); err != nil {
		t.Fatal(err)
	}
	jp := filepath.Join(recorded, upstream.Jolpica, filepath.FromSlash(JolpicaPath(year)))
	if _, serr := os.Stat(jp); serr == nil {
		if jolpica, err = ParseJolpica(readRecorded(t, upstream.Jolpica, JolpicaPath(year))); err != nil {
			t.Fatal(err)
		}
	}
	return index, f1s, jolpica
}

func findEvent(s *Season, name string) *Event {
	for i := range s.Events {
		if s.Events[i].Name == name {
			return &s.Events[i]
		}
	}
	return nil
}

func findSession(e *Event, name string) *Session {
	for i := range e.Sessions {
		if e.Sessions[i].Name == name {
			return &e.Sessions[i]
		}
	}
	return nil
}

// TestDerivedPathsMatchIndex derives every path from f1schedule alone and
// compares it with the Path Index.json gives for the same session.
func TestDerivedPathsMatchIndex(t *testing.T) {
	for _, year := range []int{2019, 2021, 2022, 2023} {
		t.Run(filepathYear(year), func(t *testing.T) {
			index, f1s, _ := parts(t, year)
			compared := 0
			for _, ie := range index.Events {
				if ie.Format == FormatTesting {
					continue
				}
				fe := findEvent(f1s, ie.Name)
				if fe == nil {
					t.Errorf("%s not in f1schedule", ie.Name)
					continue
				}
				for _, is := range ie.Sessions {
					if !is.PathFromIndex {
						continue
					}
					fs := findSession(fe, is.Name)
					if fs == nil {
						t.Errorf("%s %s not in f1schedule", ie.Name, is.Name)
						continue
					}
					compared++
					if fs.Path != is.Path {
						t.Errorf("%s %s: derived %q, Index.json %q", ie.Name, is.Name, fs.Path, is.Path)
					}
				}
			}
			if compared < 100 {
				t.Errorf("only %d sessions compared", compared)
			}
		})
	}
}

func filepathYear(y int) string { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") }

// recordedSessionPaths lists the recorded session folders of year on both
// archive hosts, as paths relative to /static/.
func recordedSessionPaths(t *testing.T, year int) []string {
	var out []string
	for _, h := range []string{upstream.LiveTiming, upstream.Mirror} {
		dirs, _ := filepath.Glob(filepath.Join(recorded, h, "static", filepathYear(year), "*", "*"))
		for _, d := range dirs {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				continue
			}
			rel, _ := filepath.Rel(filepath.Join(recorded, h, "static"), d)
			out = append(out, filepath.ToSlash(rel)+"/")
		}
	}
	return out
}

func TestMergeRecordedYears(t *testing.T) {
	tests := []struct {
		year            int
		rounds          int
		weekendSessions int
		testingEvents   int
		testingSessions int
		sources         int
	}{
		{2018, 21, 105, 0, 0, 1},
		{2019, 21, 105, 0, 0, 3},
		{2020, 17, 83, 2, 6, 1},
		{2021, 22, 110, 1, 3, 3},
		{2022, 22, 110, 2, 6, 3},
		{2023, 22, 110, 1, 3, 3},
		{2024, 24, 120, 1, 3, 2},
		{2025, 24, 120, 1, 3, 1},
		{2026, 23, 115, 2, 6, 1},
	}
	for _, tt := range tests {
		t.Run(filepathYear(tt.year), func(t *testing.T) {
			index, f1s, jolpica := parts(t, tt.year)
			s, err := Merge(tt.year, jolpica, index, nil, f1s)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Sources) != tt.sources {
				t.Errorf("sources %v, want %d", s.Sources, tt.sources)
			}
			var rounds, sessions, tEvents, tSessions int
			paths := map[string]bool{}
			lastRound := 0
			for _, e := range s.Events {
				for i, x := range e.Sessions {
					paths[x.Path] = true
					if x.Number != i+1 || x.Start.IsZero() || x.Start.Location() != time.UTC || !strings.HasPrefix(x.Path, filepathYear(tt.year)+"/") {
						t.Errorf("%s %s: number %d start %v path %q", e.Name, x.Name, x.Number, x.Start, x.Path)
					}
					if i > 0 && x.Start.Before(e.Sessions[i-1].Start) {
						t.Errorf("%s: sessions out of order", e.Name)
					}
				}
				if e.Format == FormatTesting {
					tEvents++
					tSessions += len(e.Sessions)
					if e.Round != 0 {
						t.Errorf("testing %s has round %d", e.Name, e.Round)
					}
					continue
				}
				rounds++
				sessions += len(e.Sessions)
				if e.Round != lastRound+1 {
					t.Errorf("%s: round %d after %d", e.Name, e.Round, lastRound)
				}
				lastRound = e.Round
				if e.Sessions[len(e.Sessions)-1].Name != "Race" {
					t.Errorf("%s: last session %q", e.Name, e.Sessions[len(e.Sessions)-1].Name)
				}
			}
			if rounds != tt.rounds || sessions != tt.weekendSessions || tEvents != tt.testingEvents || tSessions != tt.testingSessions {
				t.Errorf("rounds %d sessions %d testing %d/%d, want %d %d %d/%d", rounds, sessions, tEvents, tSessions,
					tt.rounds, tt.weekendSessions, tt.testingEvents, tt.testingSessions)
			}
			if index != nil {
				for _, ie := range index.Events {
					for _, is := range ie.Sessions {
						if is.PathFromIndex && !paths[is.Path] {
							t.Errorf("Index.json path %q lost in merge", is.Path)
						}
					}
				}
			}
			for _, p := range recordedSessionPaths(t, tt.year) {
				if !paths[p] {
					t.Errorf("recorded session folder %q not reachable from the merged schedule", p)
				}
			}
		})
	}
}

func TestMergeDetails(t *testing.T) {
	merged := func(year int) *Season {
		index, f1s, jolpica := parts(t, year)
		s, err := Merge(year, index, f1s, jolpica)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s2019, s2021, s2023, s2024, s2025 := merged(2019), merged(2021), merged(2023), merged(2024), merged(2025)
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

	monza := findEvent(s2019, "Italian Grand Prix")
	if monza == nil {
		t.Fatal("no Monza 2019")
	}
	wantEv := Event{Round: 14, Name: "Italian Grand Prix", OfficialName: monza.OfficialName, Country: "Italy", Location: "Monza",
		CircuitKey: 39, CircuitName: "Monza", MeetingKey: 1013, Format: FormatConventional}
	gotEv := *monza
	gotEv.Sessions = nil
	if !reflect.DeepEqual(gotEv, wantEv) || !strings.Contains(monza.OfficialName, "ITALIA") {
		t.Errorf("Monza 2019 event %+v", gotEv)
	}
	wantQ := Session{Name: "Qualifying", Number: 4, Key: 5502, Start: utc("2019-09-07T13:00:00Z"), End: utc("2019-09-07T14:00:00Z"),
		GMTOffset: 2 * time.Hour, Path: "2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/", PathFromIndex: true}
	if q := findSession(monza, "Qualifying"); q == nil || *q != wantQ {
		t.Errorf("Monza 2019 Qualifying %+v", q)
	}

	tests := []struct {
		name      string
		season    *Season
		event     string
		session   string
		wantRound int
		wantFmt   string
		wantPath  string
		fromIndex bool
		wantStart time.Time
	}{
		{name: "2019 Suzuka Q postponed keeps Saturday folder", season: s2019, event: "Japanese Grand Prix", session: "Qualifying", wantRound: 17,
			wantFmt: FormatConventional, wantPath: "2019/2019-10-13_Japanese_Grand_Prix/2019-10-12_Qualifying/", fromIndex: true, wantStart: utc("2019-10-12T06:00:00Z")},
		{name: "2019 Suzuka FP3 cancelled has derived path", season: s2019, event: "Japanese Grand Prix", session: "Practice 3", wantRound: 17,
			wantFmt: FormatConventional, wantPath: "2019/2019-10-13_Japanese_Grand_Prix/2019-10-12_Practice_3/", wantStart: utc("2019-10-12T03:00:00Z")},
		{name: "2021 sprint named Sprint, archived as Sprint_Qualifying", season: s2021, event: "British Grand Prix", session: "Sprint", wantRound: 10,
			wantFmt: FormatSprint, wantPath: "2021/2021-07-18_British_Grand_Prix/2021-07-17_Sprint_Qualifying/", fromIndex: true, wantStart: utc("2021-07-17T15:30:00Z")},
		{name: "2021 Imola FP1 without Index path", season: s2021, event: "Emilia Romagna Grand Prix", session: "Practice 1", wantRound: 2,
			wantFmt: FormatConventional, wantPath: "2021/2021-04-18_Emilia_Romagna_Grand_Prix/2021-04-16_Practice_1/", wantStart: utc("2021-04-16T09:00:00Z")},
		{name: "2023 Monaco is round 6 despite Index Number 7", season: s2023, event: "Monaco Grand Prix", session: "Race", wantRound: 6,
			wantFmt: FormatConventional, wantPath: "2023/2023-05-28_Monaco_Grand_Prix/2023-05-28_Race/", fromIndex: true, wantStart: utc("2023-05-28T13:00:00Z")},
		{name: "2023 Las Vegas midnight qualifying on race date", season: s2023, event: "Las Vegas Grand Prix", session: "Qualifying", wantRound: 21,
			wantFmt: FormatConventional, wantPath: "2023/2023-11-18_Las_Vegas_Grand_Prix/2023-11-18_Qualifying/", fromIndex: true, wantStart: utc("2023-11-18T08:00:00Z")},
		{name: "2023 sprint shootout", season: s2023, event: "Azerbaijan Grand Prix", session: "Sprint Shootout", wantRound: 4,
			wantFmt: FormatSprintShootout, wantPath: "2023/2023-04-30_Azerbaijan_Grand_Prix/2023-04-29_Sprint_Shootout/", fromIndex: true, wantStart: utc("2023-04-29T08:30:00Z")},
		{name: "2024 Interlagos Q postponed (FastF1 #652)", season: s2024, event: "São Paulo Grand Prix", session: "Qualifying", wantRound: 21,
			wantFmt: FormatSprintQualifying, wantPath: "2024/2024-11-03_São_Paulo_Grand_Prix/2024-11-02_Qualifying/", wantStart: utc("2024-11-03T10:30:00Z")},
		{name: "2025 testing archived as Day_N", season: s2025, event: "Pre-Season Testing", session: "Practice 1", wantRound: 0,
			wantFmt: FormatTesting, wantPath: "2025/2025-02-28_Pre-Season_Testing/2025-02-26_Day_1/", wantStart: utc("2025-02-26T07:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := findEvent(tt.season, tt.event)
			if e == nil {
				t.Fatalf("no event %q", tt.event)
			}
			s := findSession(e, tt.session)
			if s == nil {
				t.Fatalf("no session %q in %+v", tt.session, e.Sessions)
			}
			if e.Round != tt.wantRound || e.Format != tt.wantFmt {
				t.Errorf("round %d format %q, want %d %q", e.Round, e.Format, tt.wantRound, tt.wantFmt)
			}
			if s.Path != tt.wantPath || s.PathFromIndex != tt.fromIndex || !s.Start.Equal(tt.wantStart) {
				t.Errorf("path %q (index %v) start %v, want %q %v %v", s.Path, s.PathFromIndex, s.Start, tt.wantPath, tt.fromIndex, tt.wantStart)
			}
		})
	}
}

// TestJolpicaAlone checks a year can be built from Jolpica only.
func TestJolpicaAlone(t *testing.T) {
	_, _, j := parts(t, 2023)
	s, err := Merge(2023, j)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range s.Events {
		n += len(e.Sessions)
	}
	if len(s.Events) != 22 || n != 110 {
		t.Errorf("%d events %d sessions", len(s.Events), n)
	}
	baku := findEvent(s, "Azerbaijan Grand Prix")
	if baku.Format != FormatSprintShootout || baku.Country != "Azerbaijan" || baku.Location != "Baku" {
		t.Errorf("baku %+v", baku)
	}
	if r := findSession(baku, "Race"); !r.Start.Equal(time.Date(2023, 4, 30, 11, 0, 0, 0, time.UTC)) || r.Path != "2023/2023-04-30_Azerbaijan_Grand_Prix/2023-04-30_Race/" {
		t.Errorf("race %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		parse  func([]byte) (*Season, error)
		body   string
		source string
	}{
		{"index not json", ParseIndex, "\uFEFF{nope", "Index.json"},
		{"index no year", ParseIndex, `{"Meetings":[]}`, "Index.json"},
		{"index bad offset", ParseIndex, `{"Year":2019,"Meetings":[{"Name":"X","Sessions":[{"Key":1,"Name":"Race","StartDate":"2019-01-01T00:00:00","GmtOffset":"two"}]}]}`, "Index.json"},
		{"index bad date", ParseIndex, `{"Year":2019,"Meetings":[{"Name":"X","Sessions":[{"Key":1,"Name":"Race","StartDate":"yesterday","GmtOffset":"01:00:00"}]}]}`, "Index.json"},
		{"f1schedule not json", ParseF1Schedule, `[`, "f1schedule"},
		{"f1schedule wrong shape", ParseF1Schedule, `{"event_name":{"0":"X"}}`, "f1schedule"},
		{"f1schedule bad date", ParseF1Schedule, `{"round_number":{"0":1},"event_name":{"0":"X"},"gmt_offset":{"0":"+01:00"},"session1":{"0":"Race"},"session1_date":{"0":"soon"}}`, "f1schedule"},
		{"jolpica not json", ParseJolpica, `<html>`, "Jolpica"},
		{"jolpica no MRData", ParseJolpica, `{}`, "Jolpica"},
		{"jolpica bad round", ParseJolpica, `{"MRData":{"RaceTable":{"season":"2019","Races":[{"round":"x","date":"2019-01-01"}]}}}`, "Jolpica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.parse([]byte(tt.body))
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Source != tt.source || !strings.Contains(err.Error(), tt.source) {
				t.Fatalf("err %v, want ParseError from %s", err, tt.source)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	_, f1s, _ := parts(t, 2019)
	tests := []struct {
		name  string
		year  int
		parts []*Season
	}{
		{"no parts", 2019, nil},
		{"all nil", 2019, []*Season{nil, nil}},
		{"empty", 2019, []*Season{{Year: 2019}}},
		{"wrong year", 2020, []*Season{f1s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Merge(tt.year, tt.parts...); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestDerivePath(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(localLayout, s); return t }
	tests := []struct {
		name    string
		year    int
		event   string
		evDate  string
		session string
		sDate   string
		want    string
	}{
		{"plain", 2019, "Italian Grand Prix", "2019-09-08T15:10:00", "Qualifying", "2019-09-07T15:00:00", "2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/"},
		{"postponed quali", 2019, "Japanese Grand Prix", "2019-10-13T14:10:00", "Qualifying", "2019-10-13T10:00:00", "2019/2019-10-13_Japanese_Grand_Prix/2019-10-12_Qualifying/"},
		{"night quali on race date", 2023, "Las Vegas Grand Prix", "2023-11-18T22:00:00", "Qualifying", "2023-11-18T00:00:00", "2023/2023-11-18_Las_Vegas_Grand_Prix/2023-11-18_Qualifying/"},
		{"2021 sprint", 2021, "Italian Grand Prix", "2021-09-12T15:00:00", "Sprint", "2021-09-11T16:30:00", "2021/2021-09-12_Italian_Grand_Prix/2021-09-11_Sprint_Qualifying/"},
		{"2023 sprint", 2023, "Azerbaijan Grand Prix", "2023-04-30T15:00:00", "Sprint", "2023-04-29T17:30:00", "2023/2023-04-30_Azerbaijan_Grand_Prix/2023-04-29_Sprint/"},
		{"2024 testing keeps Practice", 2024, "Pre-Season Testing", "2024-02-23T10:00:00", "Practice 1", "2024-02-21T10:00:00", "2024/2024-02-23_Pre-Season_Testing/2024-02-21_Practice_1/"},
		{"2026 testing Day", 2026, "Pre-Season Testing", "2026-02-20T10:00:00", "Practice 3", "2026-02-20T10:00:00", "2026/2026-02-20_Pre-Season_Testing/2026-02-20_Day_3/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DerivePath(tt.year, tt.event, d(tt.evDate), tt.session, d(tt.sDate)); got != tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}

// TestFetchFromStandin runs Fetch with the real client against the recorded
// tree and counts calls (a missing Index.json costs primary + mirror).
func TestFetchFromStandin(t *testing.T) {
	srv, err := standin.New(recorded)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := upstream.New(upstream.Config{BaseURLs: srv.BaseURLs(), RetryBackoff: time.Millisecond}, nil)
	tests := []struct {
		year      int
		wantCalls int
		sources   int
	}{
		{2019, 3, 3}, // all recorded on the primary
		{2022, 4, 3}, // Index.json only on the mirror
		{2020, 4, 1}, // no Index.json (2 calls), no Jolpica season (1)
	}
	for _, tt := range tests {
		t.Run(filepathYear(tt.year), func(t *testing.T) {
			s, calls, err := Fetch(context.Background(), c, tt.year)
			if err != nil {
				t.Fatal(err)
			}
			if calls != tt.wantCalls || len(s.Sources) != tt.sources {
				t.Errorf("calls %d sources %v, want %d %d", calls, s.Sources, tt.wantCalls, tt.sources)
			}
		})
	}
	if _, _, err := Fetch(context.Background(), c, 1990); err == nil {
		t.Error("want error for a year no source has")
	}
}

// TestSourcesAgreeWhereTheyOverlap: where two schedule sources describe
// the same race weekend they agree on its name, and a session's start
// differs between them only in the ways the sources are known to differ:
//   - by exactly an hour on a weekend when daylight saving time changes:
//     f1schedule gives the whole weekend one UTC offset, Index.json each
//     session its own (Index.json is right, and the merge prefers it);
//   - by whole days at the same clock time: Jolpica dates night races
//     with the local date but a UTC time (Las Vegas);
//   - by a few minutes: schedules tweaked after a source was written.
//
// Sessions moved outright after a source was written (rain, typhoons)
// remain; there are few, and the test bounds how many.
func TestSourcesAgreeWhereTheyOverlap(t *testing.T) {
	var compared, dst, dayShift, tweaked int
	var moved []string
	for year := 2018; year <= 2026; year++ {
		index, f1s, jolpica := parts(t, year)
		all := []*Season{index, f1s, jolpica}
		for i := 0; i < len(all); i++ {
			for j := i + 1; j < len(all); j++ {
				a, b := all[i], all[j]
				if a == nil || b == nil {
					continue
				}
				for _, e := range a.Events {
					if e.Format == FormatTesting || len(e.Sessions) == 0 {
						continue
					}
					o, ok := sameWeekend(e, b)
					if !ok {
						t.Errorf("%d %s: no weekend within a day of its race in the other source", year, e.Name)
						continue
					}
					if o.Name != e.Name {
						t.Errorf("%d: %q vs %q", year, e.Name, o.Name)
					}
					for _, s := range e.Sessions {
						for _, os := range o.Sessions {
							if os.Name != s.Name || dateOnly(s.Start) || dateOnly(os.Start) {
								continue // date-only sources carry no time to compare
							}
							compared++
							d := s.Start.Sub(os.Start)
							if d < 0 {
								d = -d
							}
							switch {
							case d <= 15*time.Minute:
								if d > 0 {
									tweaked++
								}
							case d == time.Hour:
								dst++
							case d%(24*time.Hour) == 0:
								dayShift++
							default:
								moved = append(moved, fmt.Sprintf("%d %s %s: %s vs %s", year, e.Name, s.Name, s.Start.Format(time.RFC3339), os.Start.Format(time.RFC3339)))
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d session starts compared: %d equal within minutes (%d tweaked), %d an hour apart (DST weekends), %d whole days apart (Jolpica's night-race dates), %d moved:\n%s",
		compared, compared-dst-dayShift-len(moved), tweaked, dst, dayShift, len(moved), strings.Join(moved, "\n"))
	if compared < 500 {
		t.Fatalf("only %d session starts compared", compared)
	}
	if len(moved)*20 > compared {
		t.Fatalf("%d of %d session starts disagree beyond the known patterns", len(moved), compared)
	}
}

// sameWeekend finds the event of other whose race is within a day of e's.
func sameWeekend(e Event, other *Season) (Event, bool) {
	race := e.Sessions[len(e.Sessions)-1].Start
	for _, o := range other.Events {
		if o.Format == FormatTesting || len(o.Sessions) == 0 {
			continue
		}
		d := o.Sessions[len(o.Sessions)-1].Start.Sub(race)
		if d > -36*time.Hour && d < 36*time.Hour {
			return o, true
		}
	}
	return Event{}, false
}

func dateOnly(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 }

// TestJolpicaSeasonBeforeTheChampionshipIsRefused: a season number that is
// no championship year (found by FuzzParseJolpica: "0") is a ParseError,
// not a season without a year.
func TestJolpicaSeasonBeforeTheChampionshipIsRefused(t *testing.T) {
	for _, season := range []string{"0", "-3", "1949"} {
		body := []byte(`{"MRData":{"RaceTable":{"season":"` + season + `","Races":[{"round":"1","raceName":"X","date":"2024-03-02"}]}}}`)
		s, err := ParseJolpica(body)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Source != "Jolpica" {
			t.Errorf("season %q: got %+v, %v; want a Jolpica ParseError", season, s, err)
		}
	}
}
