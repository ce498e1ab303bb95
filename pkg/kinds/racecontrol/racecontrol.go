// Package racecontrol turns the live-timing RaceControlMessages feed into one
// [Message] per race control message, with the row semantics of FastF1's
// race_control_messages table (fastf1 _api.race_control_messages,
// Session.race_control_messages), and writes that table in FastF1's CSV form.
//
// Row semantics (FastF1-compatible):
//   - every line carries "Messages": a list in the first line, an object
//     keyed by message index in later lines; each element becomes one row, in
//     line order and, within a line, in list or key order as sent. Repeated
//     messages are kept (the upstream re-sends some).
//   - Time is the message's "Utc". The stream offset of the line is not used.
//   - Category, Message, Status, Flag, Scope and RacingNumber are converted
//     with Python's str(), Sector and Lap with Python's int(); a field that is
//     missing, or that int() rejects, is nil. Fields FastF1 ignores (e.g.
//     "Mode") are dropped.
//
// Where FastF1 loses the whole table (it raises, and Session.load logs
// "Failed to load race control messages!"), [Parse] returns an error instead.
package racecontrol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// Feed is the file name of the feed this package reads, relative to a
// session's archive path.
const Feed = "RaceControlMessages.jsonStream"

// Message is one race control message.
//
// A string field is nil when the message did not send it. Values that are
// not JSON strings are converted as Python's str() would: numbers as Python
// prints them ("44", "44.0"), true/false as "True"/"False", and null as the
// text "None" (a FastF1 quirk kept for fidelity). Sector and Lap are nil when
// missing or when the value is a string Python's int() rejects (e.g. "8.0");
// JSON numbers are truncated toward zero, true/false give 1/0.
type Message struct {
	// Time is the message's Utc: the UTC wall clock of the event as sent
	// (whole seconds in every recording, microsecond precision at most), in
	// the UTC location. It is the zero Time when Utc is null, not a string,
	// empty or not a valid "YYYY-MM-DDTHH:MM:SS[.ffffff][Z]" timestamp
	// (FastF1 stores NaT).
	Time time.Time
	// Category is the kind of message: "Flag", "Other", "Drs", "CarEvent",
	// "SafetyCar", ...
	Category *string
	// Message is the text shown to the teams.
	Message *string
	// Status is the state a message reports, e.g. "DISABLED" for DRS or
	// "DEPLOYED" for a safety car.
	Status *string
	// Flag is the flag shown: "GREEN", "YELLOW", "DOUBLE YELLOW", "CLEAR",
	// "RED", "CHEQUERED", "BLUE", ...
	Flag *string
	// Scope is what the flag applies to: "Track", "Sector" or "Driver".
	Scope *string
	// Sector is the marshal sector of a sector-scoped message.
	Sector *int
	// RacingNumber is the car number a driver-scoped message refers to.
	RacingNumber *string
	// Lap is the lap (of the leader) during which the message was sent;
	// only race-like sessions send it.
	Lap *int
}

// Parse decodes a RaceControlMessages.jsonStream body whole (see
// [livetiming.Whole]) into messages in feed order.
//
// Parse fails when the body is empty, when any line does not decode (the
// error wraps a *livetiming.FormatError naming the first bad line and its
// number) and where FastF1 fails to load the table: a line whose payload is
// not an object with "Messages", a "Messages" value that is neither a list
// nor an object of message objects, a message without "Utc", a Sector or Lap
// that is null, an object, an array, infinite or beyond int64 (Python raises
// a TypeError or OverflowError there). It also fails, unlike FastF1, when a
// string field holds an object or array (FastF1 would store its Python repr).
// A body with lines but no message gives no rows and no error.
func Parse(body []byte) ([]Message, error) {
	s, err := livetiming.Whole(Feed, body)
	if err != nil {
		return nil, fmt.Errorf("racecontrol: %w", err)
	}
	var out []Message
	for i, l := range s.Lines {
		ms, err := lineMessages(l.Data)
		if err != nil {
			return nil, fmt.Errorf("racecontrol: %s record %d (offset %s): %w", Feed, i+1, livetiming.FormatOffset(l.Offset), err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// lineMessages converts the messages of one line's payload, in the order
// FastF1 iterates them.
func lineMessages(data json.RawMessage) ([]Message, error) {
	objs, err := messageObjects(data)
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(objs))
	for i, obj := range objs {
		if out[i], err = convert(obj); err != nil {
			return nil, fmt.Errorf("message %d: %w", i+1, err)
		}
	}
	return out, nil
}

// messageObjects returns the message objects of one line's payload: the
// elements of a "Messages" list or the values of a "Messages" object.
func messageObjects(data json.RawMessage) ([]map[string]json.RawMessage, error) {
	var line map[string]json.RawMessage
	if err := json.Unmarshal(data, &line); err != nil || line == nil {
		return nil, errors.New("payload is not a JSON object")
	}
	raw, ok := line["Messages"]
	if !ok {
		return nil, errors.New(`no "Messages"`)
	}
	var elems []json.RawMessage
	switch firstByte(raw) {
	case '[':
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, fmt.Errorf(`"Messages": %v`, err)
		}
	case '{':
		var err error
		if elems, err = objectValues(raw); err != nil {
			return nil, fmt.Errorf(`"Messages": %v`, err)
		}
	default:
		return nil, errors.New(`"Messages" is neither a list nor an object`)
	}
	out := make([]map[string]json.RawMessage, len(elems))
	for i, e := range elems {
		if err := json.Unmarshal(e, &out[i]); err != nil || out[i] == nil {
			return nil, fmt.Errorf("message %d is not a JSON object", i+1)
		}
	}
	return out, nil
}

// objectValues returns the values of a JSON object in the order a Python
// dict built from it iterates them: first-occurrence key order, the last
// value of a repeated key.
func objectValues(raw json.RawMessage) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, err
	}
	var vals []json.RawMessage
	pos := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if i, dup := pos[key]; dup {
			vals[i] = v
			continue
		}
		pos[key] = len(vals)
		vals = append(vals, v)
	}
	return vals, nil
}

// convert applies FastF1's per-field converters to one message object.
func convert(m map[string]json.RawMessage) (Message, error) {
	utc, ok := m["Utc"]
	if !ok {
		return Message{}, errors.New(`no "Utc"`)
	}
	var out Message
	out.Time = parseUTC(utc)
	strs := []struct {
		key string
		dst **string
	}{
		{"Category", &out.Category}, {"Message", &out.Message}, {"Status", &out.Status},
		{"Flag", &out.Flag}, {"Scope", &out.Scope}, {"RacingNumber", &out.RacingNumber},
	}
	for _, f := range strs {
		raw, ok := m[f.key]
		if !ok {
			continue
		}
		s, err := pyStr(raw)
		if err != nil {
			return Message{}, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = &s
	}
	ints := []struct {
		key string
		dst **int
	}{{"Sector", &out.Sector}, {"Lap", &out.Lap}}
	for _, f := range ints {
		raw, ok := m[f.key]
		if !ok {
			continue
		}
		n, err := pyIntOf(raw)
		if err != nil {
			return Message{}, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = n
	}
	return out, nil
}

// pyStr converts a JSON value as Python's str() converts what json.loads
// made of it. Objects and arrays are rejected.
func pyStr(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch c := firstByte(raw); {
	case c == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case c == 't':
		return "True", nil
	case c == 'f':
		return "False", nil
	case c == 'n':
		return "None", nil
	case c == '-' || (c >= '0' && c <= '9'):
		lit := string(raw)
		if !strings.ContainsAny(lit, ".eE") { // json.loads gives an int
			if lit == "-0" {
				return "0", nil
			}
			return lit, nil
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // Python overflows to inf too
			return "", err
		}
		return pyrepr.Float(f), nil
	default:
		return "", errors.New("is a JSON object or array, want a string")
	}
}

// pyIntOf converts a JSON value as Python's int() converts what json.loads
// made of it: nil where int() raises ValueError (FastF1 stores None), an
// error where it raises anything else.
func pyIntOf(raw json.RawMessage) (*int, error) {
	raw = bytes.TrimSpace(raw)
	var n int64
	switch c := firstByte(raw); {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		v, ok, err := pyInt(s)
		if err != nil || !ok {
			return nil, err
		}
		n = v
	case c == 't':
		n = 1
	case c == 'f':
		n = 0
	case c == '-' || (c >= '0' && c <= '9'):
		f, err := strconv.ParseFloat(string(raw), 64)
		if v, ierr := strconv.ParseInt(string(raw), 10, 64); ierr == nil {
			n = v
		} else if err == nil && math.Abs(f) < 1<<63 {
			n = int64(f) // Go truncates toward zero, as int(float) does
		} else {
			return nil, fmt.Errorf("%s is out of range", raw)
		}
	default:
		return nil, fmt.Errorf("%s is not a number or string", raw)
	}
	if n < math.MinInt || n > math.MaxInt {
		return nil, fmt.Errorf("%d is out of range", n)
	}
	v := int(n)
	return &v, nil
}

// pyInt parses s as Python's int(s) does for ASCII text: surrounding
// whitespace, an optional sign, decimal digits with single underscores
// between them. ok is false where Python raises ValueError; err is set for a
// valid literal beyond int64.
func pyInt(s string) (n int64, ok bool, err error) {
	s = strings.TrimSpace(s)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	if len(s)-len(digits) > 1 || digits == "" {
		return 0, false, nil
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == '_' && i > 0 && i < len(digits)-1 && digits[i-1] != '_' && digits[i+1] != '_' {
			continue
		}
		if c < '0' || c > '9' {
			return 0, false, nil
		}
	}
	n, perr := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("%q is out of range", s)
	}
	return n, true, nil
}

// parseUTC converts a Utc value as FastF1's to_datetime does:
// "YYYY-MM-DDTHH:MM:SS" with an optional fraction (cut or padded to
// microseconds) and Z's stripped from both ends; each part is read with
// Python's int() and the result must be a valid date and time. Anything
// else gives the zero Time.
func parseUTC(raw json.RawMessage) time.Time {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil || s == "" {
		return time.Time{}
	}
	dateClock := strings.Split(strings.Trim(s, "Z"), "T")
	if len(dateClock) != 2 {
		return time.Time{}
	}
	date := strings.Split(dateClock[0], "-")
	clock := strings.Split(dateClock[1], ":")
	if len(date) != 3 || len(clock) != 3 {
		return time.Time{}
	}
	sec, frac, hasFrac := strings.Cut(clock[2], ".")
	micros := "0"
	if hasFrac {
		if strings.Contains(frac, ".") {
			return time.Time{}
		}
		micros = (frac + "000000")[:6]
	}
	var v [7]int64
	for i, p := range []string{date[0], date[1], date[2], clock[0], clock[1], sec, micros} {
		n, ok, err := pyInt(p)
		if !ok || err != nil {
			return time.Time{}
		}
		v[i] = n
	}
	y, mo, d, h, mi, se, us := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
		mi < 0 || mi > 59 || se < 0 || se > 59 || us < 0 || us > 999999 {
		return time.Time{}
	}
	t := time.Date(int(y), time.Month(mo), int(d), int(h), int(mi), int(se), int(us)*1000, time.UTC)
	if t.Day() != int(d) { // e.g. 31 April
		return time.Time{}
	}
	return t
}

// firstByte returns the first non-space byte of a JSON value, 0 if none.
func firstByte(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}
