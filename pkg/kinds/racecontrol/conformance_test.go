package racecontrol

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata is the repository's recorded upstream data and FastF1's outputs.
const testdata = "../../../testdata/f1"

// refCSV is FastF1's table for this kind in a reference session folder,
// tableName its name in the log.
const (
	refCSV    = "race_control_messages.csv"
	tableName = "race_control"
)

// render parses a recorded feed and writes it as CSV.
func render(body []byte) ([]byte, error) {
	ms, err := Parse(body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, ms); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// refSession is a reference session folder with the recorded feed FastF1
// read for it.
type refSession struct {
	name string // folder name
	ref  string // path of FastF1's CSV
	feed string // path of the recorded feed
}

// refSessions lists every reference folder that has refCSV, with its
// recorded feed (the F1 archive first, then the mirror, as FastF1 fetches).
func refSessions(t *testing.T) []refSession {
	t.Helper()
	infos, err := filepath.Glob(filepath.Join(testdata, "reference", "*", "info.json"))
	if err != nil || len(infos) == 0 {
		t.Fatalf("no reference sessions under %s: %v", testdata, err)
	}
	var out []refSession
	for _, info := range infos {
		dir := filepath.Dir(info)
		ref := filepath.Join(dir, refCSV)
		if _, err := os.Stat(ref); err != nil {
			continue
		}
		raw, err := os.ReadFile(info)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			APIPath string `json:"api_path"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil || meta.APIPath == "" {
			t.Fatalf("%s: no api_path: %v", info, err)
		}
		s := refSession{name: filepath.Base(dir), ref: ref}
		for _, host := range []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"} {
			p := filepath.Join(testdata, "recorded", host, meta.APIPath, Feed)
			if _, err := os.Stat(p); err == nil {
				s.feed = p
				break
			}
		}
		if s.feed == "" {
			t.Fatalf("%s: %s%s not recorded", s.name, meta.APIPath, Feed)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("no reference session has %s", refCSV)
	}
	return out
}

// readTable parses a CSV file's records.
func readTable(t *testing.T, name string, data []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: read CSV: %v", name, err)
	}
	return recs
}

// TestConformance parses the recorded feed of every reference session,
// writes the CSV and compares it with FastF1's cell by cell and byte by
// byte, logging the agreement per column.
func TestConformance(t *testing.T) {
	t.Parallel()
	header := strings.Split(CSVHeader, ",")
	match := make([]int, len(header))
	total := make([]int, len(header))
	sessions := refSessions(t)
	for _, s := range sessions {
		body, err := os.ReadFile(s.feed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := render(body)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		want, err := os.ReadFile(s.ref)
		if err != nil {
			t.Fatal(err)
		}
		g, w := readTable(t, "ours", got), readTable(t, s.ref, want)
		if strings.Join(w[0], ",") != CSVHeader {
			t.Errorf("%s: reference header %q, want %q", s.name, w[0], CSVHeader)
		}
		if len(g) != len(w) {
			t.Errorf("%s: %d rows, FastF1 has %d", s.name, len(g)-1, len(w)-1)
		}
		diffs := 0
		for i := 1; i < len(w); i++ {
			for j := range header {
				total[j]++
				var gc, wc string
				if i < len(g) && j < len(g[i]) {
					gc = g[i][j]
				}
				if j < len(w[i]) {
					wc = w[i][j]
				}
				if gc == wc && i < len(g) {
					match[j]++
				} else if diffs++; diffs <= 10 {
					t.Errorf("%s row %d %s: got %q, FastF1 %q", s.name, i, header[j], gc, wc)
				}
			}
		}
		if diffs == 0 && !bytes.Equal(got, want) {
			t.Errorf("%s: cells agree but the bytes differ", s.name)
		}
	}
	var sb strings.Builder
	for j, col := range header {
		fmt.Fprintf(&sb, " %s %d/%d", col, match[j], total[j])
	}
	t.Logf("%s (%d sessions):%s", tableName, len(sessions), sb.String())
}

// TestRecorded parses every recorded RaceControlMessages feed, with or
// without a reference, and checks that each gives messages.
func TestRecorded(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(testdata, "recorded", "*", "static", "*", "*", "*", Feed))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded %s: %v", Feed, err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := Parse(body)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(ms) == 0 {
			t.Errorf("%s: no messages", p)
		}
		for i, m := range ms {
			if m.Time.IsZero() || m.Category == nil || m.Message == nil {
				t.Errorf("%s: message %d lacks Time, Category or Message: %+v", p, i+1, m)
				break
			}
		}
	}
	t.Logf("%d recorded feeds parse", len(paths))
}
