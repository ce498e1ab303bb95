// Package kindtest is what a kind's conformance test needs: the reference
// sessions shipped in testdata/ (FastF1's outputs with the recorded feeds
// FastF1 read for them) and a cell-by-cell comparison of a CSV with
// FastF1's that logs the agreement per column.
package kindtest

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

// Reference is one reference session folder of testdata/f1/reference.
type Reference struct {
	Name    string // folder name, e.g. 2019_14_Italian_Grand_Prix_Qualifying
	Dir     string
	Year    int    `json:"year"`
	Round   int    `json:"round"`
	Session string `json:"session"`
	APIPath string `json:"api_path"` // the session's archive path, "/static/..."
}

// References lists the reference sessions that have FastF1's table file
// (e.g. "track_status.csv"; "info.json" for every session); it fails the
// test when there is none.
func References(t testing.TB, file string) []Reference {
	t.Helper()
	infos, err := filepath.Glob(filepath.Join(testenv.Reference(t), "*", "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []Reference
	for _, info := range infos {
		dir := filepath.Dir(info)
		if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
			continue
		}
		b, err := os.ReadFile(info)
		if err != nil {
			t.Fatal(err)
		}
		r := Reference{Name: filepath.Base(dir), Dir: dir}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", info, err)
		}
		if r.APIPath == "" {
			continue // not a session (the circuit layout's folder)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatalf("no reference session has %s", file)
	}
	return out
}

// File reads one of the reference's files (FastF1's outputs).
func (r Reference) File(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Table returns FastF1's table of the reference by its name (e.g.
// "car_data"): <name>.csv, or <name>.csv.gz decompressed; ok is false when
// the reference has neither.
func (r Reference) Table(t testing.TB, name string) (csv []byte, ok bool) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(r.Dir, name+".csv")); err == nil {
		return b, true
	}
	f, err := os.Open(filepath.Join(r.Dir, name+".csv.gz"))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %s.csv.gz: %v", r.Name, name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %s.csv.gz: %v", r.Name, name, err)
	}
	return b, true
}

// Feed returns the recorded body of a live-timing feed of the session
// (the F1 archive first, then its mirror, as the loader asks them);
// ok is false when neither recorded it.
func (r Reference) Feed(t testing.TB, feed string) (body []byte, ok bool) {
	t.Helper()
	for _, host := range []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"} {
		b, err := os.ReadFile(filepath.Join(testenv.Recorded(t), host, r.APIPath, feed))
		if err == nil {
			return b, true
		}
	}
	return nil, false
}

// Recorded reads a recorded document by host and URL path, e.g.
// ("api.jolpi.ca", "/ergast/f1/2019/14/qualifying.json"); ok is false
// when it was not recorded.
func Recorded(t testing.TB, host, path string) (body []byte, ok bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Recorded(t), host, path))
	return b, err == nil
}

// Agreement tallies matching cells per column over several tables.
type Agreement struct {
	Columns []string
	match   map[string]int
	total   map[string]int
	Files   int // tables compared
	Same    int // of which byte-identical
}

// Compare compares our CSV with FastF1's, row by row in order: the
// headers must be equal, so must the row counts and every cell. Each
// difference fails the test (a few per table are shown) and is tallied.
func (a *Agreement) Compare(t testing.TB, name string, got, want []byte) {
	t.Helper()
	if a.match == nil {
		a.match, a.total = map[string]int{}, map[string]int{}
	}
	g, w := records(t, name+" (ours)", got), records(t, name+" (FastF1)", want)
	a.Files++
	if bytes.Equal(got, want) {
		a.Same++
	}
	if strings.Join(g[0], ",") != strings.Join(w[0], ",") {
		t.Errorf("%s: header %q, FastF1's %q", name, g[0], w[0])
		return
	}
	if a.Columns == nil {
		a.Columns = w[0]
	}
	if len(g) != len(w) {
		t.Errorf("%s: %d rows, FastF1 has %d", name, len(g)-1, len(w)-1)
	}
	shown := 0
	for i := 1; i < len(w); i++ {
		for j, col := range w[0] {
			var gc string
			if i < len(g) && j < len(g[i]) {
				gc = g[i][j]
			}
			a.total[col]++
			if i < len(g) && gc == w[i][j] {
				a.match[col]++
			} else if shown++; shown <= 10 {
				t.Errorf("%s row %d %s: %q, FastF1 %q", name, i, col, gc, w[i][j])
			}
		}
	}
	if shown == 0 && len(g) == len(w) && !bytes.Equal(got, want) {
		t.Errorf("%s: every cell agrees but the bytes differ", name)
	}
}

// String is the agreement per column, e.g.
// "Time 105/105, Status 105/105; 11 of 11 files byte-identical".
func (a *Agreement) String() string {
	var cols []string
	for _, c := range a.Columns {
		cols = append(cols, fmt.Sprintf("%s %d/%d", c, a.match[c], a.total[c]))
	}
	return fmt.Sprintf("%s; %d of %d files byte-identical", strings.Join(cols, ", "), a.Same, a.Files)
}

func records(t testing.TB, name string, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: not a CSV table: %v", name, err)
	}
	return recs
}

// FeedConformance checks a table made from one live-timing feed against
// FastF1's: for every reference session with FastF1's file (e.g.
// "track_status.csv"), render turns the session's recorded feed into our
// CSV, which must equal FastF1's cell for cell and byte for byte. It logs
// the agreement per column.
func FeedConformance(t *testing.T, file, feed string, render func(body []byte) ([]byte, error)) {
	t.Helper()
	var a Agreement
	refs := References(t, file)
	for _, r := range refs {
		body, ok := r.Feed(t, feed)
		if !ok {
			t.Fatalf("%s: %s is not recorded", r.Name, feed)
		}
		got, err := render(body)
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		a.Compare(t, r.Name, got, r.File(t, file))
	}
	t.Logf("%s (%d sessions): %s", file, len(refs), &a)
}

// EveryRecorded runs check on every recorded copy of a live-timing feed,
// whether or not FastF1's output for its session is shipped; check fails
// by returning an error, which fails the test naming the file.
func EveryRecorded(t *testing.T, feed string, check func(body []byte) error) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testenv.Recorded(t), "*", "static", "*", "*", "*", feed))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded %s: %v", feed, err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(body); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	t.Logf("%d recorded %s checked", len(paths), feed)
}
