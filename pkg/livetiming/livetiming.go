// Package livetiming decodes the feed files of the F1 live-timing static
// archive (livetiming.formula1.com/static/...): "*.jsonStream" bodies whose
// lines pair a stream offset with a JSON patch, and their compressed
// "*.z.jsonStream" variant.
//
// The package only turns bytes into [Line] values; it does not know any feed's
// schema. [Merge] applies a feed's patches to rebuild its full state.
//
// A kind takes a feed whole or not at all: it decodes with [Whole], [Walk]
// (each line handed to the kind's own strict parser, without a second
// syntax check) or a [Scanner], which fail on the first line that does not
// decode with a [*FormatError] naming the feed, the line and why. The defects tolerated
// are those of real archive bodies that lose nothing: a leading UTF-8 BOM,
// CRLF or LF line ends, the empty text after the last line end, and a
// last line without a line end that decodes. Blank lines are the one
// defect tolerated by skipping a line: [BlankLines] counts them, so an
// outcome can say how many lines it skipped. A truncated last line (no
// line end, not a whole payload) is a bad line, never tolerated.
//
// Compatibility with FastF1 (fastf1/_api.py fetch_page/parse), whose output is
// the project's reference:
//   - [Decode] skips lines that cannot be decoded and reports them in
//     [Stream.Skipped] (FastF1 drops them); kinds use [Whole], which fails.
//   - FastF1 splits on CRLF only and always discards the text after the last
//     CRLF. Decode also accepts LF-only bodies, and keeps an unterminated
//     last line when it decodes (it is reported in Skipped when it does not).
//   - FastF1 parses a line whose timestamp is malformed and keeps it with a
//     missing time; Decode skips it, since a line without a time is useless.
package livetiming

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
)

// OffsetLen is the length in bytes of the stream offset that starts every
// jsonStream line ("HH:MM:SS.mmm").
const OffsetLen = 12

// MaxInflatedLine is the largest decompressed payload, in bytes, that Decode
// accepts for one line of a compressed stream; larger payloads are skipped as
// undecodable (protection against compression bombs). Real CarData.z lines
// inflate to a few kilobytes.
const MaxInflatedLine = 16 << 20

// utf8BOM is the byte order mark the archive puts at the start of every body.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Line is one decoded jsonStream line.
type Line struct {
	// Offset is the time since the start of the data recording (not the
	// session start, not UTC), with millisecond precision.
	Offset time.Duration
	// Data is the line's JSON payload, validated. For plain streams it aliases
	// the body passed to Decode (which must therefore not be modified while
	// Data is in use); for compressed streams it is the inflated JSON with any
	// leading BOM removed.
	Data json.RawMessage
}

// LineError describes a line that Decode skipped.
type LineError struct {
	// Line is the 1-based line number in the body.
	Line int
	// Reason says why the line could not be decoded.
	Reason string
}

// String formats the error as "line N: reason".
func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Stream is a decoded jsonStream body.
//
// Lines are in body order. The archive writes offsets in non-decreasing order
// (true for every recorded fixture), but Decode does not check or enforce it;
// use [Stream.Monotonic] when a consumer depends on it.
type Stream struct {
	// Lines holds the successfully decoded lines.
	Lines []Line
	// Skipped lists the lines that could not be decoded, in body order.
	// Blank lines are ignored and not listed.
	Skipped []LineError
}

// Monotonic reports whether the offsets of s.Lines never decrease; when they
// do, it also returns the index in s.Lines of the first line that goes back in
// time.
func (s *Stream) Monotonic() (ok bool, firstBad int) {
	for i := 1; i < len(s.Lines); i++ {
		if s.Lines[i].Offset < s.Lines[i-1].Offset {
			return false, i
		}
	}
	return true, -1
}

// FormatError is returned when a body is unusable: by Decode when it is
// empty or none of its lines decodes, by Whole and a Scanner for its first
// line that does not decode.
type FormatError struct {
	// Feed names the feed ("TimingData.jsonStream"); empty when unknown.
	Feed string
	// Reason describes the problem.
	Reason string
	// Line is the 1-based number of the first offending line, or 0 when the
	// problem is not tied to a line (e.g. an empty body).
	Line int
}

// Error implements error: "TimingData.jsonStream line 12: reason" ("livetiming:
// jsonStream line 12: reason" when the feed is unknown), or without a line
// number when the problem is not a line's.
func (e *FormatError) Error() string {
	feed := e.Feed
	if feed == "" {
		feed = "livetiming: jsonStream"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", feed, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", feed, e.Reason)
}

// Whole decodes the body of the feed named feed (its manifest name, e.g.
// "TimingData.jsonStream"; compressed when [IsCompressed]) as a kind takes
// it: every non-blank line, or an error. The first line that does not
// decode fails it with a *FormatError naming the feed, the line and why
// (and how many more lines do not decode); so do an empty body and one of
// blank lines only. Blank lines are skipped: count them with [BlankLines].
func Whole(feed string, body []byte) (*Stream, error) {
	s, err := Decode(body, IsCompressed(feed))
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Feed = feed
		}
		return nil, err
	}
	if len(s.Skipped) > 0 {
		first := s.Skipped[0]
		reason := first.Reason
		if n := len(s.Skipped) - 1; n > 0 {
			reason += fmt.Sprintf(" (and %d more of its %d lines do not decode)", n, len(s.Skipped)+len(s.Lines))
		}
		return nil, &FormatError{Feed: feed, Line: first.Line, Reason: reason}
	}
	return s, nil
}

// FormatOffset writes a stream offset as the feeds do ("01:02:03.456"),
// for errors that point at a line.
func FormatOffset(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

// IsCompressed reports whether the feed file name (e.g. "CarData.z.jsonStream",
// a path or a URL ending in it) names a compressed stream, i.e. ends in
// ".z.jsonStream".
func IsCompressed(feedFile string) bool {
	return strings.HasSuffix(feedFile, ".z.jsonStream")
}

// ParseOffset parses a stream offset in the exact 12-character form
// "HH:MM:SS.mmm" (hours 00-99, minutes and seconds 00-59, milliseconds
// 000-999) and returns it as a duration. Any other form is an error.
func ParseOffset(s string) (time.Duration, error) {
	return parseOffset([]byte(s))
}

// parseOffset implements ParseOffset without converting the line to a string
// (which would allocate once per line).
func parseOffset(s []byte) (time.Duration, error) {
	if len(s) != OffsetLen || s[2] != ':' || s[5] != ':' || s[8] != '.' {
		return 0, fmt.Errorf("livetiming: offset %q: want HH:MM:SS.mmm", s)
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	h, ok1 := num(0, 2)
	m, ok2 := num(3, 5)
	sec, ok3 := num(6, 8)
	ms, ok4 := num(9, 12)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, fmt.Errorf("livetiming: offset %q: non-digit in HH:MM:SS.mmm", s)
	}
	if m > 59 || sec > 59 {
		return 0, fmt.Errorf("livetiming: offset %q: minutes or seconds out of range", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond, nil
}

// Decode decodes a jsonStream body. compressed selects the ".z" payload
// encoding (see [IsCompressed]): a JSON string holding base64 of raw DEFLATE
// data (no zlib header) that inflates to JSON, optionally BOM-prefixed. In a
// compressed stream a payload that is already a JSON object is accepted as is,
// as FastF1 does.
//
// The body may start with a UTF-8 BOM; lines end in CRLF or LF; blank lines
// are ignored. Each line must be a 12-character offset (see [ParseOffset])
// immediately followed by the payload (surrounding spaces tolerated). Lines
// that fail are recorded in Stream.Skipped and decoding continues, so a
// truncated final line shows up there.
//
// Decode returns a *FormatError (and a nil Stream) when the body is empty,
// has only blank lines, or has no decodable line.
func Decode(body []byte, compressed bool) (*Stream, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	if len(body) == 0 {
		return nil, &FormatError{Reason: "empty body"}
	}
	s := &Stream{Lines: make([]Line, 0, bytes.Count(body, []byte{'\n'})+1)}
	var inflater inflater
	lineNo := 0
	for len(body) > 0 {
		lineNo++
		raw, unterminated := nextLine(&body)
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		ln, reason := decodeLine(raw, compressed, true, &inflater)
		if reason != "" {
			s.Skipped = append(s.Skipped, LineError{Line: lineNo, Reason: atEnd(reason, unterminated)})
			continue
		}
		s.Lines = append(s.Lines, ln)
	}
	if len(s.Lines) == 0 {
		if len(s.Skipped) == 0 {
			return nil, &FormatError{Reason: "no lines (only blank lines)"}
		}
		first := s.Skipped[0]
		return nil, &FormatError{
			Reason: fmt.Sprintf("none of %d lines decodes; first: %s", len(s.Skipped), first.Reason),
			Line:   first.Line,
		}
	}
	return s, nil
}

// nextLine cuts the next line off *body, without its line end (CRLF or
// LF); unterminated reports that it is the body's last text, without one.
func nextLine(body *[]byte) (raw []byte, unterminated bool) {
	if i := bytes.IndexByte(*body, '\n'); i >= 0 {
		raw, *body = (*body)[:i], (*body)[i+1:]
	} else {
		raw, *body, unterminated = *body, nil, true
	}
	return bytes.TrimSuffix(raw, []byte{'\r'}), unterminated
}

// atEnd says of the reason a line failed that it is the body's last,
// unterminated line, unless the reason already says it is truncated.
func atEnd(reason string, unterminated bool) string {
	if unterminated && !strings.Contains(reason, "truncated") {
		return "truncated (the body ends in this line, without a line end): " + reason
	}
	return reason
}

// Walk decodes the body of the feed named feed (compressed when
// [IsCompressed]) as [Whole] takes it, and hands each non-blank line to
// walk in body order, without holding the lines and without checking that
// a payload is JSON: walk parses the payload with a strict parser (a
// jsonwalk.Doc checks the syntax as it reads; an error must name what is
// wrong, e.g. "not valid JSON: ...") and returns nil when the line is
// usable. The first line that does not decode, or that walk returns an
// error for, stops it with a *FormatError naming the feed, the line and
// why, the same error as Whole's when Whole rejects the body too; so do an
// empty body and one of blank lines only. A Line's Data is
// valid only during its call of walk. Blank lines are skipped: count them
// with [BlankLines].
func Walk(feed string, body []byte, walk func(Line) error) error {
	all := bytes.TrimPrefix(body, utf8BOM)
	if len(all) == 0 {
		return &FormatError{Feed: feed, Reason: "empty body"}
	}
	compressed := IsCompressed(feed)
	var inflater inflater
	lines, lineNo := 0, 0
	for rest := all; len(rest) > 0; {
		lineNo++
		raw, unterminated := nextLine(&rest)
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		ln, reason := decodeLine(raw, compressed, false, &inflater)
		if reason == "" {
			if err := walk(ln); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			// Errors as Whole words them (it also counts the other bad
			// lines), unless only walk finds the line unusable.
			if _, err := Whole(feed, body); err != nil {
				return err
			}
			return &FormatError{Feed: feed, Line: lineNo, Reason: atEnd(reason, unterminated)}
		}
		lines++
	}
	if lines == 0 {
		return &FormatError{Feed: feed, Reason: "no lines (only blank lines)"}
	}
	return nil
}

// decodeLine decodes one non-blank line; a non-empty reason means failure.
// validate checks that the payload is JSON.
func decodeLine(raw []byte, compressed, validate bool, inf *inflater) (Line, string) {
	if len(raw) < OffsetLen {
		return Line{}, fmt.Sprintf("line of %d bytes is shorter than the %d-byte offset", len(raw), OffsetLen)
	}
	off, err := parseOffset(raw[:OffsetLen])
	if err != nil {
		return Line{}, err.Error()
	}
	payload := bytes.TrimSpace(raw[OffsetLen:])
	if len(payload) == 0 {
		return Line{}, "offset without payload"
	}
	if compressed && payload[0] != '{' {
		data, err := inf.decodeZ(payload, validate)
		if err != nil {
			return Line{}, err.Error()
		}
		return Line{Offset: off, Data: data}, ""
	}
	if validate && !json.Valid(payload) {
		return Line{}, describeInvalidJSON(payload)
	}
	return Line{Offset: off, Data: json.RawMessage(payload)}, ""
}

// describeInvalidJSON explains why payload (known to be invalid) is not
// valid JSON, calling out truncation explicitly.
func describeInvalidJSON(payload []byte) string {
	var v any
	err := json.Unmarshal(payload, &v)
	switch {
	case err == nil:
		return "payload is not valid JSON"
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "payload is not valid JSON: truncated (unexpected end of input)"
	default:
		return "payload is not valid JSON: " + err.Error()
	}
}

// inflater reuses a DEFLATE reader and buffers across the lines of one Decode
// call.
type inflater struct {
	r   io.ReadCloser
	src bytes.Reader
	buf bytes.Buffer
	b64 []byte
}

// decodeZ decodes one compressed payload: JSON string -> base64 -> raw
// DEFLATE -> JSON (leading BOM and surrounding JSON white space removed).
// The result is a fresh slice; validate checks that it is JSON.
func (z *inflater) decodeZ(payload []byte, validate bool) (json.RawMessage, error) {
	var enc string
	if err := json.Unmarshal(payload, &enc); err != nil {
		return nil, fmt.Errorf("compressed payload is not a JSON string: %v", err)
	}
	if n := base64.StdEncoding.DecodedLen(len(enc)); cap(z.b64) < n {
		z.b64 = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(z.b64[:cap(z.b64)], []byte(enc))
	if err != nil {
		return nil, fmt.Errorf("compressed payload: bad base64: %v", err)
	}
	z.src.Reset(z.b64[:n])
	if z.r == nil {
		z.r = flate.NewReader(&z.src)
	} else if err := z.r.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return nil, fmt.Errorf("compressed payload: reset inflater: %v", err)
	}
	z.buf.Reset()
	m, err := z.buf.ReadFrom(io.LimitReader(z.r, MaxInflatedLine+1))
	if err != nil {
		return nil, fmt.Errorf("compressed payload: inflate: %v", err)
	}
	if m > MaxInflatedLine {
		return nil, fmt.Errorf("compressed payload inflates to more than %d bytes", MaxInflatedLine)
	}
	// Only JSON white space surrounds the document, as for a Scanner and
	// FastF1's json.loads: a vertical tab or a no-break space is not JSON.
	data := bytes.Trim(bytes.TrimPrefix(z.buf.Bytes(), utf8BOM), " \t\r\n")
	if validate && !json.Valid(data) {
		return nil, errors.New("compressed payload: inflated " + describeInvalidJSON(data))
	}
	return json.RawMessage(bytes.Clone(data)), nil
}
