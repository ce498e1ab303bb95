// Package jsonwalk walks a JSON document in place: a strict, allocation-free
// reader for hot decoding loops (the telemetry feeds' hundreds of
// thousands of samples), where building a tree per line would dominate.
package jsonwalk

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Doc walks one decoded payload without building a tree or allocating,
// and checks its syntax as strictly as encoding/json.Valid (the Scanner
// feeding it does not check it again). Errors are sticky: after the first,
// every method is a no-op; Err says what was wrong, the syntax ("not valid
// JSON: ...") or the document's shape.
type Doc struct {
	b     []byte
	i     int
	depth int
	// Err is the first error met (sticky), nil while the walk is good.
	Err error
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// Reset starts a walk over b.
func (p *Doc) Reset(b []byte) { p.b, p.i, p.depth, p.Err = b, 0, 0, nil }

// Failf records a shape error (the first one wins).
func (p *Doc) Failf(format string, args ...any) {
	if p.Err == nil {
		p.Err = fmt.Errorf(format, args...)
	}
}

// syntax records a syntax error at the current byte.
func (p *Doc) syntax(what string) {
	if p.i >= len(p.b) {
		p.Failf("not valid JSON: truncated (unexpected end of input)")
		return
	}
	p.Failf("not valid JSON: %s at byte %d", what, p.i)
}

func (p *Doc) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// Peek returns the next significant byte, 0 at the end.
func (p *Doc) Peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// Kind names the JSON type starting with c, "" when no value starts so.
func Kind(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return ""
}

// wrongType records that the value starting here is not the type wanted
// (a shape error), or a syntax error when no value starts here.
func (p *Doc) wrongType(what, want string) {
	if k := Kind(p.Peek()); k != "" {
		p.Failf("%s is %s, want %s", what, k, want)
		return
	}
	p.syntax("want a value")
}

// Open consumes c ('{' or '[') and reports whether it was there; what
// names the value for the error.
func (p *Doc) Open(c byte, what string) bool {
	if p.Err != nil {
		return false
	}
	if p.Peek() != c {
		if c == '{' {
			p.wrongType(what, "an object")
		} else {
			p.wrongType(what, "a list")
		}
		return false
	}
	if p.depth++; p.depth > maxDepth {
		p.syntax("nested too deep")
		return false
	}
	p.i++
	return true
}

// More reports whether the object or list being walked has another member,
// consuming the separating comma, or its end (close).
func (p *Doc) More(close byte, first *bool) bool {
	if p.Err != nil {
		return false
	}
	c := p.Peek()
	if c == close {
		p.i++
		p.depth--
		return false
	}
	if *first {
		*first = false
		return true
	}
	if c == ',' {
		p.i++
		return true
	}
	p.syntax("want ',' or '" + string(close) + "'")
	return false
}

// End checks that nothing but space follows the document.
func (p *Doc) End() {
	if p.ws(); p.Err == nil && p.i < len(p.b) {
		p.syntax("data after the document")
	}
}

// Key reads a member name and its colon. The result aliases the document
// unless the name has escapes.
func (p *Doc) Key() []byte {
	if p.Err != nil {
		return nil
	}
	if p.Peek() != '"' {
		p.syntax("want a member name")
		return nil
	}
	k := p.Str("member name")
	if p.Err == nil {
		if p.Peek() != ':' {
			p.syntax("want ':'")
			return nil
		}
		p.i++
	}
	return k
}

// Str reads a string value; what names it for a type error. The result
// aliases the document unless the string has escapes.
func (p *Doc) Str(what string) []byte {
	if p.Err != nil {
		return nil
	}
	if p.Peek() != '"' {
		p.wrongType(what, "a string")
		return nil
	}
	p.i++
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !escaped {
				return s
			}
			var u string
			if err := json.Unmarshal(p.b[start-1:p.i], &u); err != nil {
				p.Failf("not valid JSON: %v", err)
				return nil
			}
			return []byte(u)
		case c == '\\':
			escaped = true
			if p.i+1 >= len(p.b) {
				p.i = len(p.b)
				p.syntax("")
				return nil
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if p.i+k >= len(p.b) {
						p.i = len(p.b)
						p.syntax("")
						return nil
					}
					if !isHex(p.b[p.i+k]) {
						p.i += k
						p.syntax("bad \\u escape in string")
						return nil
					}
				}
				p.i += 6
			default:
				p.i++
				p.syntax("bad escape in string")
				return nil
			}
		case c < 0x20:
			p.syntax("control character in string")
			return nil
		default:
			p.i++
		}
	}
	p.syntax("")
	return nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Skip consumes one value of any type, checking its syntax.
func (p *Doc) Skip() {
	if p.Err != nil {
		return
	}
	switch c := p.Peek(); {
	case c == '{':
		p.Open('{', "")
		for first := true; p.More('}', &first); {
			p.Key()
			p.Skip()
		}
	case c == '[':
		p.Open('[', "")
		for first := true; p.More(']', &first); {
			p.Skip()
		}
	case c == '"':
		p.Str("")
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		p.number()
	default:
		p.syntax("want a value")
	}
}

// literal consumes the literal lit (true, false or null).
func (p *Doc) literal(lit string) {
	for k := 0; k < len(lit); k++ {
		if p.i >= len(p.b) || p.b[p.i] != lit[k] {
			p.syntax("bad literal")
			return
		}
		p.i++
	}
}

// number consumes a number and returns its text.
func (p *Doc) number() []byte {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case digits() == 0:
		p.syntax("bad number")
		return nil
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			p.syntax("bad number")
			return nil
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.syntax("bad number")
			return nil
		}
	}
	return p.b[start:p.i]
}

// Span consumes one value and returns its bytes.
func (p *Doc) Span() []byte {
	p.ws()
	start := p.i
	p.Skip()
	if p.Err != nil {
		return nil
	}
	return p.b[start:p.i]
}

// Integer reads a value as FastF1's astype("int64") turns it into one: a
// JSON integer as is, a number with a fraction or exponent truncated toward
// zero (Python's int()), true and false as 1 and 0. lo and hi bound the
// result (the column's Go type); what names the value for errors.
func (p *Doc) Integer(what string, lo, hi int64) int64 {
	if p.Err != nil {
		return 0
	}
	switch c := p.Peek(); {
	case c == 't':
		p.literal("true")
		return 1
	case c == 'f':
		p.literal("false")
		return 0
	case c == '-' || (c >= '0' && c <= '9'):
	default:
		p.wrongType(what, "a number")
		return 0
	}
	lit := p.number()
	if p.Err != nil {
		return 0
	}
	var v int64
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	integral := len(digits) > 0 && len(digits) <= 18
	for _, d := range digits {
		if d < '0' || d > '9' {
			integral = false
			break
		}
		v = v*10 + int64(d-'0')
	}
	if !integral {
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !IsRange(err) {
			p.Failf("%s: %v", what, err)
			return 0
		}
		f = math.Trunc(f)
		if !(f >= float64(lo) && f <= float64(hi)) {
			p.Failf("%s %s is out of range [%d, %d]", what, lit, lo, hi)
			return 0
		}
		return int64(f)
	}
	if neg {
		v = -v
	}
	if v < lo || v > hi {
		p.Failf("%s %s is out of range [%d, %d]", what, lit, lo, hi)
		return 0
	}
	return v
}

// IsRange reports a strconv range error (a number too large for its type).
func IsRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// ParseUTC parses a feed timestamp as FastF1's to_datetime does
// ("2020-08-08T09:45:03.0619797Z"; leading and trailing 'Z's ignored, the
// fraction optional and cut to microseconds, not rounded) and returns
// microseconds since the Unix epoch, UTC.
func ParseUTC(s []byte) (int64, bool) {
	for len(s) > 0 && s[0] == 'Z' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == 'Z' {
		s = s[:len(s)-1]
	}
	// YYYY-MM-DDTHH:MM:SS
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	us := 0
	if rest := s[19:]; len(rest) > 0 {
		if rest[0] != '.' {
			return 0, false
		}
		frac := rest[1:]
		if len(frac) > 6 {
			for _, c := range frac[6:] {
				if c < '0' || c > '9' {
					return 0, false
				}
			}
			frac = frac[:6]
		}
		n, ok := num(frac)
		if !ok {
			return 0, false
		}
		for i := len(frac); i < 6; i++ {
			n *= 10
		}
		us = n
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // e.g. 30 February
		return 0, false
	}
	return t.Unix()*1_000_000 + int64(us), true
}

// RoundMillis rounds microseconds to the millisecond, halves to even, as
// pandas' round("ms").
func RoundMillis(us int64) int64 {
	q, r := us/1000, us%1000
	if r < 0 {
		q, r = q-1, r+1000
	}
	if r > 500 || (r == 500 && q%2 != 0) {
		q++
	}
	return q * 1000
}
