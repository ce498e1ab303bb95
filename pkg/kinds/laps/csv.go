package laps

import (
	"github.com/paddock-f1/paddock/pkg/pyrepr"

	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSVHeader returns the header row WriteCSV writes (a fresh slice): FastF1's
// Laps columns minus LapStartDate, which needs car telemetry.
func CSVHeader() []string {
	return []string{"Time", "Driver", "DriverNumber", "LapTime", "LapNumber", "Stint", "PitOutTime", "PitInTime",
		"Sector1Time", "Sector2Time", "Sector3Time", "Sector1SessionTime", "Sector2SessionTime", "Sector3SessionTime",
		"SpeedI1", "SpeedI2", "SpeedFL", "SpeedST", "IsPersonalBest", "Compound", "TyreLife", "FreshTyre", "Team",
		"LapStartTime", "TrackStatus", "Position", "Deleted", "DeletedReason", "FastF1Generated", "IsAccurate"}
}

// WriteCSV writes laps in the byte format of the project's FastF1 reference
// laps.csv: the CSVHeader row, then one row per lap, "\n" line ends; times
// as seconds with 3 decimals, float columns (LapNumber, Stint, speeds,
// TyreLife, Position) like Python's float repr ("1.0", "289.5"), bools as
// "True"/"False", missing values as empty cells, fields quoted only when
// they contain a comma, quote or line break. It fails only when w does.
func WriteCSV(w io.Writer, laps []Lap) error { return writeCSV(w, laps, nil) }

// WriteCSVDated writes laps as WriteCSV does with FastF1's LapStartDate
// column after LapStartTime, as FastF1 has it with telemetry loaded:
// t0 (the session clock's UTC at offset zero) + LapStartTime, written as
// pandas writes a datetime column (milliseconds unless every date is a
// whole second), empty where LapStartTime is.
func WriteCSVDated(w io.Writer, laps []Lap, t0 time.Time) error { return writeCSV(w, laps, &t0) }

// lapStartTimeColumn is LapStartTime's index in CSVHeader.
const lapStartTimeColumn = 23

func writeCSV(w io.Writer, laps []Lap, t0 *time.Time) error {
	bw := bufio.NewWriter(w)
	header := CSVHeader()
	wholeSeconds := true
	if t0 != nil {
		header = slices.Insert(header, lapStartTimeColumn+1, "LapStartDate")
		for i := range laps {
			if d := laps[i].LapStartTime; d != nil && t0.Add(*d).Round(time.Millisecond).Nanosecond() != 0 {
				wholeSeconds = false
			}
		}
	}
	bw.WriteString(strings.Join(header, ","))
	bw.WriteByte('\n')
	for i := range laps {
		rec := Record(&laps[i])
		if t0 != nil {
			date := ""
			if d := laps[i].LapStartTime; d != nil {
				layout := "2006-01-02 15:04:05.000"
				if wholeSeconds {
					layout = "2006-01-02 15:04:05"
				}
				date = t0.Add(*d).Round(time.Millisecond).UTC().Format(layout)
			}
			rec = slices.Insert(rec, lapStartTimeColumn+1, date)
		}
		for j, f := range rec {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(quote(f))
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("laps: write csv: %w", err)
	}
	return nil
}

// Record formats one lap as the cells of CSVHeader, unquoted, with the
// formatting rules of WriteCSV. It never fails.
func Record(l *Lap) []string {
	return []string{
		fmtDur(l.Time), l.Driver, l.DriverNumber, fmtDur(l.LapTime), pyrepr.CSV(float64(l.LapNumber)), fmtIntPtr(l.Stint),
		fmtDur(l.PitOutTime), fmtDur(l.PitInTime),
		fmtDur(l.Sector1Time), fmtDur(l.Sector2Time), fmtDur(l.Sector3Time),
		fmtDur(l.Sector1SessionTime), fmtDur(l.Sector2SessionTime), fmtDur(l.Sector3SessionTime),
		fmtFloatPtr(l.SpeedI1), fmtFloatPtr(l.SpeedI2), fmtFloatPtr(l.SpeedFL), fmtFloatPtr(l.SpeedST),
		fmtBoolPtr(l.IsPersonalBest), l.Compound, fmtFloatPtr(l.TyreLife), fmtBoolPtr(l.FreshTyre), l.Team,
		fmtDur(l.LapStartTime), l.TrackStatus, fmtIntPtr(l.Position), fmtBoolPtr(l.Deleted), l.DeletedReason,
		fmtBool(l.FastF1Generated), fmtBool(l.IsAccurate),
	}
}

func quote(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func fmtDur(d *time.Duration) string {
	if d == nil {
		return ""
	}
	ms := d.Round(time.Millisecond).Milliseconds()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%s%d.%03d", sign, ms/1000, ms%1000)
}

func fmtFloatPtr(f *float64) string {
	if f == nil {
		return ""
	}
	return pyrepr.CSV(*f)
}

func fmtIntPtr(i *int) string {
	if i == nil {
		return ""
	}
	return strconv.Itoa(*i) + ".0"
}

func fmtBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func fmtBoolPtr(b *bool) string {
	if b == nil {
		return ""
	}
	return fmtBool(*b)
}
