// Package pyrepr writes numbers the way Python and pandas do, so paddock's
// CSV exports diff cleanly against FastF1's files.
package pyrepr

import (
	"math"
	"strconv"
	"strings"
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
