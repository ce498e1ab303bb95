package trackstatus

import (
	"bufio"
	"fmt"
	"io"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader is the header line of FastF1's track_status table as written by
// [WriteCSV] (without the line feed).
const CSVHeader = "Time,Status,Message"

// WriteCSV writes cs as FastF1's track_status table in the reference CSV
// form, byte for byte: the [CSVHeader] line, then one line per change, LF
// line endings, no index column. Time is the stream offset in seconds with
// exactly three decimals ("488.035"); Status and Message are written as they
// are, "" as an empty cell, quoted as Python's csv module does (only when
// they contain a comma, double quote, CR or LF; quotes doubled).
//
// The only error is one from w, returned with context.
func WriteCSV(w io.Writer, cs []Change) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	var buf []byte
	for _, c := range cs {
		buf = pyrepr.AppendSeconds(buf[:0], c.Time)
		buf = append(buf, ',')
		buf = pyrepr.AppendCSVText(buf, c.Status)
		buf = append(buf, ',')
		buf = pyrepr.AppendCSVText(buf, c.Message)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("trackstatus: write CSV: %w", err)
	}
	return nil
}
