// Package pyrepr writes values the way Python and pandas do (floats,
// session times, CSV cells), so paddock's CSV exports diff cleanly against
// FastF1's files.
package pyrepr

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Float formats f exactly as Python's repr(float): the shortest decimal
// that round-trips, positional with at least one fractional digit when the
// decimal exponent is in [-4, 16) ("1393.0", "-0.0", "0.0001"), otherwise
// in exponent form with a sign and at least two exponent digits ("1e+16",
// "1.5e-05"); "nan", "inf" and "-inf" for the special values.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if err != nil { // cannot happen: the 'e' format always has an exponent
		return e
	}
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// CSV formats f as pandas' to_csv writes a float cell: Float, but NaN as
// an empty cell.
func CSV(f float64) string {
	if math.IsNaN(f) {
		return ""
	}
	return Float(f)
}

// AppendSeconds appends d as FastF1's reference CSVs write a session time:
// seconds rounded to the millisecond with exactly three decimals
// ("488.035", "-0.500").
func AppendSeconds(buf []byte, d time.Duration) []byte {
	return strconv.AppendFloat(buf, d.Round(time.Millisecond).Seconds(), 'f', 3, 64)
}

// AppendCSVText appends s as a CSV cell the way Python's csv writer does
// with QUOTE_MINIMAL: quoted only when it holds a comma, a double quote, CR
// or LF, its double quotes doubled.
func AppendCSVText(buf []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
	return append(buf, '"')
}
