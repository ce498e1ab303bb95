package position

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader is the header line of FastF1's position table as the reference
// pos_data.csv.gz has it (without the line feed): every driver's
// Session.pos_data with Driver and DriverNumber in front.
const CSVHeader = "Driver,DriverNumber,Date,Status,X,Y,Z,Source,Time,SessionTime"

// AppendCSV appends s as one line (LF-terminated) of the reference CSV, as
// pandas writes FastF1's columns: Driver is abbr (the three-letter code,
// e.g. "HAM"); Date "2018-04-29 12:06:02.276"; Status as text (quoted as
// Python's csv module does when needed); X, Y and Z as floats ("-3500.0");
// Source "pos" or "nan"; Time and SessionTime (equal) are Date - t0 (see
// cardata.T0) in seconds with three decimals ("2.091").
func AppendCSV(dst []byte, s *Sample, abbr string, t0 time.Time) []byte {
	dst = pyrepr.AppendCSVText(dst, abbr)
	dst = append(dst, ',')
	dst = pyrepr.AppendCSVText(dst, s.Driver)
	dst = append(dst, ',')
	dst = s.Date.AppendFormat(dst, "2006-01-02 15:04:05.000")
	dst = append(dst, ',')
	dst = pyrepr.AppendCSVText(dst, string(s.Status))
	dst = append(dst, ',')
	dst = append(strconv.AppendInt(dst, int64(s.X), 10), ".0,"...)
	dst = append(strconv.AppendInt(dst, int64(s.Y), 10), ".0,"...)
	dst = append(strconv.AppendInt(dst, int64(s.Z), 10), ".0,"...)
	dst = append(dst, s.Source.String()...)
	dst = append(dst, ',')
	since := s.Date.Sub(t0)
	dst = pyrepr.AppendSeconds(dst, since)
	dst = append(dst, ',')
	dst = pyrepr.AppendSeconds(dst, since)
	return append(dst, '\n')
}

// WriteCSV writes rows, in the order given (see [Sort]), as the reference
// pos_data.csv.gz holds them decompressed: the [CSVHeader] line, then one
// [AppendCSV] line per row, with abbrs mapping racing numbers to
// abbreviations (a missing number gets an empty Driver cell). The only
// error is one from w, returned with context.
func WriteCSV(w io.Writer, rows []Sample, abbrs map[string]string, t0 time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	var buf []byte
	for i := range rows {
		buf = AppendCSV(buf[:0], &rows[i], abbrs[rows[i].Driver], t0)
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("position: write CSV: %w", err)
	}
	return nil
}
