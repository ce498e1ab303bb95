package cardata

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader is the header line of FastF1's car data table as the reference
// car_data.csv.gz has it (without the line feed): every driver's
// Session.car_data with Driver and DriverNumber in front.
const CSVHeader = "Driver,DriverNumber,Date,RPM,Speed,nGear,Throttle,Brake,DRS,Source,Time,SessionTime"

// AppendCSV appends s as one line (LF-terminated) of the reference CSV, as
// pandas writes FastF1's columns: Driver is abbr (the three-letter code,
// e.g. "HAM"); Date "2018-04-29 12:06:01.240"; RPM, Speed and Throttle as
// floats ("10342.0"); nGear and DRS as integers; Brake "True"/"False";
// Source "car" or "nan"; Time and SessionTime (equal) are Date - t0 (see
// [T0]) in seconds with three decimals ("0.815").
func AppendCSV(dst []byte, s *Sample, abbr string, t0 time.Time) []byte {
	dst = pyrepr.AppendCSVText(dst, abbr)
	dst = append(dst, ',')
	dst = pyrepr.AppendCSVText(dst, s.Driver)
	dst = append(dst, ',')
	dst = s.Date.AppendFormat(dst, "2006-01-02 15:04:05.000")
	dst = append(dst, ',')
	dst = appendIntFloat(dst, int64(s.RPM))
	dst = append(dst, ',')
	dst = appendIntFloat(dst, int64(s.Speed))
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(s.NGear), 10)
	dst = append(dst, ',')
	dst = appendIntFloat(dst, int64(s.Throttle))
	dst = append(dst, ',')
	if s.Brake {
		dst = append(dst, "True,"...)
	} else {
		dst = append(dst, "False,"...)
	}
	dst = strconv.AppendInt(dst, int64(s.DRS), 10)
	dst = append(dst, ',')
	dst = append(dst, s.Source.String()...)
	dst = append(dst, ',')
	since := s.Date.Sub(t0)
	dst = pyrepr.AppendSeconds(dst, since)
	dst = append(dst, ',')
	dst = pyrepr.AppendSeconds(dst, since)
	return append(dst, '\n')
}

// appendIntFloat appends an integer as Python's repr of the same float
// ("1393.0"); exact for every int32.
func appendIntFloat(dst []byte, v int64) []byte {
	return append(strconv.AppendInt(dst, v, 10), ".0"...)
}

// WriteCSV writes rows, in the order given (see [Sort]), as the reference
// car_data.csv.gz holds them decompressed: the [CSVHeader] line, then one
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
		return fmt.Errorf("cardata: write CSV: %w", err)
	}
	return nil
}
