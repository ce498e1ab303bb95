package laptelemetry

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// distanceTrace is one driver's distance over [tStart, tEnd]: session
// times and metres driven since the start of the lap the driver was on at
// tStart.
type distanceTrace struct {
	driver string
	st     []time.Duration
	dist   []float64
}

// driverAhead is FastF1's Telemetry.calculate_driver_ahead for the car
// samples inner of driver drv (the lap's samples without padding): per
// sample the number of the closest car ahead ("" when none) and the
// distance to it in metres (NaN when none).
//
// Every listed driver with car data and laps gets a distance trace over
// the samples' time span, integrated from the start of the first lap
// relevant to the span so that all traces share the finish line as zero.
// A trace value equal to that driver's previous row (a car standing
// still, and the first row) does not count; a car ahead is one with a
// trace value at or above the driver's own.
//
// Where FastF1 fails, this does not: with no other car it reports no car
// ahead (FastF1: ValueError of numpy's argmin), and where other cars have
// samples at instants the driver has none it computes on the union of
// the instants and keeps the driver's own (FastF1: ValueError, lengths
// differ).
func (s *Session) driverAhead(drv string, inner []CarSample) ([]string, []float64, error) {
	tStart, tEnd := inner[0].SessionTime, inner[len(inner)-1].SessionTime
	firstLap, found := 0, false
	for _, l := range s.laps[drv] {
		if l.LapStartTime != nil && *l.LapStartTime <= tStart {
			firstLap, found = l.LapNumber, true
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("no lap of the driver starts by %v: %w", tStart, ErrUnknownLap)
	}

	var traces []distanceTrace
	own := -1
	for _, d := range s.drivers {
		car, ok := s.car[d]
		if !ok {
			continue
		}
		tr, ok := s.trace(d, car, firstLap, tStart, tEnd)
		if !ok {
			continue
		}
		if d == drv {
			own = len(traces)
		}
		traces = append(traces, tr)
	}
	if own < 0 {
		return nil, nil, fmt.Errorf("no car samples of the driver's laps in [%v, %v]: %w", tStart, tEnd, ErrNoCarData)
	}

	// the union of all traces' instants (pandas' outer join on
	// SessionTime); rows[k][r] is trace k's value at union row r
	var union []time.Duration
	for _, tr := range traces {
		union = append(union, tr.st...)
	}
	slices.Sort(union)
	union = slices.Compact(union)
	rows := make([][]float64, len(traces))
	for k, tr := range traces {
		col := make([]float64, len(union))
		i := 0
		for r, st := range union {
			if i < len(tr.st) && tr.st[i] == st {
				col[r] = tr.dist[i]
				i++
			} else {
				col[r] = math.NaN()
			}
		}
		rows[k] = col
	}

	ahead := make([]string, len(inner))
	dist := make([]float64, len(inner))
	ownDist := rows[own]
	for i, c := range inner {
		ahead[i], dist[i] = "", math.NaN()
		r := sort.Search(len(union), func(r int) bool { return union[r] >= c.SessionTime })
		if r == len(union) || union[r] != c.SessionTime {
			continue
		}
		best, bestK := math.Inf(1), -1
		for k, col := range rows {
			if k == own {
				continue
			}
			prev := col[max(r-1, 0)]
			v := col[r]
			if r == 0 || v-prev == 0 {
				continue // no change since the previous row: not counted
			}
			delta := v - ownDist[r]
			if math.IsNaN(delta) || delta < 0 {
				continue
			}
			if bestK < 0 || delta < best {
				best, bestK = delta, k
			}
		}
		if bestK >= 0 && !math.IsInf(best, 1) {
			ahead[i], dist[i] = traces[bestK].driver, best
		}
	}
	return ahead, dist, nil
}

// trace is driver d's distance over [tStart, tEnd], integrated from the
// start of the relevant laps; ok is false when the driver has no laps or
// no car samples there. firstLap is the number of the lap the reference
// driver is on at tStart.
func (s *Session) trace(d string, car []CarSample, firstLap int, tStart, tEnd time.Duration) (distanceTrace, bool) {
	laps := s.laps[d]
	if len(laps) == 0 {
		return distanceTrace{}, false
	}
	// the lap the driver is on at tStart; a driver on an earlier lap
	// number than the reference crosses the line after it, so its
	// relevant lap is the next one
	before, haveBefore := 0, false
	minLap, maxLap := laps[0].LapNumber, laps[0].LapNumber
	for _, l := range laps {
		minLap, maxLap = min(minLap, l.LapNumber), max(maxLap, l.LapNumber)
		if l.LapStartTime != nil && *l.LapStartTime <= tStart {
			before, haveBefore = l.LapNumber, true
		}
	}
	if haveBefore {
		if before < firstLap {
			before++
		}
	} else {
		before = minLap
	}
	after, haveAfter := 0, false
	for _, l := range laps {
		if l.Time != nil && *l.Time >= tEnd {
			after, haveAfter = l.LapNumber, true
			break
		}
	}
	if !haveAfter {
		after = maxLap
	}

	// widen by one lap where the boundary laps lack their times (FastF1
	// checks the last lap's start and the first lap's end, and widens at
	// most once)
	var relevant []Lap
	padBefore, padAfter := 0, 0
	for {
		relevant = relevant[:0]
		for _, l := range laps {
			if l.LapNumber >= before-padBefore && l.LapNumber <= after+padAfter {
				relevant = append(relevant, l)
			}
		}
		if padBefore >= 1 || padAfter >= 1 || len(relevant) == 0 {
			break
		}
		if relevant[len(relevant)-1].LapStartTime == nil {
			padBefore++
			continue
		}
		if relevant[0].Time == nil {
			padAfter++
			continue
		}
		break
	}
	if len(relevant) == 0 {
		return distanceTrace{}, false
	}

	// slice_by_lap of the relevant laps: from the earliest start to the
	// latest end (one lap: its own start and end, missing ones slice
	// nothing)
	var start, end *time.Duration
	for _, l := range relevant {
		if l.LapStartTime != nil && (start == nil || *l.LapStartTime < *start) {
			start = l.LapStartTime
		}
		if l.Time != nil && (end == nil || *l.Time > *end) {
			end = l.Time
		}
	}
	if start == nil || end == nil {
		return distanceTrace{}, false
	}
	st := func(c CarSample) time.Duration { return c.SessionTime }
	window := within(car, *start, *end, st)
	if len(window) == 0 {
		return distanceTrace{}, false
	}
	rel := make([]time.Duration, len(window))
	speed := make([]float64, len(window))
	for i, c := range window {
		rel[i], speed[i] = c.SessionTime-*start, c.Speed
	}
	dist := integrateDistance(rel, speed)

	lo := sort.Search(len(window), func(i int) bool { return window[i].SessionTime >= tStart })
	hi := sort.Search(len(window), func(i int) bool { return window[i].SessionTime > tEnd })
	if lo >= hi {
		return distanceTrace{}, false
	}
	tr := distanceTrace{driver: d, st: make([]time.Duration, hi-lo), dist: dist[lo:hi]}
	for i := lo; i < hi; i++ {
		tr.st[i-lo] = window[i].SessionTime
	}
	return tr, true
}
