// Package cardata decodes the car telemetry feed of a session,
// CarData.z.jsonStream, into per-car samples (RPM, Speed, nGear, Throttle,
// Brake, DRS), streaming, exactly as FastF1 builds Session.car_data
// (fastf1/_api.py car_data, core.py Session._load_telemetry).
//
// The feed's lines each hold a few entries, one per sample instant:
//
//	{"Entries":[{"Utc":"2020-08-08T09:45:03.0619797Z",
//	  "Cars":{"44":{"Channels":{"0":RPM,"2":Speed,"3":nGear,"4":Throttle,"5":Brake,"45":DRS}}}}]}
//
// [Decode] reads the stream line by line and hands the rows on in batches of
// at most [BatchSize], so a two-hour race (about 650,000 samples) never sits
// in memory; what it keeps is a date per entry and a bit per car and entry
// (a few hundred KB for a race). FastF1's behaviour it reproduces:
//
//   - Every car number in the feed is parsed; only the drivers passed in are
//     kept (FastF1 drops the others, e.g. a "0" that is no driver, when it
//     builds the session's tables), but dropped cars still count for the
//     session clock, for which car is the "most complete", and for the
//     warnings.
//   - A car lacking one of channels 0, 2, 3, 4, 5 in an entry has no sample
//     there; a missing DRS channel (45, absent from 2026) is 0.
//   - Values are integers; a number with a fraction is truncated toward
//     zero, true/false are 1/0. Brake is true when non-zero.
//   - Date is the entry's Utc cut to microseconds (not rounded), then
//     rounded to the millisecond, halves to even (pandas' round("ms")).
//   - A car with fewer samples than the most complete car (the first car, in
//     order of first appearance, with the most samples) is "incomplete":
//     FastF1 outer-merges its rows with that car's dates, so it gets one row
//     per such date it lacks, all channels 0, Brake false, Source "nan", and
//     its rows are sorted by Date; FastF1 warns "Driver NN: Car data is
//     incomplete!". Decode emits those filled rows after the real ones and
//     says in [Summary] which cars are sorted by date; [Sort] puts rows in
//     FastF1's order.
//   - Summary.Clock is this feed's part of FastF1's Session.t0_date, the
//     maximum over all samples of Date - line offset; [T0] combines the two
//     telemetry feeds' clocks into t0_date. Time and SessionTime of every
//     row are Date - t0_date.
//
// Where Decode differs from FastF1, on input no recording has: a malformed
// line (truncated, bad base64 or DEFLATE, not JSON, not of the shape above,
// a value that is not a number or does not fit its column) stops Decode with
// an error naming the line, where FastF1 skips the rest of the line with a
// warning; a car whose samples all lack a channel has no rows (FastF1
// fails); if two entries carry the same Utc, FastF1's merge repeats an
// incomplete car's rows once per duplicate, Decode does not; rows of an
// incomplete car with equal dates keep their stream order (FastF1's sort is
// not stable).
package cardata

import (
	"io"
	"math"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/kinds/telemetry"
)

// Feed is the live-timing feed this package decodes.
const Feed = "CarData.z.jsonStream"

// BatchSize is the most samples Decode passes to emit at once.
const BatchSize = 4096

// Source says where a row comes from: FastF1's Source column.
type Source uint8

const (
	// SourceCar is a sample of the feed ("car").
	SourceCar Source = iota
	// SourceFill is a row FastF1 adds for an incomplete car, every channel
	// zero; pandas writes its missing Source as "nan".
	SourceFill
)

// String returns the Source column's text: "car" or "nan".
func (s Source) String() string {
	if s == SourceCar {
		return "car"
	}
	return "nan"
}

// Sample is one row of FastF1's car_data table for one car.
type Sample struct {
	// Date is the sample's UTC time, rounded to the millisecond as FastF1
	// does.
	Date time.Time
	// Driver is the car's racing number, one of the drivers passed to
	// Decode (the string is shared with that slice, not copied).
	Driver string
	// Seq numbers the car's rows from 0 in the order Decode emits them:
	// stream order, filled rows last. (Driver, Seq) identifies a row.
	Seq uint32
	// RPM is engine revolutions per minute.
	RPM int32
	// Speed is in km/h.
	Speed int16
	// Throttle is the pedal position in percent, 0-100 (104 when the car
	// sends no valid value, as stationary cars do).
	Throttle int16
	// NGear is the gear, 0 for neutral (FastF1's nGear).
	NGear int8
	// DRS is the raw DRS state: 0/1 off, 8 available, 10, 12, 14 open.
	DRS int8
	// Brake is whether the brake is applied (the raw value is 0 or 100).
	Brake bool
	// Source is SourceCar, or SourceFill for rows FastF1 adds.
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
	// over every sample (dropped cars too) of its Utc, cut to microseconds,
	// minus its line's offset. It is the zero Time when the feed has no
	// sample. See [T0].
	Clock time.Time
	// Drivers has one entry per driver passed to Decode, in that order
	// (duplicates once).
	Drivers []DriverRows
	// Dropped lists the car numbers of the feed that are not in the driver
	// list, in order of first appearance, with their sample counts.
	Dropped []DriverRows
	// Warnings are FastF1's warnings about the feed, verbatim and in its
	// order, e.g. "Driver 44: Car data is incomplete!" and "Driver 44: Raw
	// brake data contains non-boolean values!".
	Warnings []string
}

// T0 returns FastF1's Session.t0_date from the clocks of a session's
// telemetry feeds (Summary.Clock of car data and of position data): their
// maximum rounded to the millisecond, halves to even. Zero clocks (feeds
// without samples) are ignored; ok is false when every clock is zero (FastF1
// then warns "Failed to determine `Session.t0_date`!" and has no telemetry
// times).
func T0(clocks ...time.Time) (t0 time.Time, ok bool) {
	var best int64
	for _, c := range clocks {
		if c.IsZero() {
			continue
		}
		if us := c.UnixMicro(); !ok || us > best {
			best, ok = us, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMicro(jsonwalk.RoundMillis(best)).UTC(), true
}

// Decode reads a CarData.z.jsonStream body from r and passes FastF1's rows
// of the drivers listed (racing numbers, e.g. "44"; duplicates are ignored)
// to emit, in batches of at most [BatchSize]: each car's samples in stream
// order, interleaved between cars as the stream has them, then the filled
// rows of incomplete cars (see the package doc). The batch slice is reused
// after emit returns: emit must copy what it keeps. A nil or empty driver
// list keeps no rows but still summarizes every car.
//
// Decode stops at the first malformed line and returns a *livetiming
// FormatError naming the line (its number and the reason: bad framing,
// base64, DEFLATE or JSON, or a document not of the CarData shape); an error
// from r or from emit is returned wrapped. The Summary is complete only when
// the error is nil (it is zero otherwise; rows already emitted stay
// emitted). emit is called from the goroutine calling Decode, one batch at a
// time. Decode uses a few goroutines to inflate lines (livetiming.Scanner)
// and is safe to call concurrently.
func Decode(r io.Reader, drivers []string, emit func([]Sample) error) (Summary, error) {
	s, err := telemetry.Decode[Sample, DriverRows](r, drivers, emit, &format)
	return Summary(s), err
}

// format is the CarData.z stream's shape for telemetry.Decode.
var format = telemetry.Format[Sample]{
	Pkg: "cardata", Name: "car data", Feed: Feed,
	List: "Entries", Date: "Utc", Cars: "Cars",
	BatchSize: BatchSize,
	Parse:     channels,
	Fill: func(k telemetry.Key) Sample {
		return Sample{Date: k.Date, Driver: k.Driver, Seq: k.Seq, Source: SourceFill}
	},
	Incomplete: "Car data is incomplete!",
	Flagged:    "Raw brake data contains non-boolean values!",
}

// channels decodes one car's {"Channels": {...}} into its row at k; ok is
// false when a channel FastF1 requires is missing (the car has no sample
// here); nonBool is true when the raw brake value is in (0, 100).
func channels(p *jsonwalk.Doc, k telemetry.Key) (s Sample, nonBool, ok bool) {
	s.Date, s.Driver, s.Seq = k.Date, k.Driver, k.Seq
	if !p.Open('{', "the car") {
		return s, false, false
	}
	var rawBrake int64
	found := false
	for first := true; p.More('}', &first); {
		if string(p.Key()) != "Channels" {
			p.Skip()
			continue
		}
		if found {
			p.Failf(`two "Channels"`)
			break
		}
		found = true
		var have uint8
		if !p.Open('{', `"Channels"`) {
			break
		}
		for first := true; p.More('}', &first); {
			k := p.Key()
			switch string(k) {
			case "0":
				s.RPM = int32(p.Integer("RPM (channel 0)", math.MinInt32, math.MaxInt32))
				have |= 1
			case "2":
				s.Speed = int16(p.Integer("Speed (channel 2)", math.MinInt16, math.MaxInt16))
				have |= 2
			case "3":
				s.NGear = int8(p.Integer("nGear (channel 3)", math.MinInt8, math.MaxInt8))
				have |= 4
			case "4":
				s.Throttle = int16(p.Integer("Throttle (channel 4)", math.MinInt16, math.MaxInt16))
				have |= 8
			case "5":
				rawBrake = p.Integer("Brake (channel 5)", -1<<53, 1<<53)
				s.Brake = rawBrake != 0
				have |= 16
			case "45":
				s.DRS = int8(p.Integer("DRS (channel 45)", math.MinInt8, math.MaxInt8))
			default:
				p.Skip()
			}
		}
		ok = have == 31
	}
	if p.Err != nil {
		return s, false, false
	}
	return s, rawBrake > 0 && rawBrake < 100, ok
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
