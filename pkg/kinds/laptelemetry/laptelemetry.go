// Package laptelemetry merges one lap's car data and position data on one
// time base, as FastF1 does for
// session.laps.pick_drivers(d).pick_fastest().get_telemetry(), without any
// I/O.
//
// The merge follows FastF1 (theOehrly/Fast-F1 @ b1c23c2, MIT) step by step
// so that the result agrees with fastf1.core.Lap.get_telemetry cell by
// cell (see README.md for every reproduced behaviour and the deliberate
// differences):
//
//  1. the lap's car and position samples, each with one sample of padding
//     before LapStartTime and after the lap's end Time;
//  2. DriverAhead and DistanceToDriverAhead from the car samples inside the
//     lap and every other driver's car data, each driver's distance
//     integrated from the start of the lap it was on;
//  3. Distance (the integrated Speed) and RelativeDistance of the padded
//     car samples;
//  4. the merges: car data with the driver-ahead columns, then position
//     data with that, then two samples at exactly LapStartTime and Time;
//     after each merge the missing values are filled per channel: X, Y, Z,
//     Distance and RelativeDistance by a quadratic interpolating spline
//     over time (never before their first value), Speed, RPM, Throttle and
//     DistanceToDriverAhead linearly over time (held constant outside
//     their values), nGear, DRS, Brake, Status and DriverAhead by the
//     previous value (the next one before the first), Source by
//     "interpolation";
//  5. the rows between LapStartTime and Time, both included.
package laptelemetry

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Errors. A lap FastF1 cannot give telemetry for fails with one of these,
// wrapped with the driver and lap; match them with errors.Is.
var (
	// ErrNoTelemetry is the kind of failure FastF1 reports as a KeyError:
	// the driver has no car or position data at all, or none within the
	// lap. ErrNoCarData and ErrNoPositionData say which; both match it.
	ErrNoTelemetry = errors.New("no telemetry for the lap")
	// ErrNoCarData: the driver has no car samples in the session or none
	// between the lap's start and end.
	ErrNoCarData = fmt.Errorf("no car data: %w", ErrNoTelemetry)
	// ErrNoPositionData: the driver has no position samples in the session
	// or none between the lap's start and end (checked before car data for
	// the session, as FastF1 does).
	ErrNoPositionData = fmt.Errorf("no position data: %w", ErrNoTelemetry)
	// ErrNoFastestLap: the driver has no personal best lap with a lap time
	// (FastF1's pick_fastest returns None).
	ErrNoFastestLap = errors.New("no personal best lap with a lap time")
	// ErrTooFewSamples: the lap has too few samples for FastF1's
	// interpolation (fewer than three of a channel it interpolates
	// quadratically, fewer than three car samples, or only samples at
	// exactly the lap start), where FastF1 raises ValueError or IndexError.
	ErrTooFewSamples = errors.New("too few telemetry samples in the lap")
	// ErrUnknownLap: the lap passed to Telemetry is not one of the
	// session's laps (matched by DriverNumber and LapNumber).
	ErrUnknownLap = errors.New("not a lap of the session")
	// ErrInvalidInput: New was given samples out of order or with a
	// SessionTime that is not Date − T0.
	ErrInvalidInput = errors.New("invalid input")
)

// CarSample is one sample of a driver's car data (FastF1's
// session.car_data[driver] row).
type CarSample struct {
	// Date is the sample's UTC time, at millisecond precision as FastF1
	// rounds it.
	Date time.Time
	// SessionTime is Date − T0.
	SessionTime time.Duration
	// RPM is the engine speed.
	RPM float64
	// Speed is the car's speed in km/h.
	Speed float64
	// NGear is the gear number (FastF1's nGear).
	NGear int
	// Throttle is the throttle pedal in percent (104 = unavailable).
	Throttle float64
	// Brake reports whether the brakes are applied.
	Brake bool
	// DRS is the DRS indicator as sent.
	DRS int
	// Source is FastF1's Source flag: "car", or "nan" for the samples
	// FastF1 fills in where the car is missing from the feed.
	Source string
}

// PosSample is one sample of a driver's position data (FastF1's
// session.pos_data[driver] row).
type PosSample struct {
	// Date is the sample's UTC time, at millisecond precision.
	Date time.Time
	// SessionTime is Date − T0.
	SessionTime time.Duration
	// Status is "OnTrack" or "OffTrack".
	Status string
	// X, Y and Z are the car's coordinates in 1/10 m.
	X, Y, Z float64
	// Source is FastF1's Source flag: "pos", or "nan" for filled samples.
	Source string
}

// Lap is what the merge needs of one row of FastF1's Laps. Durations are
// session times (offsets from T0) except LapTime; nil means missing.
type Lap struct {
	// Driver is the three-letter abbreviation ("HAM"); DriverNumber the
	// racing number ("44").
	Driver, DriverNumber string
	// LapNumber counts the driver's laps from 1.
	LapNumber int
	// LapStartTime is the session time at which the lap started.
	LapStartTime *time.Duration
	// Time is the session time at which the lap ended.
	Time *time.Duration
	// LapTime is the lap's duration.
	LapTime *time.Duration
	// IsPersonalBest marks the driver's personal best lap (false where
	// FastF1 has it missing; FastF1 clears it on deleted laps, so deleted
	// laps never count as fastest).
	IsPersonalBest bool
}

// Input is one session's telemetry and laps, as FastF1 holds them after
// Session.load(laps=True, telemetry=True).
type Input struct {
	// T0 is FastF1's t0_date: the UTC time at session time zero.
	T0 time.Time
	// Drivers lists the session's drivers in FastF1's order
	// (session.drivers). It decides which drivers count at all: data of a
	// driver not listed is ignored, as FastF1 only loads listed drivers.
	// Its order breaks ties between cars at the same distance ahead.
	Drivers []string
	// Car and Pos are each driver's samples by driver number, in
	// ascending Date order without duplicates. A driver without samples
	// has no entry (or an empty one).
	Car map[string][]CarSample
	Pos map[string][]PosSample
	// Laps are the session's laps in FastF1's order (by driver, then lap
	// number); the driver-ahead computation needs every driver's laps.
	Laps []Lap
}

// Session is a validated Input ready for merging laps. It keeps
// references to the Input's slices, which must not be modified afterwards.
// A Session is immutable and safe for concurrent use.
type Session struct {
	t0      time.Time
	drivers []string
	car     map[string][]CarSample
	pos     map[string][]PosSample
	laps    map[string][]Lap // by driver number, in Input order
	all     []Lap
}

// New validates in and indexes its laps by driver. It fails with
// ErrInvalidInput when a listed driver's samples are not in strictly
// ascending Date order or a SessionTime is not Date − T0.
func New(in Input) (*Session, error) {
	s := &Session{
		t0:      in.T0,
		drivers: in.Drivers,
		car:     map[string][]CarSample{},
		pos:     map[string][]PosSample{},
		laps:    map[string][]Lap{},
		all:     in.Laps,
	}
	for _, drv := range in.Drivers {
		if car := in.Car[drv]; len(car) > 0 {
			for i := range car {
				if err := checkSample(in.T0, car, i, func(c CarSample) (time.Time, time.Duration) { return c.Date, c.SessionTime }); err != nil {
					return nil, fmt.Errorf("laptelemetry: car data of driver %s: %w", drv, err)
				}
			}
			s.car[drv] = car
		}
		if pos := in.Pos[drv]; len(pos) > 0 {
			for i := range pos {
				if err := checkSample(in.T0, pos, i, func(p PosSample) (time.Time, time.Duration) { return p.Date, p.SessionTime }); err != nil {
					return nil, fmt.Errorf("laptelemetry: position data of driver %s: %w", drv, err)
				}
			}
			s.pos[drv] = pos
		}
	}
	for _, l := range in.Laps {
		s.laps[l.DriverNumber] = append(s.laps[l.DriverNumber], l)
	}
	return s, nil
}

func checkSample[S any](t0 time.Time, samples []S, i int, at func(S) (time.Time, time.Duration)) error {
	date, st := at(samples[i])
	if got := date.Sub(t0); got != st {
		return fmt.Errorf("sample %d: SessionTime %v, but Date − T0 is %v: %w", i, st, got, ErrInvalidInput)
	}
	if i > 0 {
		if prev, _ := at(samples[i-1]); !date.After(prev) {
			return fmt.Errorf("sample %d: Date %v not after the previous sample's %v: %w", i, date, prev, ErrInvalidInput)
		}
	}
	return nil
}

// FastestLap picks a driver's fastest lap as FastF1's
// laps.pick_drivers(driver).pick_fastest() does: among the driver's laps
// marked IsPersonalBest with a LapTime, the one with the lowest LapTime,
// the first in laps' order on a tie. driver is a racing number ("44") or
// an abbreviation ("HAM", any case). ok is false when there is none.
func FastestLap(laps []Lap, driver string) (lap Lap, ok bool) {
	byNumber := driver != "" && strings.Trim(driver, "0123456789") == ""
	name := strings.ToUpper(driver)
	for _, l := range laps {
		if byNumber && l.DriverNumber != driver || !byNumber && l.Driver != name {
			continue
		}
		if !l.IsPersonalBest || l.LapTime == nil {
			continue
		}
		if !ok || *l.LapTime < *lap.LapTime {
			lap, ok = l, true
		}
	}
	return lap, ok
}

// Result is one driver's merged lap telemetry.
type Result struct {
	// Lap is the lap the samples belong to.
	Lap Lap
	// Samples are the merged rows, in time order.
	Samples []Sample
}

// Fastest returns the merged telemetry of a driver's fastest lap (see
// FastestLap), FastF1's
// laps.pick_drivers(driver).pick_fastest().get_telemetry(). It fails with
// ErrNoFastestLap when the driver has none, otherwise as Telemetry does.
func (s *Session) Fastest(driver string) (Result, error) {
	lap, ok := FastestLap(s.all, driver)
	if !ok {
		return Result{}, fmt.Errorf("laptelemetry: driver %s: %w", driver, ErrNoFastestLap)
	}
	samples, err := s.Telemetry(lap)
	return Result{Lap: lap, Samples: samples}, err
}

// Sample is one row of the merged telemetry, FastF1's Telemetry columns.
// Float channels are NaN where FastF1 has no value.
type Sample struct {
	// Date is the row's UTC time.
	Date time.Time
	// SessionTime is Date − T0.
	SessionTime time.Duration
	// DriverAhead is the racing number of the closest car ahead on track,
	// "" when there is none.
	DriverAhead string
	// DistanceToDriverAhead is the distance to that car in metres.
	DistanceToDriverAhead float64
	// Time is SessionTime − LapStartTime (0 at the first row).
	Time time.Duration
	// RPM, Speed (km/h), NGear, Throttle (%), Brake and DRS are the car
	// data channels, interpolated at rows that are no car sample.
	RPM, Speed float64
	NGear      int
	Throttle   float64
	Brake      bool
	DRS        int
	// Source says where the row comes from: "car", "pos" (a position
	// sample; also a car sample at the same instant), "interpolation" (the
	// rows added at LapStartTime and Time), or an input sample's own flag
	// such as "nan".
	Source string
	// Distance is the distance driven in metres since the lap's start,
	// RelativeDistance that as a fraction of the distance at the car
	// sample after the lap's end. NaN before the first car sample.
	Distance, RelativeDistance float64
	// Status is "OnTrack" or "OffTrack".
	Status string
	// X, Y and Z are the coordinates in 1/10 m; NaN before the first
	// position sample.
	X, Y, Z float64
}

// Telemetry merges the car data and position data of lap, FastF1's
// Lap.get_telemetry(). The rows run from LapStartTime to Time, both
// included; the first and last are added at exactly those instants
// (Source "interpolation") unless a sample falls there. It fails with
// ErrUnknownLap, ErrNoPositionData, ErrNoCarData (both ErrNoTelemetry) or
// ErrTooFewSamples, wrapped with the driver and lap number.
func (s *Session) Telemetry(lap Lap) ([]Sample, error) {
	out, err := s.telemetry(lap)
	if err != nil {
		return nil, fmt.Errorf("laptelemetry: driver %s lap %d: %w", lap.DriverNumber, lap.LapNumber, err)
	}
	return out, nil
}

func (s *Session) telemetry(lap Lap) ([]Sample, error) {
	if !s.hasLap(lap) {
		return nil, fmt.Errorf("the session has no lap %d of driver %q: %w", lap.LapNumber, lap.DriverNumber, ErrUnknownLap)
	}
	drv := lap.DriverNumber
	pos, ok := s.pos[drv]
	if !ok {
		return nil, fmt.Errorf("the driver has no position samples in the session: %w", ErrNoPositionData)
	}
	car, ok := s.car[drv]
	if !ok {
		return nil, fmt.Errorf("the driver has no car samples in the session: %w", ErrNoCarData)
	}
	var start, end time.Duration
	inLap := lap.LapStartTime != nil && lap.Time != nil
	if inLap {
		start, end = *lap.LapStartTime, *lap.Time
	}
	pos = padded(pos, inLap, start, end, func(p PosSample) time.Duration { return p.SessionTime })
	car = padded(car, inLap, start, end, func(c CarSample) time.Duration { return c.SessionTime })
	if len(car) == 0 {
		return nil, fmt.Errorf("no car sample between the lap's start and end: %w", ErrNoCarData)
	}
	if len(car) < 3 {
		return nil, fmt.Errorf("%d car samples with the padding, need 3: %w", len(car), ErrTooFewSamples)
	}

	var sym symbols
	inner := car[1 : len(car)-1]
	ahead, toAhead, err := s.driverAhead(drv, inner)
	if err != nil {
		return nil, err
	}
	aheadFrame := newFrame(len(inner))
	aheadFrame.col[chDriverAhead] = make([]float64, len(inner))
	aheadFrame.col[chDistanceToDriverAhead] = toAhead
	for i, c := range inner {
		aheadFrame.date[i] = c.Date.UnixNano()
		aheadFrame.col[chDriverAhead][i] = sym.id(ahead[i])
	}

	carFrame := newFrame(len(car))
	for _, ch := range []channel{chRPM, chSpeed, chNGear, chThrottle, chBrake, chDRS, chSource} {
		carFrame.col[ch] = make([]float64, len(car))
	}
	speed := carFrame.col[chSpeed]
	rel := make([]time.Duration, len(car))
	for i, c := range car {
		carFrame.date[i] = c.Date.UnixNano()
		carFrame.col[chRPM][i] = c.RPM
		speed[i] = c.Speed
		carFrame.col[chNGear][i] = float64(c.NGear)
		carFrame.col[chThrottle][i] = c.Throttle
		carFrame.col[chBrake][i] = boolValue(c.Brake)
		carFrame.col[chDRS][i] = float64(c.DRS)
		carFrame.col[chSource][i] = sym.id(c.Source)
		rel[i] = c.SessionTime - start
	}
	dist := integrateDistance(rel, speed)
	relDist := make([]float64, len(dist))
	for i, d := range dist {
		relDist[i] = d / dist[len(dist)-1]
	}
	carFrame.col[chDistance] = dist
	carFrame.col[chRelativeDistance] = relDist
	if !anyNonZero(rel) {
		return nil, fmt.Errorf("car samples only at the lap's start: %w", ErrTooFewSamples)
	}
	merged, err := merge(carFrame, aheadFrame, &sym)
	if err != nil {
		return nil, err
	}

	if len(pos) == 0 {
		return nil, fmt.Errorf("no position sample between the lap's start and end: %w", ErrNoPositionData)
	}
	posFrame := newFrame(len(pos))
	for _, ch := range []channel{chStatus, chX, chY, chZ, chSource} {
		posFrame.col[ch] = make([]float64, len(pos))
	}
	rel = rel[:0]
	for i, p := range pos {
		posFrame.date[i] = p.Date.UnixNano()
		posFrame.col[chStatus][i] = sym.id(p.Status)
		posFrame.col[chX][i] = p.X
		posFrame.col[chY][i] = p.Y
		posFrame.col[chZ][i] = p.Z
		posFrame.col[chSource][i] = sym.id(p.Source)
		rel = append(rel, p.SessionTime-start)
	}
	if !anyNonZero(rel) {
		return nil, fmt.Errorf("position samples only at the lap's start: %w", ErrTooFewSamples)
	}
	if merged, err = merge(posFrame, merged, &sym); err != nil {
		return nil, err
	}

	// FastF1's slice_by_lap(interpolate_edges=True): a row at each end of
	// the lap, filled like every other merge, then the rows in between.
	t0 := s.t0.UnixNano()
	edges := newFrame(2)
	edges.date[0], edges.date[1] = t0+int64(start), t0+int64(end)
	if len(merged.date) < 2 {
		return nil, fmt.Errorf("one merged sample: %w", ErrTooFewSamples)
	}
	if merged, err = merge(merged, edges, &sym); err != nil {
		return nil, err
	}
	lo := sort.Search(len(merged.date), func(i int) bool { return merged.date[i]-t0 >= int64(start) })
	hi := sort.Search(len(merged.date), func(i int) bool { return merged.date[i]-t0 > int64(end) })
	out := make([]Sample, 0, hi-lo)
	for i := lo; i < hi; i++ {
		st := time.Duration(merged.date[i] - t0)
		c := merged.col
		out = append(out, Sample{
			Date:                  time.Unix(0, merged.date[i]).UTC(),
			SessionTime:           st,
			DriverAhead:           sym.name(c[chDriverAhead][i]),
			DistanceToDriverAhead: c[chDistanceToDriverAhead][i],
			Time:                  st - start,
			RPM:                   c[chRPM][i],
			Speed:                 c[chSpeed][i],
			NGear:                 intValue(c[chNGear][i]),
			Throttle:              c[chThrottle][i],
			Brake:                 c[chBrake][i] == 1,
			DRS:                   intValue(c[chDRS][i]),
			Source:                sym.name(c[chSource][i]),
			Distance:              c[chDistance][i],
			RelativeDistance:      c[chRelativeDistance][i],
			Status:                sym.name(c[chStatus][i]),
			X:                     c[chX][i],
			Y:                     c[chY][i],
			Z:                     c[chZ][i],
		})
	}
	return out, nil
}

func (s *Session) hasLap(lap Lap) bool {
	for _, l := range s.laps[lap.DriverNumber] {
		if l.LapNumber == lap.LapNumber {
			return true
		}
	}
	return false
}

// padded returns the samples with a SessionTime in [start, end] and one
// more on each side where there is one (FastF1's slice_by_time with pad=1,
// pad_side="both"); none when ok is false (a missing lap time, which
// compares false with everything in pandas).
func padded[S any](samples []S, ok bool, start, end time.Duration, st func(S) time.Duration) []S {
	if !ok {
		return nil
	}
	lo := sort.Search(len(samples), func(i int) bool { return st(samples[i]) >= start })
	hi := sort.Search(len(samples), func(i int) bool { return st(samples[i]) > end })
	if lo >= hi {
		return nil
	}
	return samples[max(lo-1, 0):min(hi+1, len(samples))]
}

// within returns the samples with a SessionTime in [start, end] (FastF1's
// slice_by_time without padding).
func within[S any](samples []S, start, end time.Duration, st func(S) time.Duration) []S {
	lo := sort.Search(len(samples), func(i int) bool { return st(samples[i]) >= start })
	hi := sort.Search(len(samples), func(i int) bool { return st(samples[i]) > end })
	if lo >= hi {
		return nil
	}
	return samples[lo:hi]
}

// integrateDistance is FastF1's integrate_distance: the cumulative sum of
// Speed/3.6 × Δt in metres, where Δt of the first sample is its own time
// (rel, the offset from the slice's start; negative for a padding sample
// before it). NaN speeds give NaN there and are skipped in the sum, as
// pandas' cumsum does.
func integrateDistance(rel []time.Duration, speed []float64) []float64 {
	out := make([]float64, len(rel))
	sum := 0.0
	for i := range rel {
		var dt float64
		if i == 0 {
			dt = pyTotalSeconds(rel[0])
		} else {
			dt = seconds(rel[i]) - seconds(rel[i-1])
		}
		ds := speed[i] / 3.6 * dt
		if math.IsNaN(ds) {
			out[i] = math.NaN()
			continue
		}
		sum += ds
		out[i] = sum
	}
	return out
}

// seconds is pandas' Series.dt.total_seconds(): nanoseconds / 1e9.
func seconds(d time.Duration) float64 { return float64(d) / 1e9 }

// pyTotalSeconds is pandas' Timedelta.total_seconds() of one value:
// days·86400 + seconds as an integer, plus microseconds / 1e6.
func pyTotalSeconds(d time.Duration) float64 {
	us := floorDiv(int64(d), 1000)
	const day = 86400 * 1000000
	days := floorDiv(us, day)
	rem := us - days*day
	return float64(days*86400+rem/1000000) + float64(rem%1000000)/1e6
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func anyNonZero(ds []time.Duration) bool {
	for _, d := range ds {
		if d != 0 {
			return true
		}
	}
	return false
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func intValue(f float64) int {
	if math.IsNaN(f) {
		return 0
	}
	return int(f)
}
