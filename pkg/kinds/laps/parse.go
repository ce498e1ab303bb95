package laps

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// dur is a nanosecond duration that can be missing (nat), mirroring pandas'
// NaT: every ordering comparison involving nat is false.
type dur int64

// nat is the missing duration.
const nat dur = math.MinInt64

func (d dur) ok() bool { return d != nat }

// lt reports a < b, false when either is missing.
func lt(a, b dur) bool { return a.ok() && b.ok() && a < b }

// eq reports a == b, false when either is missing.
func eq(a, b dur) bool { return a.ok() && b.ok() && a == b }

// add returns a+b, missing when either is missing.
func add(a, b dur) dur {
	if !a.ok() || !b.ok() {
		return nat
	}
	return a + b
}

// sub returns a-b, missing when either is missing.
func sub(a, b dur) dur {
	if !a.ok() || !b.ok() {
		return nat
	}
	return a - b
}

// ptr converts to the public nullable form.
func (d dur) ptr() *time.Duration {
	if !d.ok() {
		return nil
	}
	v := time.Duration(d)
	return &v
}

// parseClock parses a live-timing time string such as "1:23.456", "23.456"
// or "1:02:03.4" the way FastF1's to_timedelta does: optional hours and
// minutes, up to 6 fractional digits (more are truncated). It returns nat
// for an empty or malformed string.
func parseClock(s string) dur {
	if s == "" {
		return nat
	}
	// parts are s split at its colons (without allocating): n of them.
	var parts [3]string
	n := 0
	for rest := s; ; n++ {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			if n < len(parts) {
				parts[n] = rest
			}
			n++
			break
		}
		if n < len(parts) {
			parts[n] = rest[:i]
		}
		rest = rest[i+1:]
	}
	var h, m int64
	var sec string
	var err error
	switch n {
	case 3:
		if h, err = pyInt(parts[0]); err != nil {
			return nat
		}
		if m, err = pyInt(parts[1]); err != nil {
			return nat
		}
		sec = parts[2]
	case 2:
		if m, err = pyInt(parts[0]); err != nil {
			return nat
		}
		sec = parts[1]
	case 1:
		sec = parts[0]
	default:
		return nat
	}
	var us int64
	if i := strings.IndexByte(sec, '.'); i >= 0 {
		frac := sec[i+1:]
		sec = sec[:i]
		if strings.Contains(frac, ".") {
			return nat
		}
		var buf [6]byte // frac padded or cut to microseconds
		copy(buf[:], frac)
		if len(frac) < 6 {
			copy(buf[len(frac):], "000000")
		}
		if us, err = pyInt(string(buf[:])); err != nil {
			return nat
		}
	}
	sv, err := pyInt(sec)
	if err != nil {
		return nat
	}
	return dur(((h*60+m)*60+sv)*int64(time.Second) + us*int64(time.Microsecond))
}

// pyInt parses an integer like Python's int(): optional surrounding spaces
// and an optional sign.
func pyInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	return strconv.ParseInt(s, 10, 64)
}

// feedLine is one decoded jsonStream line with its payload as an object.
type feedLine struct {
	t   dur
	raw json.RawMessage
}

// decodeFeed decodes the jsonStream body of feed name ("TimingData") whole
// (see livetiming.Whole): a line that does not decode fails it.
func decodeFeed(name string, body []byte) ([]feedLine, error) {
	st, err := livetiming.Whole(name+".jsonStream", body)
	if err != nil {
		return nil, err // names the feed and the line
	}
	out := make([]feedLine, 0, len(st.Lines))
	for _, l := range st.Lines {
		out = append(out, feedLine{t: dur(l.Offset), raw: l.Data})
	}
	return out, nil
}

// objectKeys returns the member names of a JSON object in document order
// (Python dicts keep this order; Go maps do not). It returns nil when raw is
// not an object.
func objectKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := tok.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

// num returns v as a number when it is a JSON number.
func num(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}
