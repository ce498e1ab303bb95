package racecontrol

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// CSVHeader is the header line of FastF1's race_control_messages table as
// written by [WriteCSV] (without the line feed).
const CSVHeader = "Time,Category,Message,Status,Flag,Scope,Sector,RacingNumber,Lap"

// WriteCSV writes ms as FastF1's race_control_messages table in pandas
// to_csv form, byte for byte: the [CSVHeader] line, then one line per
// message, LF line endings, no index column. Nil fields and a zero Time are
// empty cells.
//
// pandas formats a column by its dtype, which depends on all of its values,
// so some cells depend on the other messages of the session:
//   - Time is "YYYY-MM-DD HH:MM:SS" with as many fractional digits as the
//     finest non-zero Time needs (none, 3, 6 or 9, the same for every row),
//     or "YYYY-MM-DD" when every non-zero Time is at midnight.
//   - Sector and Lap are integers ("8") when every message has one, floats
//     in Python repr ("8.0") when only some have one.
//
// Text cells are quoted as Python's csv module does (only when they contain
// a comma, double quote, CR or LF; quotes doubled). The only error is one
// from w, returned with context.
func WriteCSV(w io.Writer, ms []Message) error {
	tf := timeFormatOf(ms)
	sector := intColumnOf(ms, func(m *Message) *int { return m.Sector })
	lap := intColumnOf(ms, func(m *Message) *int { return m.Lap })
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	var buf []byte
	for i := range ms {
		m := &ms[i]
		buf = tf.append(buf[:0], m.Time)
		for _, s := range []*string{m.Category, m.Message, m.Status, m.Flag, m.Scope} {
			buf = append(buf, ',')
			buf = appendText(buf, s)
		}
		buf = append(buf, ',')
		buf = sector.append(buf, m.Sector)
		buf = append(buf, ',')
		buf = appendText(buf, m.RacingNumber)
		buf = append(buf, ',')
		buf = lap.append(buf, m.Lap)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("racecontrol: write CSV: %w", err)
	}
	return nil
}

// timeFormat is how pandas writes one datetime64 column.
type timeFormat struct {
	datesOnly bool // every value at midnight: date only
	digits    int  // fractional digits: 0, 3, 6 or 9
}

// timeFormatOf picks the format pandas uses for the Time column of ms:
// the finest resolution among the non-zero values.
func timeFormatOf(ms []Message) timeFormat {
	f := timeFormat{datesOnly: true}
	for i := range ms {
		t := ms[i].Time
		if t.IsZero() {
			continue
		}
		t = t.UTC()
		ns := t.Nanosecond()
		switch {
		case ns%1000 != 0:
			f.digits = 9
		case ns%1_000_000 != 0:
			f.digits = max(f.digits, 6)
		case ns != 0:
			f.digits = max(f.digits, 3)
		}
		if ns != 0 || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 {
			f.datesOnly = false
		}
	}
	return f
}

// append appends t in the column's format; nothing for the zero Time.
func (f timeFormat) append(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return buf
	}
	t = t.UTC()
	if f.datesOnly {
		return t.AppendFormat(buf, "2006-01-02")
	}
	buf = t.AppendFormat(buf, "2006-01-02 15:04:05")
	if f.digits == 0 {
		return buf
	}
	frac := strconv.Itoa(1_000_000_000 + t.Nanosecond()) // "1" + 9 digits
	buf = append(buf, '.')
	return append(buf, frac[1:1+f.digits]...)
}

// intColumn is the dtype pandas gives a column of Python ints and Nones.
type intColumn int

const (
	intEmpty intColumn = iota // all None: object column, empty cells
	intInt                    // no None: int64, "8"
	intFloat                  // some None: float64, "8.0"
)

// intColumnOf returns the dtype of the column that field reads from ms.
func intColumnOf(ms []Message, field func(*Message) *int) intColumn {
	present := 0
	for i := range ms {
		if field(&ms[i]) != nil {
			present++
		}
	}
	switch present {
	case 0:
		return intEmpty
	case len(ms):
		return intInt
	default:
		return intFloat
	}
}

// append appends *p in the column's format; nothing for nil.
func (c intColumn) append(buf []byte, p *int) []byte {
	switch {
	case p == nil:
		return buf
	case c == intFloat:
		return append(buf, pyrepr.Float(float64(*p))...)
	default:
		return strconv.AppendInt(buf, int64(*p), 10)
	}
}

// appendText appends *p as Python's csv writer does with QUOTE_MINIMAL;
// nothing for nil.
func appendText(buf []byte, p *string) []byte {
	if p == nil {
		return buf
	}
	return pyrepr.AppendCSVText(buf, *p)
}
