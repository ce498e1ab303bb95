package laptelemetry

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader returns the header row WriteCSV writes (a fresh slice):
// Driver and DriverNumber, then FastF1's merged telemetry columns.
func CSVHeader() []string {
	return []string{"Driver", "DriverNumber", "Date", "SessionTime", "DriverAhead", "DistanceToDriverAhead",
		"Time", "RPM", "Speed", "nGear", "Throttle", "Brake", "DRS", "Source", "Distance", "RelativeDistance",
		"Status", "X", "Y", "Z"}
}

// WriteCSV writes results in the byte format of the project's FastF1
// reference fastest_lap_telemetry.csv.gz (uncompressed): the CSVHeader
// row, then a row per sample, results in order, "\n" line ends. Driver
// and DriverNumber come from each result's Lap; Date as pandas writes a
// datetime column (UTC, "2006-01-02 15:04:05" with as many fractional
// digits, 3, 6 or 9, as the finest date of the whole file needs);
// SessionTime and Time as seconds with 3 decimals; floats as Python's
// repr, NaN as an empty cell; Brake as "True"/"False"; text quoted only
// when it holds a comma, quote or line break. It fails only when w does.
func WriteCSV(w io.Writer, results []Result) error {
	digits := 0
	for _, r := range results {
		for _, s := range r.Samples {
			switch ns := s.Date.Nanosecond(); {
			case ns%1000 != 0:
				digits = 9
			case ns%1000000 != 0:
				digits = max(digits, 6)
			case ns != 0:
				digits = max(digits, 3)
			}
		}
	}
	layout := "2006-01-02 15:04:05"
	if digits > 0 {
		layout += "." + strings.Repeat("0", digits)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(CSVHeader(), ","))
	bw.WriteByte('\n')
	var buf []byte
	for _, r := range results {
		for i := range r.Samples {
			buf = appendRow(buf[:0], r.Lap.Driver, r.Lap.DriverNumber, &r.Samples[i], layout)
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func appendRow(b []byte, driver, number string, s *Sample, layout string) []byte {
	b = pyrepr.AppendCSVText(b, driver)
	b = append(b, ',')
	b = pyrepr.AppendCSVText(b, number)
	b = append(b, ',')
	b = s.Date.UTC().AppendFormat(b, layout)
	b = append(b, ',')
	b = pyrepr.AppendSeconds(b, s.SessionTime)
	b = append(b, ',')
	b = pyrepr.AppendCSVText(b, s.DriverAhead)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.DistanceToDriverAhead)...)
	b = append(b, ',')
	b = pyrepr.AppendSeconds(b, s.Time)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.RPM)...)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.Speed)...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.NGear), 10)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.Throttle)...)
	b = append(b, ',')
	if s.Brake {
		b = append(b, "True"...)
	} else {
		b = append(b, "False"...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.DRS), 10)
	b = append(b, ',')
	b = pyrepr.AppendCSVText(b, s.Source)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.Distance)...)
	b = append(b, ',')
	b = append(b, pyrepr.CSV(s.RelativeDistance)...)
	b = append(b, ',')
	b = pyrepr.AppendCSVText(b, s.Status)
	for _, f := range [...]float64{s.X, s.Y, s.Z} {
		b = append(b, ',')
		b = append(b, pyrepr.CSV(f)...)
	}
	return append(b, '\n')
}
