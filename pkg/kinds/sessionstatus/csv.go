package sessionstatus

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the header line of FastF1's session_status table as written
// by [WriteCSV] (without the line feed).
const CSVHeader = "Time,Status"

// WriteCSV writes cs as FastF1's session_status table in the reference CSV
// form, byte for byte: the [CSVHeader] line, then one line per change, LF
// line endings, no index column. Time is the stream offset in seconds with
// exactly three decimals ("899.169"); Status is written as it is, "" as an
// empty cell, quoted as Python's csv module does (only when it contains a
// comma, double quote, CR or LF; quotes doubled).
//
// The only error is one from w, returned with context.
func WriteCSV(w io.Writer, cs []Change) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	var buf []byte
	for _, c := range cs {
		buf = appendSeconds(buf[:0], c.Time)
		buf = append(buf, ',')
		buf = appendText(buf, c.Status)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sessionstatus: write CSV: %w", err)
	}
	return nil
}

// appendSeconds appends d in seconds with three decimals ("899.169").
func appendSeconds(buf []byte, d time.Duration) []byte {
	return strconv.AppendFloat(buf, d.Round(time.Millisecond).Seconds(), 'f', 3, 64)
}

// appendText appends s as Python's csv writer does with QUOTE_MINIMAL.
func appendText(buf []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
	return append(buf, '"')
}
