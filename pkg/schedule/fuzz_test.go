package schedule

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
)

// The fuzz targets of the three schedule sources. Their property, on any
// body: no panic, and either a *ParseError naming the source or a season
// that holds together (a year, events with sessions numbered in start
// order, each with an archive path). Crashers found by `make fuzz` stay in
// testdata/fuzz/<target>/.

// firstRows cuts an f1schedule document (columns keyed by row index) to
// its first two rows: a real document of two events.
func firstRows(doc []byte) []byte {
	var cols map[string]map[string]any
	if json.Unmarshal(doc, &cols) != nil {
		return nil
	}
	for _, c := range cols {
		for row := range c {
			if row != "0" && row != "1" {
				delete(c, row)
			}
		}
	}
	b, _ := json.Marshal(cols)
	return b
}

// checkSeason fails t unless (s, err) is a *ParseError of source or a
// season that holds together.
func checkSeason(t *testing.T, source string, s *Season, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if s != nil || !errors.As(err, &pe) || pe.Source != source {
			t.Fatalf("error %v (%T) with season %v; want a *ParseError of %s", err, err, s, source)
		}
		return
	}
	if s.Year == 0 {
		t.Fatalf("season without a year: %+v", s)
	}
	for _, ev := range s.Events {
		if len(ev.Sessions) == 0 {
			t.Fatalf("event %q without sessions", ev.Name)
		}
		for i, ss := range ev.Sessions {
			if ss.Number != i+1 || ss.Path == "" {
				t.Fatalf("event %q session %d: number %d, path %q", ev.Name, i+1, ss.Number, ss.Path)
			}
			if i > 0 && ss.Start.Before(ev.Sessions[i-1].Start) {
				t.Fatalf("event %q: session %d starts before session %d", ev.Name, i+1, i)
			}
		}
	}
}

// FuzzParseIndex: a live-timing Index.json.
func FuzzParseIndex(f *testing.F) {
	for _, b := range fuzzseed.Documents(f, "*/static/*/Index.json", fuzzseed.FirstOf(1, "Meetings"), fuzzseed.FirstOf(2, "Meetings")) {
		f.Add(b)
	}
	f.Add([]byte(`{"Year":2024,"Meetings":[{"Key":1,"Name":"X","Sessions":[{"Key":2,"Name":"Race","StartDate":"2024-03-02T15:00:00","GmtOffset":"03:00:00"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseIndex(body)
		checkSeason(t, "Index.json", s, err)
		if err != nil {
			return
		}
		round := 0
		for _, ev := range s.Events {
			if ev.Format == FormatTesting {
				if ev.Round != 0 {
					t.Fatalf("testing event %q has round %d", ev.Name, ev.Round)
				}
				continue
			}
			if round++; ev.Round != round {
				t.Fatalf("event %q has round %d, want %d", ev.Name, ev.Round, round)
			}
		}
	})
}

// FuzzParseF1Schedule: FastF1's f1schedule file.
func FuzzParseF1Schedule(f *testing.F) {
	for _, b := range fuzzseed.Documents(f, "raw.githubusercontent.com/theOehrly/f1schedule/master/schedule_*.json", firstRows) {
		f.Add(b)
	}
	f.Add([]byte(`{"round_number":{"0":1},"event_name":{"0":"X"},"gmt_offset":{"0":"+01:00"},"session1":{"0":"Race"},"session1_date":{"0":"2024-03-02T15:00:00"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseF1Schedule(body)
		checkSeason(t, "f1schedule", s, err)
	})
}

// FuzzParseJolpica: Jolpica's season list.
func FuzzParseJolpica(f *testing.F) {
	for _, b := range fuzzseed.Documents(f, "api.jolpi.ca/ergast/f1/[0-9][0-9][0-9][0-9].json", fuzzseed.FirstOf(1, "MRData.RaceTable.Races"), fuzzseed.FirstOf(2, "MRData.RaceTable.Races")) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseJolpica(body)
		checkSeason(t, "Jolpica", s, err)
	})
}
