// Package position decodes the car position feed of a session,
// Position.z.jsonStream, into per-car samples (Status, X, Y, Z), streaming,
// exactly as FastF1 builds Session.pos_data (fastf1/_api.py position_data,
// core.py Session._load_telemetry).
//
// The feed's lines each hold a few samples, one per instant:
//
//	{"Position":[{"Timestamp":"2020-08-08T09:45:03.0619797Z",
//	  "Entries":{"44":{"Status":"OnTrack","X":-1234,"Y":5678,"Z":123}}}]}
//
// X, Y and Z are in 1/10 m since 2020 (metres before). [Decode] reads the
// stream line by line and hands the rows on in batches of at most
// [BatchSize], so a two-hour race never sits in memory; what it keeps is a
// date per entry and a bit per car and entry. FastF1's behaviour it
// reproduces:
//
//   - Every car number in the feed is parsed; only the drivers passed in are
//     kept, but dropped cars still count for the session clock, for which
//     car is the "most complete", and for the warnings.
//   - A car lacking X, Y or Z in an entry has no sample there. Status is the
//     string sent; a missing or null Status is Python's "None"; a status
//     made of digits (the older API's) becomes "OffTrack" when non-zero,
//     "OnTrack" when zero; other non-strings are written as Python prints
//     them ("True", "-1", "1.5").
//   - Coordinates are integers; a number with a fraction is truncated toward
//     zero, true/false are 1/0.
//   - Date is the entry's Timestamp cut to microseconds, then rounded to the
//     millisecond, halves to even.
//   - A car with fewer samples than the most complete car is "incomplete":
//     it gets one row per date of the most complete car it lacks, with
//     Status "OffTrack", X, Y, Z 0 and Source "nan", its rows are sorted by
//     Date, and FastF1 warns "Driver NN: Position data is incomplete!".
//     Decode emits the filled rows last; [Sort] puts rows in FastF1's order.
//   - Summary.Clock is this feed's part of FastF1's Session.t0_date (see
//     cardata.T0, which combines both telemetry feeds' clocks).
//
// Where Decode differs from FastF1, on input no recording has: a malformed
// line stops Decode with an error naming the line (FastF1 skips the rest of
// the line); a car whose samples all lack a coordinate has no rows (FastF1
// fails); duplicate timestamps do not repeat an incomplete car's rows; a
// missing Status of an incomplete car stays "None" (FastF1's fill turns it
// into "OffTrack"); rows of an incomplete car with equal dates keep their
// stream order.
package position

import (
	"io"
	"math"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/kinds/telemetry"
	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// Feed is the live-timing feed this package decodes.
const Feed = "Position.z.jsonStream"

// BatchSize is the most samples Decode passes to emit at once.
const BatchSize = 4096

// Status is a car's track status as FastF1 writes it.
type Status string

const (
	// StatusOnTrack is a car on track.
	StatusOnTrack Status = "OnTrack"
	// StatusOffTrack is a car off track, in the pits or without data
	// (filled rows).
	StatusOffTrack Status = "OffTrack"
	// StatusNone is a sample without a Status (Python's None as text).
	StatusNone Status = "None"
)

// Source says where a row comes from: FastF1's Source column.
type Source uint8

const (
	// SourcePos is a sample of the feed ("pos").
	SourcePos Source = iota
	// SourceFill is a row FastF1 adds for an incomplete car; pandas writes
	// its missing Source as "nan".
	SourceFill
)

// String returns the Source column's text: "pos" or "nan".
func (s Source) String() string {
	if s == SourcePos {
		return "pos"
	}
	return "nan"
}

// Sample is one row of FastF1's pos_data table for one car.
type Sample struct {
	// Date is the sample's UTC time, rounded to the millisecond as FastF1
	// does.
	Date time.Time
	// Driver is the car's racing number, one of the drivers passed to
	// Decode (the string is shared with that slice, not copied).
	Driver string
	// Status is the track status (see the package doc).
	Status Status
	// X, Y and Z are the car's coordinates, in 1/10 m since 2020.
	X, Y, Z int32
	// Seq numbers the car's rows from 0 in the order Decode emits them:
	// stream order, filled rows last. (Driver, Seq) identifies a row.
	Seq uint32
	// Source is SourcePos, or SourceFill for rows FastF1 adds.
	Source Source
}

// DriverRows is what the feed holds for one car.
type DriverRows struct {
	// Number is the racing number.
	Number string
	// Rows is the car's row count in FastF1's table: its samples plus the
	// filled rows; 0 when the feed has nothing for the car. For a dropped
	// car (not in the driver list) it is the samples parsed and dropped.
	Rows int
	// Filled is how many of Rows are filled rows (SourceFill).
	Filled int
	// Incomplete is true when the car has fewer samples than the most
	// complete car: FastF1 fills its missing dates and sorts its rows by
	// Date.
	Incomplete bool
}

// Summary describes a decoded feed.
type Summary struct {
	// Lines is the number of non-blank lines decoded.
	Lines int
	// Samples is the number of samples parsed, of every car (dropped ones
	// too), without filled rows.
	Samples int
	// Rows is the number of rows passed to emit (kept samples and filled
	// rows).
	Rows int
	// Clock is this feed's contribution to FastF1's t0_date: the maximum
	// over every sample (dropped cars too) of its Timestamp, cut to
	// microseconds, minus its line's offset. It is the zero Time when the
	// feed has no sample. cardata.T0 combines it with car data's.
	Clock time.Time
	// Drivers has one entry per driver passed to Decode, in that order
	// (duplicates once).
	Drivers []DriverRows
	// Dropped lists the car numbers of the feed that are not in the driver
	// list, in order of first appearance, with their sample counts.
	Dropped []DriverRows
	// Warnings are FastF1's warnings about the feed, verbatim and in its
	// order, e.g. "Driver  5: Position data is incomplete!".
	Warnings []string
}

// Decode reads a Position.z.jsonStream body from r and passes FastF1's rows
// of the drivers listed (racing numbers, e.g. "44"; duplicates are ignored)
// to emit, in batches of at most [BatchSize]: each car's samples in stream
// order, interleaved between cars as the stream has them, then the filled
// rows of incomplete cars (see the package doc). The batch slice is reused
// after emit returns: emit must copy what it keeps. A nil or empty driver
// list keeps no rows but still summarizes every car.
//
// Decode stops at the first malformed line and returns a *livetiming
// FormatError naming the line (its number and the reason: bad framing,
// base64, DEFLATE or JSON, or a document not of the Position shape); an
// error from r or from emit is returned wrapped. The Summary is complete
// only when the error is nil (it is zero otherwise; rows already emitted stay
// emitted). emit is called from the goroutine calling Decode, one batch at a
// time. Decode uses a few goroutines to inflate lines (livetiming.Scanner)
// and is safe to call concurrently.
func Decode(r io.Reader, drivers []string, emit func([]Sample) error) (Summary, error) {
	s, err := telemetry.Decode[Sample, DriverRows](r, drivers, emit, &format)
	return Summary(s), err
}

// format is the Position.z stream's shape for telemetry.Decode.
var format = telemetry.Format[Sample]{
	Pkg: "position", Name: "position data", Feed: Feed,
	List: "Position", Date: "Timestamp", Cars: "Entries",
	BatchSize: BatchSize,
	Parse:     sample,
	Fill: func(k telemetry.Key) Sample {
		return Sample{Date: k.Date, Driver: k.Driver, Status: StatusOffTrack, Seq: k.Seq, Source: SourceFill}
	},
	Incomplete: "Position data is incomplete!",
}

// sample decodes one car's {"Status": ..., "X": ..., "Y": ..., "Z": ...}
// into its row at k; ok is false when a coordinate is missing (no sample).
// It flags nothing.
func sample(p *jsonwalk.Doc, k telemetry.Key) (s Sample, _, ok bool) {
	s.Date, s.Driver, s.Seq = k.Date, k.Driver, k.Seq
	if !p.Open('{', "the car") {
		return s, false, false
	}
	s.Status = StatusNone
	var have uint8
	for first := true; p.More('}', &first); {
		switch string(p.Key()) {
		case "X":
			s.X = int32(p.Integer("X", math.MinInt32, math.MaxInt32))
			have |= 1
		case "Y":
			s.Y = int32(p.Integer("Y", math.MinInt32, math.MaxInt32))
			have |= 2
		case "Z":
			s.Z = int32(p.Integer("Z", math.MinInt32, math.MaxInt32))
			have |= 4
		case "Status":
			s.Status = status(p)
		default:
			p.Skip()
		}
	}
	if p.Err != nil {
		return s, false, false
	}
	return s, false, have == 7
}

// status reads a Status value as FastF1 keeps it (see the package doc).
func status(p *jsonwalk.Doc) Status {
	switch c := p.Peek(); {
	case c == '"':
		v := p.Str(`"Status"`)
		switch string(v) {
		case "OnTrack":
			return StatusOnTrack
		case "OffTrack":
			return StatusOffTrack
		}
		if digits(v) {
			return digitStatus(v)
		}
		return Status(v)
	case c == 'n':
		p.Skip()
		return StatusNone
	case c == 't' || c == 'f':
		if string(p.Span()) == "true" {
			return "True"
		}
		return "False"
	case c == '-' || (c >= '0' && c <= '9'):
		lit := p.Span()
		if digits(lit) { // str(n).isdigit() for n >= 0
			return digitStatus(lit)
		}
		if lit[0] == '-' && digits(lit[1:]) { // a negative integer, kept as text; -0 is 0
			if digitStatus(lit[1:]) == StatusOnTrack {
				return StatusOnTrack
			}
			return Status(lit)
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !jsonwalk.IsRange(err) {
			p.Failf(`"Status": %v`, err)
			return ""
		}
		return Status(pyrepr.Float(f))
	default:
		p.Failf(`"Status" is %s, want a string`, jsonwalk.Kind(c))
		return ""
	}
}

// digits reports whether b is a non-empty run of ASCII digits.
func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// digitStatus maps the older API's numeric status: 0 on track, else off.
func digitStatus(b []byte) Status {
	for _, c := range b {
		if c != '0' {
			return StatusOffTrack
		}
	}
	return StatusOnTrack
}

// Sort puts the rows of one session's feed, as Decode emitted them (in any
// order), in the order of FastF1's table: by driver in the order of drivers
// (Summary.Drivers), then, for a complete car, in stream order (Seq) and,
// for an incomplete car, by Date (ties by Seq). Rows of drivers not in the
// list go last.
func Sort(rows []Sample, drivers []DriverRows) {
	telemetry.Sort(rows, drivers, func(s *Sample) telemetry.Key {
		return telemetry.Key{Date: s.Date, Driver: s.Driver, Seq: s.Seq}
	})
}
