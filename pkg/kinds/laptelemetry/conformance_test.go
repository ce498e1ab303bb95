package laptelemetry

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// conformanceFloor is the share of cells (percent) of FastF1's
// fastest_lap_telemetry.csv.gz that must agree, over all sessions.
const conformanceFloor = 99.5

// TestConformance merges every driver's fastest lap of every reference
// session and compares the result with FastF1's get_telemetry() cell by
// cell; drivers FastF1 could not give telemetry for must fail with the
// same kind of error, drivers without a fastest lap with ErrNoFastestLap.
func TestConformance(t *testing.T) {
	header := CSVHeader()
	overall := newAgreement(header)
	for _, ref := range loadReferences(t) {
		s, err := New(ref.input)
		if err != nil {
			t.Fatalf("%s: %v", ref.name, err)
		}
		want := readTable(t, ref.name+" (FastF1)", ref.want)
		if strings.Join(want.header, ",") != strings.Join(header, ",") {
			t.Fatalf("%s: FastF1's header %v, ours %v", ref.name, want.header, header)
		}
		wantRows := map[string][][]string{}
		for _, row := range want.rows {
			wantRows[row[1]] = append(wantRows[row[1]], row)
		}

		sess := newAgreement(header)
		var results []Result
		keyErrors, noFastest := 0, 0
		for _, f := range ref.fastest {
			res, err := s.Fastest(f.DriverNumber)
			switch {
			case f.None:
				if !errors.Is(err, ErrNoFastestLap) {
					t.Errorf("%s driver %s: FastF1 has no fastest lap, we: %v", ref.name, f.DriverNumber, err)
				}
				noFastest++
				continue
			case res.Lap.LapNumber != int(f.LapNumber) || seconds3(res.Lap.LapStartTime) != f.LapStart || seconds3(res.Lap.Time) != f.Time:
				t.Errorf("%s driver %s: fastest lap %d (%s–%s), FastF1's %v (%s–%s)", ref.name, f.DriverNumber,
					res.Lap.LapNumber, seconds3(res.Lap.LapStartTime), seconds3(res.Lap.Time), f.LapNumber, f.LapStart, f.Time)
			case strings.HasPrefix(f.Error, "KeyError"):
				if !errors.Is(err, ErrNoTelemetry) {
					t.Errorf("%s driver %s: FastF1 %s, we: %v", ref.name, f.DriverNumber, f.Error, err)
				}
				keyErrors++
				continue
			case f.Error != "":
				t.Errorf("%s driver %s: FastF1 failed with %s, a kind this test does not know", ref.name, f.DriverNumber, f.Error)
				continue
			}
			if err != nil {
				t.Errorf("%s driver %s: %v", ref.name, f.DriverNumber, err)
				continue
			}
			if len(res.Samples) != f.Rows {
				t.Errorf("%s driver %s: %d rows, FastF1 %d", ref.name, f.DriverNumber, len(res.Samples), f.Rows)
			}
			results = append(results, res)
			var buf bytes.Buffer
			if err := WriteCSV(&buf, []Result{res}); err != nil {
				t.Fatal(err)
			}
			got := readTable(t, ref.name+" (ours)", buf.Bytes())
			sess.compare(ref.name+" driver "+f.DriverNumber, got.rows, wantRows[f.DriverNumber])
			delete(wantRows, f.DriverNumber)
		}
		for drv := range wantRows {
			t.Errorf("%s: FastF1 has telemetry of driver %s, telemetry.json no fastest lap for it", ref.name, drv)
		}
		if sess.rowsGot != sess.rowsWant {
			t.Errorf("%s: %d rows, FastF1 %d", ref.name, sess.rowsGot, sess.rowsWant)
		}
		var all bytes.Buffer
		if err := WriteCSV(&all, results); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d drivers merged, %d KeyErrors of FastF1 checked (ErrNoTelemetry), %d drivers without fastest lap checked; file byte-identical: %v; %s",
			ref.name, len(results), keyErrors, noFastest, bytes.Equal(all.Bytes(), ref.want), sess)
		for _, d := range sess.differences {
			t.Log("  differs: " + d)
		}
		overall.add(sess)
	}
	m, _, n := overall.totals()
	pct := 100 * float64(m) / float64(max(n, 1))
	t.Logf("all sessions: %s", overall)
	if pct < conformanceFloor {
		t.Errorf("cell agreement %.4f%% is below %.1f%%", pct, conformanceFloor)
	}
}

func seconds3(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return string(pyrepr.AppendSeconds(nil, *d))
}

// BenchmarkFastestLap merges one fastest lap (per op) of a reference
// session, driver ahead included.
func BenchmarkFastestLap(b *testing.B) {
	refs := loadReferences(b)
	for _, ref := range refs {
		s, err := New(ref.input)
		if err != nil {
			b.Fatal(err)
		}
		var drv string
		for _, f := range ref.fastest {
			if f.Rows > 0 {
				drv = f.DriverNumber
				break
			}
		}
		b.Run(ref.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Fastest(drv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
