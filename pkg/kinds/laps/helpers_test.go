package laps

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	refDir      = "../../../testdata/f1/reference"
	recordedDir = "../../../testdata/f1/recorded"
)

// refSession is one reference session folder.
type refSession struct {
	name string // folder name
	dir  string
	info struct {
		Year         int      `json:"year"`
		Session      string   `json:"session"`
		APIPath      string   `json:"api_path"`
		SplitTimes   []string `json:"session_split_times_s"`
		HTTPRequests []struct {
			URL    string `json:"url"`
			Served bool   `json:"served"`
		} `json:"http_requests"`
	}
}

func loadSessions(t testing.TB) []refSession {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(refDir, "*", "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []refSession
	for _, p := range paths {
		var s refSession
		s.dir = filepath.Dir(p)
		s.name = filepath.Base(s.dir)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s.info); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if s.info.APIPath == "" {
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("no reference sessions found")
	}
	return out
}

// feed returns a recorded feed of the session (primary host first, then
// the mirror, as FastF1 falls back), nil when not recorded.
func (s *refSession) feed(name string) []byte {
	for _, host := range []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"} {
		b, err := os.ReadFile(filepath.Join(recordedDir, host, s.info.APIPath, name+".jsonStream"))
		if err == nil {
			return b
		}
	}
	return nil
}

// jolpica returns the recorded Jolpica body FastF1 read whose URL ends in
// suffix (only requests that were served count).
func (s *refSession) jolpica(suffix string) []byte {
	for _, r := range s.info.HTTPRequests {
		if !r.Served || !strings.Contains(r.URL, "api.jolpi.ca") || !strings.HasSuffix(r.URL, suffix) {
			continue
		}
		p := strings.TrimPrefix(r.URL, "https://")
		b, err := os.ReadFile(filepath.Join(recordedDir, p))
		if err == nil {
			return b
		}
	}
	return nil
}

func (s *refSession) input() Input {
	in := Input{
		Year: s.info.Year, Session: s.info.Session,
		TimingData: s.feed("TimingData"), TimingAppData: s.feed("TimingAppData"),
		SessionInfo: s.feed("SessionInfo"), DriverList: s.feed("DriverList"),
		TrackStatus: s.feed("TrackStatus"), SessionStatus: s.feed("SessionStatus"),
		RaceControlMessages: s.feed("RaceControlMessages"), LapCount: s.feed("LapCount"),
		JolpicaLap1: s.jolpica("/laps/1.json"),
	}
	for _, suf := range []string{"/results.json", "/qualifying.json", "/sprint.json"} {
		if b := s.jolpica(suf); b != nil {
			in.JolpicaResults = b
		}
	}
	return in
}

// table is a CSV file as header + rows.
type table struct {
	header []string
	rows   [][]string
}

func readCSV(t testing.TB, path string) *table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &table{header: all[0], rows: all[1:]}
}

func (tb *table) col(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	return -1
}

// keyed indexes rows by driver number and lap number columns.
func (tb *table) keyed(drvCol, lapCol string) map[string][]string {
	d, l := tb.col(drvCol), tb.col(lapCol)
	out := map[string][]string{}
	for _, r := range tb.rows {
		out[rowKey(r[d], r[l])] = r
	}
	return out
}

func rowKey(drv, lap string) string {
	f, _ := strconv.ParseFloat(lap, 64)
	return fmt.Sprintf("%s/%03d", drv, int(f))
}

// colKind says how a column is compared.
type colKind int

const (
	kindString colKind = iota
	kindTime           // seconds, within 1 ms
	kindNumber         // exact number
)

func kindOf(col string) colKind {
	switch col {
	case "Time", "LapTime", "PitOutTime", "PitInTime", "Sector1Time", "Sector2Time", "Sector3Time",
		"Sector1SessionTime", "Sector2SessionTime", "Sector3SessionTime", "LapStartTime":
		return kindTime
	case "LapNumber", "NumberOfLaps", "Stint", "SpeedI1", "SpeedI2", "SpeedFL", "SpeedST", "TyreLife", "Position",
		"StartLaps", "TotalLaps":
		return kindNumber
	}
	return kindString
}

// cellEqual compares two CSV cells of column col.
func cellEqual(col, a, b string) bool {
	if a == b {
		return true
	}
	k := kindOf(col)
	if k == kindString || a == "" || b == "" {
		return false
	}
	fa, err1 := strconv.ParseFloat(a, 64)
	fb, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	if k == kindTime {
		return math.Abs(fa-fb) <= 0.0011
	}
	return fa == fb
}

// comparison accumulates per-column agreement.
type comparison struct {
	cols     []string
	match    map[string]int
	total    map[string]int
	missing  []string
	extra    []string
	diffs    map[string][]string // column -> examples
	excluded int
}

func newComparison(cols []string) *comparison {
	return &comparison{cols: cols, match: map[string]int{}, total: map[string]int{}, diffs: map[string][]string{}}
}

func (c *comparison) cells() (m, t int) {
	for _, col := range c.cols {
		m += c.match[col]
		t += c.total[col]
	}
	return
}

// compare compares ours against ref row by row; skip reports cells that are
// deliberately excluded (a documented FastF1 bug).
func (c *comparison) compare(ref, ours *table, drvCol, lapCol string, skip func(key, col string) bool) {
	rk, ok := ref.keyed(drvCol, lapCol), ours.keyed(drvCol, lapCol)
	keys := make([]string, 0, len(rk))
	for k := range rk {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rr := rk[k]
		or, found := ok[k]
		if !found {
			c.missing = append(c.missing, k)
		}
		for _, col := range c.cols {
			ri, oi := ref.col(col), ours.col(col)
			if ri < 0 || oi < 0 {
				continue
			}
			if skip != nil && skip(k, col) {
				c.excluded++
				continue
			}
			c.total[col]++
			if found && cellEqual(col, rr[ri], or[oi]) {
				c.match[col]++
			} else if found && len(c.diffs[col]) < 6 {
				c.diffs[col] = append(c.diffs[col], fmt.Sprintf("%s ref=%q ours=%q", k, rr[ri], or[oi]))
			}
		}
	}
	for k := range ok {
		if _, found := rk[k]; !found {
			c.extra = append(c.extra, k)
		}
	}
	sort.Strings(c.extra)
}

func pct(m, t int) float64 {
	if t == 0 {
		return 100
	}
	return 100 * float64(m) / float64(t)
}
