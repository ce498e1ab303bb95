package results

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader is the header row WriteCSV writes: FastF1's SessionResults
// columns in their order.
const CSVHeader = "DriverNumber,BroadcastName,Abbreviation,DriverId,TeamName,TeamColor,TeamId," +
	"FirstName,LastName,FullName,HeadshotUrl,CountryCode,Position,ClassifiedPosition,GridPosition," +
	"Q1,Q2,Q3,Time,Status,Points,Laps"

// WriteCSV writes rs in the byte format of the project's FastF1 reference
// results.csv (pandas to_csv of session.results): the CSVHeader row, then
// one row per Result in the given order, "\n" line ends, fields quoted only
// when they hold a comma, a double quote or a newline. Floats are written
// as Python's repr ("1.0", "25.0", "0.5"), durations as seconds with 3
// decimals ("80.126"), missing numbers and durations as empty cells. A
// missing text cell is written as FastF1's table has it: empty, "None" or
// "nan" (see Result); for a Result not made by Build, empty. It fails only
// when w does.
func WriteCSV(w io.Writer, rs []Result) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	for i := range rs {
		for j, f := range record(&rs[i]) {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(quote(f))
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("results: write csv: %w", err)
	}
	return nil
}

// record formats r as the cells of CSVHeader, unquoted.
func record(r *Result) []string {
	t := r.text()
	txt := func(c int) string {
		if v := *t[c]; v != nil {
			return *v
		}
		return r.gaps[c].spell()
	}
	return []string{
		r.DriverNumber, txt(colBroadcastName), txt(colAbbreviation), txt(colDriverID), txt(colTeamName),
		txt(colTeamColor), txt(colTeamID), txt(colFirstName), txt(colLastName), txt(colFullName),
		txt(colHeadshotURL), txt(colCountryCode), floatCell(r.Position), txt(colClassifiedPosition),
		floatCell(r.GridPosition), secondsCell(r.Q1), secondsCell(r.Q2), secondsCell(r.Q3), secondsCell(r.Time),
		txt(colStatus), floatCell(r.Points), floatCell(r.Laps),
	}
}

// floatCell formats an optional float as pandas writes a float64 cell.
func floatCell(f *float64) string {
	if f == nil {
		return ""
	}
	return pyrepr.CSV(*f)
}

// secondsCell formats an optional duration as the reference does: pandas'
// total_seconds (nanoseconds / 1e9) with 3 decimals.
func secondsCell(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*d)/1e9, 'f', 3, 64)
}

// quote quotes a field as Python's csv module does with pandas' "\n" line
// terminator: only when it holds a comma, a double quote or a newline.
func quote(s string) string {
	if !strings.ContainsAny(s, ",\"\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
