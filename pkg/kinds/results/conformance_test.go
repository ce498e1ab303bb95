package results

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

const (
	// referenceDir holds the project's FastF1 reference sessions.
	referenceDir = "../../../testdata/f1/reference"
	// recordedDir holds the upstream responses FastF1 read.
	recordedDir = "../../../testdata/f1/recorded"
	// extraDir holds FastF1's results of the other recorded sessions
	// (testdata/fastf1/generate.py).
	extraDir = "testdata/fastf1"
)

// refSession is one folder with FastF1's results.csv and the info.json of
// the run that made it.
type refSession struct {
	name, dir string
	info      struct {
		Year         int    `json:"year"`
		Round        int    `json:"round"`
		Session      string `json:"session"`
		HTTPRequests []struct {
			URL    string `json:"url"`
			Served bool   `json:"served"`
		} `json:"http_requests"`
	}
}

// loadSessions returns the folders under dir that hold results.csv and
// info.json.
func loadSessions(t testing.TB, dir string) []refSession {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*", "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []refSession
	for _, p := range paths {
		s := refSession{dir: filepath.Dir(p), name: filepath.Base(filepath.Dir(p))}
		b, err := os.ReadFile(filepath.Join(s.dir, "info.json"))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if err := json.Unmarshal(b, &s.info); err != nil {
			t.Fatalf("%s: info.json: %v", s.name, err)
		}
		out = append(out, s)
	}
	return out
}

// served returns the recorded body of the one URL FastF1 got answered
// that match selects, nil when FastF1 got none.
func (s *refSession) served(t testing.TB, match func(url string) bool) []byte {
	t.Helper()
	var body []byte
	for _, r := range s.info.HTTPRequests {
		if !r.Served || !match(r.URL) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(recordedDir, strings.TrimPrefix(r.URL, "https://")))
		if err != nil {
			t.Fatalf("%s: FastF1 read %s: %v", s.name, r.URL, err)
		}
		body = b
	}
	return body
}

// input is the Input of the session: exactly the DriverList and Jolpica
// results document FastF1 was served.
func (s *refSession) input(t testing.TB) Input {
	return Input{
		Year: s.info.Year, Round: s.info.Round, Session: s.info.Session,
		DriverList: s.served(t, func(u string) bool { return strings.HasSuffix(u, "/DriverList.jsonStream") }),
		Jolpica: s.served(t, func(u string) bool {
			return strings.Contains(u, "://api.jolpi.ca/") && !strings.Contains(u, "/laps")
		}),
	}
}

// TestConformance builds every session FastF1 wrote a results.csv for
// (the project's reference, then testdata/fastf1), writes it and compares
// it with FastF1's cell by cell, rows matched by DriverNumber. It logs the
// agreement per column and session and fails on any difference, on rows
// missing or extra, and on any byte of the file that differs (row order).
func TestConformance(t *testing.T) {
	for _, group := range []struct{ label, dir string }{{"reference", referenceDir}, {"fastf1-extra", extraDir}} {
		sessions := loadSessions(t, group.dir)
		if group.dir == referenceDir && len(sessions) < 11 {
			t.Fatalf("found %d reference sessions with results.csv under %s, want 11", len(sessions), referenceDir)
		}
		var sb strings.Builder
		header := strings.Split(CSVHeader, ",")
		fmt.Fprintf(&sb, "%s: per-column agreement with FastF1's results.csv (%%)\n%-48s", group.label, "session")
		for _, col := range header {
			fmt.Fprintf(&sb, " %s", col)
		}
		sb.WriteString("\n")
		for _, s := range sessions {
			want, err := os.ReadFile(filepath.Join(s.dir, "results.csv"))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Build(s.input(t))
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
				continue
			}
			var got bytes.Buffer
			if err := WriteCSV(&got, rs); err != nil {
				t.Fatal(err)
			}
			match, total, diffs := compareCells(t, want, got.Bytes())
			fmt.Fprintf(&sb, "%-48s", s.name)
			for i, col := range header {
				fmt.Fprintf(&sb, " %*s", len(col), fmt.Sprintf("%.0f", pct(match[i], total)))
			}
			sb.WriteString("\n")
			for _, d := range diffs {
				t.Errorf("%s: %s", s.name, d)
			}
			if len(diffs) == 0 && !bytes.Equal(want, got.Bytes()) {
				t.Errorf("%s: every cell agrees but the bytes differ (row order or quoting):\n got:\n%s\nwant:\n%s", s.name, got.Bytes(), want)
			}
		}
		t.Log("\n" + sb.String())
	}
}

// compareCells compares two results CSVs cell by cell, rows matched by
// DriverNumber: per column the cells that agree, the rows compared, and a
// description of every difference.
func compareCells(t testing.TB, want, got []byte) (match []int, total int, diffs []string) {
	t.Helper()
	read := func(b []byte) ([]string, map[string][]string) {
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("read csv: %v", err)
		}
		rows := map[string][]string{}
		for _, r := range recs[1:] {
			rows[r[0]] = r
		}
		return recs[0], rows
	}
	wh, wr := read(want)
	gh, gr := read(got)
	if strings.Join(wh, ",") != strings.Join(gh, ",") {
		return make([]int, len(strings.Split(CSVHeader, ","))), 0, []string{fmt.Sprintf("header %v, want %v", gh, wh)}
	}
	match = make([]int, len(wh))
	for num, w := range wr {
		total++
		g, ok := gr[num]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("driver %s missing", num))
			continue
		}
		for i := range w {
			if w[i] == g[i] {
				match[i]++
			} else {
				diffs = append(diffs, fmt.Sprintf("driver %s %s = %q, want %q", num, wh[i], g[i], w[i]))
			}
		}
	}
	for num := range gr {
		if _, ok := wr[num]; !ok {
			diffs = append(diffs, fmt.Sprintf("driver %s extra", num))
		}
	}
	return match, total, diffs
}

// pct is 100·n/total, 100 for an empty table.
func pct(n, total int) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(n) / float64(total)
}
