package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// jolpicaRows returns one row per entry of the session's result list in
// the Jolpica document, in document order, cast as FastF1's Ergast client
// does (fastf1/ergast/structure.py): numbers through save_int/save_float,
// times through timedelta_from_ergast, text through Python's str. Only the
// first race of the document is read, as FastF1 does. A document without
// that race or list (an unpublished session) gives no rows.
func jolpicaRows(body []byte, kind sessionKind) ([]Result, error) {
	var doc struct {
		MRData *struct {
			RaceTable *struct {
				Races []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJolpica, err)
	}
	if doc.MRData == nil || doc.MRData.RaceTable == nil {
		return nil, fmt.Errorf("%w: no MRData.RaceTable", ErrJolpica)
	}
	races := doc.MRData.RaceTable.Races
	if len(races) == 0 {
		return nil, nil
	}
	raw, ok := races[0][kind.list]
	if !ok {
		return nil, nil
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrJolpica, kind.list, err)
	}
	rows := make([]Result, 0, len(entries))
	for i, e := range entries {
		r, err := jolpicaRow(e, kind)
		if err != nil {
			return nil, fmt.Errorf("%w: %s[%d]: %w", ErrJolpica, kind.list, i, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// jolpicaRow casts one result entry. Text cells missing from the entry
// are NaN in FastF1's frame ("nan"); so are the DriverList's columns.
func jolpicaRow(e map[string]json.RawMessage, kind sessionKind) (Result, error) {
	var r Result
	for c := range r.gaps {
		r.gaps[c] = gapNaN
	}
	num, ok := e["number"]
	if !ok {
		return r, fmt.Errorf("no number")
	}
	r.DriverNumber = strconv.FormatInt(saveInt(num), 10)
	sub := func(name string) (map[string]json.RawMessage, error) {
		raw, ok := e[name]
		if !ok {
			return nil, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return m, nil
	}
	driver, err := sub("Driver")
	if err != nil {
		return r, err
	}
	constructor, err := sub("Constructor")
	if err != nil {
		return r, err
	}
	type textField struct {
		from  map[string]json.RawMessage
		field string
		dst   **string
	}
	texts := []textField{
		{driver, "driverId", &r.DriverID},
		{driver, "code", &r.Abbreviation},
		{driver, "givenName", &r.FirstName},
		{driver, "familyName", &r.LastName},
		{constructor, "constructorId", &r.TeamID},
		{constructor, "name", &r.TeamName},
	}
	if kind.results && kind.raceLike {
		texts = append(texts, textField{e, "positionText", &r.ClassifiedPosition}, textField{e, "status", &r.Status})
	}
	for _, t := range texts {
		raw, ok := t.from[t.field]
		if !ok {
			continue
		}
		s, err := pyStr(raw)
		if err != nil {
			return r, fmt.Errorf("%s: %w", t.field, err)
		}
		*t.dst = &s
	}
	if r.FirstName != nil && r.LastName != nil {
		r.FullName = ptr(*r.FirstName + " " + *r.LastName)
	}
	if !kind.results {
		return r, nil
	}
	if raw, ok := e["position"]; ok {
		r.Position = ptr(float64(saveInt(raw)))
	}
	if kind.raceLike {
		ints := []struct {
			field string
			dst   **float64
		}{{"grid", &r.GridPosition}, {"laps", &r.Laps}}
		for _, f := range ints {
			if raw, ok := e[f.field]; ok {
				*f.dst = ptr(float64(saveInt(raw)))
			}
		}
		if raw, ok := e["points"]; ok {
			if p := saveFloat(raw); !math.IsNaN(p) {
				r.Points = &p
			}
		}
		total, err := sub("Time")
		if err != nil {
			return r, err
		}
		if raw, ok := total["time"]; ok {
			r.Time = ergastDuration(raw)
		}
		return r, nil
	}
	for _, q := range []struct {
		field string
		dst   **time.Duration
	}{{"Q1", &r.Q1}, {"Q2", &r.Q2}, {"Q3", &r.Q3}} {
		if raw, ok := e[q.field]; ok {
			*q.dst = ergastDuration(raw)
		}
	}
	return r, nil
}

// pyStr is Python's str of a decoded JSON value, as FastF1 casts Ergast
// text fields: strings as they are, null "None", booleans "True"/"False",
// numbers as Python prints an int or a float. Objects and arrays are
// refused (Python would print their repr).
func pyStr(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if s, ok := jsonString(raw); ok {
		return s, nil
	}
	switch lit := string(raw); {
	case lit == "null":
		return "None", nil
	case lit == "true":
		return "True", nil
	case lit == "false":
		return "False", nil
	case len(lit) > 0 && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9'):
		if !strings.ContainsAny(lit, ".eE") {
			if n, ok := new(big.Int).SetString(lit, 10); ok {
				return n.String(), nil
			}
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !isRangeErr(err) {
			return "", fmt.Errorf("number %s: %w", lit, err)
		}
		return pyrepr.Float(f), nil
	}
	return "", fmt.Errorf("not a text, number or boolean: %.40s", raw)
}

// isRangeErr reports a ParseFloat overflow (Python gives inf as well).
func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// intText is FastF1 save_int's pattern (Python's "$" also matches before
// a final newline).
var intText = regexp.MustCompile(`^[+-]?[0-9]+\n?$`)

// saveInt is FastF1's save_int: the integer a string holds, -1 for any
// other string or a value that is not a string.
func saveInt(raw json.RawMessage) int64 {
	s, ok := jsonString(raw)
	if !ok || !intText.MatchString(s) {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "\n"), 10, 64)
	if err != nil {
		return -1 // beyond int64; Python would keep it
	}
	return n
}

// floatText is FastF1 save_float's pattern.
var floatText = regexp.MustCompile(`^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)\n?$`)

// saveFloat is FastF1's save_float: the number a string holds, NaN for any
// other string or a value that is not a string.
func saveFloat(raw json.RawMessage) float64 {
	s, ok := jsonString(raw)
	if !ok || !floatText.MatchString(s) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "\n"), 64)
	if err != nil && !isRangeErr(err) {
		return math.NaN()
	}
	return f
}

// ergastTime is FastF1's time pattern "[hh:][mm:]ss[.micros][Z|±hh:mm]",
// matched at the start of the text only (re.match): "105.3" reads as 10 s.
var ergastTime = regexp.MustCompile(`^([0-9]{1,2}:)?([0-9]{1,2}:)?([0-9]{1,2})(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?`)

// ergastDuration is FastF1's timedelta_from_ergast: an optional sign ("-"
// negates; all leading and trailing '-' or '+' are dropped), then
// ergastTime; "h:m:s", "m:s" or "s" with microseconds, hours below 24,
// minutes and seconds below 60, the zone ignored. nil for anything else,
// the empty string and values that are not strings.
func ergastDuration(raw json.RawMessage) *time.Duration {
	s, ok := jsonString(raw)
	if !ok || s == "" {
		return nil
	}
	sign := time.Duration(1)
	if strings.HasPrefix(s, "-") {
		sign = -1
		s = strings.Trim(s, "-")
	} else {
		s = strings.Trim(s, "+")
	}
	m := ergastTime.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	atoi := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(p, ":"))
		return n
	}
	var h, min, sec int
	switch {
	case m[1] != "" && m[2] != "":
		h, min, sec = atoi(m[1]), atoi(m[2]), atoi(m[3])
	case m[1] != "":
		min, sec = atoi(m[1]), atoi(m[3])
	default:
		sec = atoi(m[3])
	}
	if h > 23 || min > 59 || sec > 59 {
		return nil // datetime.time refuses it
	}
	var micro int
	if frac := m[4]; frac != "" {
		digits := frac[1:]
		micro = atoi(digits) * int(math.Pow10(6-len(digits)))
	}
	d := sign * (time.Duration(h)*time.Hour + time.Duration(min)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(micro)*time.Microsecond)
	return &d
}
