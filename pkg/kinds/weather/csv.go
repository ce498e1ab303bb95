package weather

import (
	"github.com/paddock-f1/paddock/pkg/pyrepr"

	"bufio"
	"fmt"
	"io"
	"strconv"
)

// CSVHeader is the header line of FastF1's weather table as written by
// [WriteCSV] (without the line feed).
const CSVHeader = "Time,AirTemp,Humidity,Pressure,Rainfall,TrackTemp,WindDirection,WindSpeed"

// WriteCSV writes samples as FastF1's weather table in pandas to_csv form,
// byte for byte: the [CSVHeader] line, then one line per sample, LF line
// endings, no index column, no quoting (no value can contain a comma).
//
// Cells: Time is the stream offset in seconds with exactly three decimals
// (rounded to the millisecond); floats are written as Python's repr (shortest
// round-trip digits, "22.0" for whole numbers, exponent form below 1e-4 and
// from 1e16, "inf"/"-inf"); NaN is written as an empty cell (pandas' missing
// value); Rainfall is "True"/"False"; WindDirection is a decimal integer.
// Nil fields are written as FastF1 stores a missing or unparsable value:
// its converter applied to 0, i.e. "0.0" for floats, "False" for Rainfall and
// "0" for WindDirection. UTC is not written (FastF1's table has no such
// column).
//
// The only error is one from w, returned with context.
func WriteCSV(w io.Writer, samples []Sample) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	var buf []byte
	for i := range samples {
		s := &samples[i]
		buf = pyrepr.AppendSeconds(buf[:0], s.Time)
		buf = append(buf, ',')
		buf = appendFloat(buf, s.AirTemp)
		buf = append(buf, ',')
		buf = appendFloat(buf, s.Humidity)
		buf = append(buf, ',')
		buf = appendFloat(buf, s.Pressure)
		buf = append(buf, ',')
		if s.Rainfall != nil && *s.Rainfall {
			buf = append(buf, "True"...)
		} else {
			buf = append(buf, "False"...)
		}
		buf = append(buf, ',')
		buf = appendFloat(buf, s.TrackTemp)
		buf = append(buf, ',')
		wd := int64(0)
		if s.WindDirection != nil {
			wd = int64(*s.WindDirection)
		}
		buf = strconv.AppendInt(buf, wd, 10)
		buf = append(buf, ',')
		buf = appendFloat(buf, s.WindSpeed)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("weather: write CSV: %w", err)
	}
	return nil
}

// appendFloat appends *p (0.0 when nil) as pandas writes a float64 cell.
func appendFloat(buf []byte, p *float64) []byte {
	f := 0.0
	if p != nil {
		f = *p
	}
	return append(buf, pyrepr.CSV(f)...)
}
