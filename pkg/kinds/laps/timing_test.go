package laps

import (
	"github.com/paddock-f1/paddock/pkg/pyrepr"

	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// stage1Cols are the compared columns of stage1_timing_data_laps.csv
// (NumberOfPitStops is dropped by FastF1 before it reaches Laps).
var stage1Cols = []string{"Time", "LapTime", "NumberOfLaps", "PitOutTime", "PitInTime",
	"Sector1Time", "Sector2Time", "Sector3Time", "Sector1SessionTime", "Sector2SessionTime", "Sector3SessionTime",
	"SpeedI1", "SpeedI2", "SpeedFL", "SpeedST", "IsPersonalBest"}

func stage1Table(laps []Lap) *table {
	tb := &table{header: append([]string{"Driver"}, stage1Cols...)}
	for i := range laps {
		l := &laps[i]
		rec := Record(l)
		get := func(name string) string {
			for j, h := range CSVHeader() {
				if h == name {
					return rec[j]
				}
			}
			return ""
		}
		row := []string{l.DriverNumber}
		for _, c := range stage1Cols {
			if c == "NumberOfLaps" {
				row = append(row, strconv.Itoa(l.LapNumber))
				continue
			}
			row = append(row, get(c))
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// TestTimingStage compares the TimingData stage with FastF1's
// stage1_timing_data_laps.csv for every reference session (including the
// TimingData-only ones).
func TestTimingStage(t *testing.T) {
	for _, s := range loadSessions(t) {
		t.Run(s.name, func(t *testing.T) {
			ref := readCSV(t, filepath.Join(s.dir, "stage1_timing_data_laps.csv"))
			laps, splits, _, err := TimingStage(s.feed("TimingData"))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range s.info.SplitTimes {
				got := strconv.FormatFloat(splits[i].Seconds(), 'f', 3, 64)
				if !cellEqual("Time", want, got) {
					t.Errorf("session split time %d = %s, FastF1 %s", i, got, want)
				}
			}
			c := newComparison(stage1Cols)
			c.compare(ref, stage1Table(laps), "Driver", "NumberOfLaps", nil)
			m, tot := c.cells()
			t.Logf("stage1 %s: %.3f%% of %d cells, missing %d, extra %d", s.name, pct(m, tot), tot, len(c.missing), len(c.extra))
			for _, col := range stage1Cols {
				for _, d := range c.diffs[col] {
					t.Logf("  %s: %s", col, d)
				}
			}
			if len(c.missing) > 0 || len(c.extra) > 0 {
				t.Errorf("missing laps %v, extra laps %v", c.missing, c.extra)
			}
			if m != tot {
				t.Errorf("stage1 cells differ: %d of %d", tot-m, tot)
			}
		})
	}
}

// TestTyreStage compares TyreStage with FastF1's stage1_timing_app_data.csv
// row by row (both are in feed order).
func TestTyreStage(t *testing.T) {
	cols := []string{"Driver", "Stint", "Time", "Compound", "New", "StartLaps", "TotalLaps"}
	for _, s := range loadSessions(t) {
		refPath := filepath.Join(s.dir, "stage1_timing_app_data.csv")
		if _, err := os.Stat(refPath); err != nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			ref := readCSV(t, refPath)
			msgs, err := TyreStage(s.feed("TimingAppData"))
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != len(ref.rows) {
				t.Fatalf("%d messages, FastF1 has %d rows", len(msgs), len(ref.rows))
			}
			bad := 0
			for i, m := range msgs {
				comp, fresh := "", ""
				if m.Compound != nil {
					comp = *m.Compound
				}
				if m.New != nil {
					fresh = fmtBool(*m.New)
				}
				ours := map[string]string{
					"Driver": m.Driver, "Stint": strconv.Itoa(m.Stint), "Time": fmtDur(&m.Time),
					"Compound": comp, "New": fresh, "StartLaps": pyrepr.CSV(m.StartLaps), "TotalLaps": pyrepr.CSV(m.TotalLaps),
				}
				for _, c := range cols {
					want := ref.rows[i][ref.col(c)]
					if !cellEqual(c, want, ours[c]) {
						bad++
						if bad < 10 {
							t.Errorf("row %d %s: ours %q, FastF1 %q", i, c, ours[c], want)
						}
					}
				}
			}
		})
	}
}
