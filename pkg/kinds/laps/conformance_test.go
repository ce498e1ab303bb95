package laps

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// conformanceFloor is the overall cell agreement (percent) with FastF1's
// laps.csv below which TestConformance fails; set just under the measured
// figure so that regressions show up.
const conformanceFloor = 99.99

// deliberate lists cells where paddock knowingly differs from FastF1,
// keyed "session/driver/lap/column" with the reason. It is empty: on the
// fixtures every comparable cell agrees. The deliberate deviations are all
// about robustness where FastF1 raises and loses the whole laps table (an
// unsorted tyre message time for merge_asof, a stint index beyond the pit
// brackets in the tyre fix): Derive keeps going (see fixTyres/buildLaps).
// Laps generated for cars that retired on track end at abort time or
// +150 s, as FastF1 does without car data; FastF1 with telemetry loaded
// would use the first zero-speed sample instead.
var deliberate = map[string]string{}

// TestConformance derives every reference session that has a laps.csv and
// compares it with FastF1's output cell by cell.
func TestConformance(t *testing.T) {
	var sb strings.Builder
	overall := newComparison(CSVHeader())
	perSession := map[string]*comparison{}
	var names []string
	for _, s := range loadSessions(t) {
		refPath := filepath.Join(s.dir, "laps.csv")
		if _, err := os.Stat(refPath); err != nil {
			continue
		}
		names = append(names, s.name)
		ref := readCSV(t, refPath)
		res, err := Derive(s.input())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, res.Laps); err != nil {
			t.Fatal(err)
		}
		all, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s: re-read our csv: %v", s.name, err)
		}
		ours := &table{header: all[0], rows: all[1:]}
		skip := func(key, col string) bool {
			_, ok := deliberate[s.name+"/"+key+"/"+col]
			return ok
		}
		c := newComparison(CSVHeader())
		c.compare(ref, ours, "DriverNumber", "LapNumber", skip)
		overall.compare(ref, ours, "DriverNumber", "LapNumber", skip)
		perSession[s.name] = c
		if len(c.missing) > 0 {
			t.Errorf("%s: reference laps missing: %v", s.name, c.missing)
		}
		for _, col := range CSVHeader() {
			for _, d := range c.diffs[col] {
				t.Logf("%s %s: %s", s.name, col, d)
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no reference session with laps.csv")
	}
	// table: rows = columns, one column per session
	short := func(n string) string {
		p := strings.Split(n, "_")
		return p[0] + "_" + p[1]
	}
	fmt.Fprintf(&sb, "%-20s", "column")
	for _, n := range names {
		fmt.Fprintf(&sb, " %8s", short(n))
	}
	fmt.Fprintf(&sb, " %8s\n", "all")
	for _, col := range CSVHeader() {
		fmt.Fprintf(&sb, "%-20s", col)
		for _, n := range names {
			c := perSession[n]
			fmt.Fprintf(&sb, " %8.2f", pct(c.match[col], c.total[col]))
		}
		fmt.Fprintf(&sb, " %8.3f\n", pct(overall.match[col], overall.total[col]))
	}
	fmt.Fprintf(&sb, "%-20s", "ALL CELLS")
	for _, n := range names {
		m, tot := perSession[n].cells()
		fmt.Fprintf(&sb, " %8.3f", pct(m, tot))
	}
	m, tot := overall.cells()
	fmt.Fprintf(&sb, " %8.3f\n", pct(m, tot))
	fmt.Fprintf(&sb, "%-20s", "missing/extra laps")
	for _, n := range names {
		c := perSession[n]
		fmt.Fprintf(&sb, " %8s", fmt.Sprintf("%d/%d", len(c.missing), len(c.extra)))
	}
	fmt.Fprintf(&sb, " %8s\n", fmt.Sprintf("%d/%d", len(overall.missing), len(overall.extra)))
	fmt.Fprintf(&sb, "cells: %d of %d agree (%.4f%%), %d excluded (deliberate deviation)\n", m, tot, pct(m, tot), overall.excluded)
	t.Log("\n" + sb.String())
	if p := pct(m, tot); p < conformanceFloor {
		t.Errorf("overall agreement %.4f%% below floor %.2f%%", p, conformanceFloor)
	}
}

// TestWriteCSVBytes checks that WriteCSV reproduces FastF1's laps.csv byte
// for byte for every reference session.
func TestWriteCSVBytes(t *testing.T) {
	for _, s := range loadSessions(t) {
		refPath := filepath.Join(s.dir, "laps.csv")
		want, err := os.ReadFile(refPath)
		if err != nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			res, err := Derive(s.input())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, res.Laps); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				got := strings.Split(buf.String(), "\n")
				ref := strings.Split(string(want), "\n")
				for i := 0; i < len(got) && i < len(ref); i++ {
					if got[i] != ref[i] {
						t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, got[i], ref[i])
					}
				}
				t.Fatalf("length differs: %d vs %d lines", len(got), len(ref))
			}
		})
	}
}

// BenchmarkDerive derives the laps of every reference session, one
// sub-benchmark per session: parse + derive time and allocations.
func BenchmarkDerive(b *testing.B) {
	for _, s := range loadSessions(b) {
		if _, err := os.Stat(filepath.Join(s.dir, "laps.csv")); err != nil {
			continue
		}
		in := s.input()
		b.Run(filepath.Base(s.dir), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.TimingData) + len(in.TimingAppData)))
			for b.Loop() {
				if _, err := Derive(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWriteCSVDatedMatchesFastF1WithTelemetry: with FastF1's t0_date of a
// session with telemetry, the laps written with LapStartDate equal
// FastF1's laps_with_telemetry.csv byte for byte.
func TestWriteCSVDatedMatchesFastF1WithTelemetry(t *testing.T) {
	n := 0
	for _, s := range loadSessions(t) {
		want, err := os.ReadFile(filepath.Join(s.dir, "laps_with_telemetry.csv"))
		if err != nil {
			continue
		}
		n++
		var tel struct {
			T0 string `json:"t0_date"`
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "telemetry.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &tel); err != nil {
			t.Fatal(err)
		}
		t0, err := time.Parse("2006-01-02 15:04:05.999999", tel.T0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Derive(s.input())
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteCSVDated(&got, res.Laps, t0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Fatalf("%s line %d:\n got %s\nwant %s", s.name, i+1, g[i], w[i])
				}
			}
			t.Fatalf("%s: %d lines, FastF1 %d", s.name, len(g), len(w))
		}
	}
	if n == 0 {
		t.Fatal("no reference session has laps_with_telemetry.csv")
	}
	t.Logf("%d sessions' laps_with_telemetry.csv byte-identical", n)
}
