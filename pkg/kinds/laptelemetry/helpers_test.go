package laptelemetry

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
)

// refSession is a reference session's inputs and FastF1's expectations,
// read from its folder under testdata/f1/reference.
type refSession struct {
	name  string
	input Input
	// fastest is telemetry.json's fastest_laps: FastF1's pick per driver
	// and whether get_telemetry gave rows or an error.
	fastest []refFastest
	// want is fastest_lap_telemetry.csv.gz, uncompressed.
	want []byte
}

type refFastest struct {
	DriverNumber string  `json:"DriverNumber"`
	Driver       string  `json:"Driver"`
	LapNumber    float64 `json:"LapNumber"`
	LapStart     string  `json:"LapStartTime_s"`
	Time         string  `json:"Time_s"`
	Rows         int     `json:"rows"`
	Error        string  `json:"error"`
	None         bool    `json:"-"` // fastest_lap: null
}

var (
	refMu    sync.Mutex
	refCache = map[string]*refSession{}
)

// loadReferences reads every reference session that has FastF1's
// fastest_lap_telemetry.csv.gz (cached for the test binary's lifetime).
func loadReferences(t testing.TB) []*refSession {
	t.Helper()
	var out []*refSession
	for _, r := range kindtest.References(t, "fastest_lap_telemetry.csv.gz") {
		refMu.Lock()
		s, ok := refCache[r.Dir]
		if !ok {
			s = readReference(t, r)
			refCache[r.Dir] = s
		}
		refMu.Unlock()
		out = append(out, s)
	}
	return out
}

func readReference(t testing.TB, r kindtest.Reference) *refSession {
	t.Helper()
	var meta struct {
		T0      string            `json:"t0_date"`
		Drivers []string          `json:"drivers"`
		Fastest []json.RawMessage `json:"fastest_laps"`
	}
	if err := json.Unmarshal(r.File(t, "telemetry.json"), &meta); err != nil {
		t.Fatalf("%s: telemetry.json: %v", r.Name, err)
	}
	t0 := parseDate(t, meta.T0)
	s := &refSession{
		name: r.Name,
		input: Input{
			T0:      t0,
			Drivers: meta.Drivers,
			Car:     map[string][]CarSample{},
			Pos:     map[string][]PosSample{},
		},
		want: gunzip(t, r.File(t, "fastest_lap_telemetry.csv.gz")),
	}
	for _, raw := range meta.Fastest {
		var f refFastest
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: fastest_laps: %v", r.Name, err)
		}
		f.None = bytes.Contains(raw, []byte(`"fastest_lap": null`)) || bytes.Contains(raw, []byte(`"fastest_lap":null`))
		s.fastest = append(s.fastest, f)
	}

	car := readTable(t, r.Name+"/car_data", gunzip(t, r.File(t, "car_data.csv.gz")))
	for _, row := range car.rows {
		g := func(c string) string { return row[car.col(t, c)] }
		date := parseDate(t, g("Date"))
		cs := CarSample{
			Date: date, SessionTime: date.Sub(t0),
			RPM: parseFloat(t, g("RPM")), Speed: parseFloat(t, g("Speed")), NGear: parseInt(t, g("nGear")),
			Throttle: parseFloat(t, g("Throttle")), Brake: g("Brake") == "True", DRS: parseInt(t, g("DRS")),
			Source: g("Source"),
		}
		if want := parseSeconds(t, g("SessionTime")); want != cs.SessionTime {
			t.Fatalf("%s car_data: SessionTime %v, Date − t0 %v", r.Name, want, cs.SessionTime)
		}
		s.input.Car[g("DriverNumber")] = append(s.input.Car[g("DriverNumber")], cs)
	}
	pos := readTable(t, r.Name+"/pos_data", gunzip(t, r.File(t, "pos_data.csv.gz")))
	for _, row := range pos.rows {
		g := func(c string) string { return row[pos.col(t, c)] }
		date := parseDate(t, g("Date"))
		ps := PosSample{
			Date: date, SessionTime: date.Sub(t0), Status: g("Status"),
			X: parseFloat(t, g("X")), Y: parseFloat(t, g("Y")), Z: parseFloat(t, g("Z")), Source: g("Source"),
		}
		s.input.Pos[g("DriverNumber")] = append(s.input.Pos[g("DriverNumber")], ps)
	}
	laps := readTable(t, r.Name+"/laps_with_telemetry", r.File(t, "laps_with_telemetry.csv"))
	for _, row := range laps.rows {
		g := func(c string) string { return row[laps.col(t, c)] }
		s.input.Laps = append(s.input.Laps, Lap{
			Driver: g("Driver"), DriverNumber: g("DriverNumber"), LapNumber: int(parseFloat(t, g("LapNumber"))),
			LapStartTime: optSeconds(t, g("LapStartTime")), Time: optSeconds(t, g("Time")), LapTime: optSeconds(t, g("LapTime")),
			IsPersonalBest: g("IsPersonalBest") == "True",
		})
	}
	return s
}

type table struct {
	header []string
	rows   [][]string
}

func readTable(t testing.TB, name string, b []byte) *table {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: not a CSV table: %v", name, err)
	}
	return &table{header: recs[0], rows: recs[1:]}
}

func (tb *table) col(t testing.TB, name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %s in %v", name, tb.header)
	return -1
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseDate(t testing.TB, s string) time.Time {
	d, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}

func parseFloat(t testing.TB, s string) float64 {
	if s == "" {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("float %q: %v", s, err)
	}
	return f
}

func parseInt(t testing.TB, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("int %q: %v", s, err)
	}
	return n
}

// parseSeconds reads "4423.727" (seconds, exact decimal) as a duration.
func parseSeconds(t testing.TB, s string) time.Duration {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(frac) > 9 {
		t.Fatalf("seconds %q: more than 9 decimals", s)
	}
	sec, err1 := strconv.ParseInt(whole, 10, 64)
	ns, err2 := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("seconds %q: not a decimal", s)
	}
	d := time.Duration(sec)*time.Second + time.Duration(ns)
	if neg {
		d = -d
	}
	return d
}

func optSeconds(t testing.TB, s string) *time.Duration {
	if s == "" {
		return nil
	}
	d := parseSeconds(t, s)
	return &d
}

// cellsAgree compares one cell of our CSV with FastF1's: float columns
// within 1e-6 relative (1e-9 absolute near zero), everything else as
// text. exact reports byte equality.
func cellsAgree(col, got, want string) (agree, exact bool) {
	if got == want {
		return true, true
	}
	switch col {
	case "DistanceToDriverAhead", "RPM", "Speed", "Throttle", "Distance", "RelativeDistance", "X", "Y", "Z":
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false, false
		}
		d := math.Abs(g - w)
		return d <= 1e-9 || d <= 1e-6*math.Max(math.Abs(g), math.Abs(w)), false
	}
	return false, false
}

// agreement tallies matching (and byte-identical) cells per column.
type agreement struct {
	cols              []string
	match, exact, cnt map[string]int
	rowsGot, rowsWant int
	shown             int
	differences       []string
}

func newAgreement(cols []string) *agreement {
	return &agreement{cols: cols, match: map[string]int{}, exact: map[string]int{}, cnt: map[string]int{}}
}

// compare tallies our rows against FastF1's (header excluded), row by row.
func (a *agreement) compare(label string, got, want [][]string) {
	a.rowsGot += len(got)
	a.rowsWant += len(want)
	for i, w := range want {
		for j, col := range a.cols {
			a.cnt[col]++
			var g string
			if i < len(got) && j < len(got[i]) {
				g = got[i][j]
			}
			ok, ex := cellsAgree(col, g, w[j])
			if i >= len(got) {
				ok, ex = false, false
			}
			if ok {
				a.match[col]++
			}
			if ex {
				a.exact[col]++
			}
			if !ok && len(a.differences) < 25 {
				a.differences = append(a.differences, fmt.Sprintf("%s row %d %s: ours %q, FastF1 %q", label, i+1, col, g, w[j]))
			}
		}
	}
}

func (a *agreement) add(b *agreement) {
	for _, c := range a.cols {
		a.match[c] += b.match[c]
		a.exact[c] += b.exact[c]
		a.cnt[c] += b.cnt[c]
	}
	a.rowsGot += b.rowsGot
	a.rowsWant += b.rowsWant
}

func (a *agreement) totals() (match, exact, cnt int) {
	for _, c := range a.cols {
		match, exact, cnt = match+a.match[c], exact+a.exact[c], cnt+a.cnt[c]
	}
	return
}

func (a *agreement) String() string {
	var parts []string
	for _, c := range a.cols {
		parts = append(parts, fmt.Sprintf("%s %d/%d (%d exact)", c, a.match[c], a.cnt[c], a.exact[c]))
	}
	m, e, n := a.totals()
	return fmt.Sprintf("rows %d (FastF1 %d); cells %d/%d = %.4f%% (%d byte-identical)\n  %s",
		a.rowsGot, a.rowsWant, m, n, 100*float64(m)/float64(max(n, 1)), e, strings.Join(parts, "\n  "))
}
