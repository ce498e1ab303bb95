package cardata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds/laps"
	"github.com/paddock-f1/paddock/pkg/kinds/laptelemetry"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
)

// lapTelemetry is the `lap-telemetry` export: FastF1's Lap.get_telemetry()
// of one driver's lap (a number, or "fastest": pick_fastest), car data and
// position merged on one time base with Distance, RelativeDistance,
// DriverAhead and DistanceToDriverAhead, from the stored car data,
// position data and laps of the whole session.
var lapTelemetry = kind.Export{
	Name: "lap-telemetry", Header: "Driver,DriverNumber," + strings.Join(laptelemetry.CSVHeader(), ","),
	FastF1: "fastest_lap_telemetry", Lap: true,
	Write: func(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
		in, err := lapInput(ctx, db, q)
		if err != nil {
			return 0, err
		}
		s, err := laptelemetry.New(in)
		if err != nil {
			return 0, fmt.Errorf("lap telemetry of %s: %w", q.SessionKey, err)
		}
		var res laptelemetry.Result
		if q.Lap == "" || q.Lap == "fastest" {
			res, err = s.Fastest(q.Driver)
		} else {
			n, perr := strconv.Atoi(q.Lap)
			if perr != nil {
				return 0, fmt.Errorf("--lap %q: a lap number or \"fastest\"", q.Lap)
			}
			lap, ok := findLap(in.Laps, q.Driver, n)
			if !ok {
				return 0, fmt.Errorf("lap telemetry of %s: driver %s has no lap %d", q.SessionKey, q.Driver, n)
			}
			res.Lap = lap
			res.Samples, err = s.Telemetry(lap)
		}
		if errors.Is(err, laptelemetry.ErrNoTelemetry) && len(in.Car) == 0 && len(in.Pos) == 0 {
			return 0, nil // nothing stored: the caller says why
		}
		if err != nil {
			return 0, fmt.Errorf("lap telemetry of %s: %w", q.SessionKey, err)
		}
		return len(res.Samples), laptelemetry.WriteCSV(w, []laptelemetry.Result{res})
	},
}

// findLap finds a driver's lap by number (the driver by number or
// abbreviation).
func findLap(all []laptelemetry.Lap, driver string, n int) (laptelemetry.Lap, bool) {
	for _, l := range all {
		if (l.DriverNumber == driver || l.Driver == driver) && l.LapNumber == n {
			return l, true
		}
	}
	return laptelemetry.Lap{}, false
}

// lapInput reads what the merge needs of the whole session: every car's
// car and position samples by date, the laps and the clock.
func lapInput(ctx context.Context, db kind.Querier, q kind.Query) (laptelemetry.Input, error) {
	k := q.SessionKey
	var in laptelemetry.Input
	cars, h, err := Read(ctx, db, k, "")
	if err != nil {
		return in, err
	}
	poss, ph, err := position.Read(ctx, db, k, "")
	if err != nil {
		return in, err
	}
	in.T0 = h.T0
	if in.T0.IsZero() {
		in.T0 = ph.T0
	}
	for _, d := range h.Drivers {
		in.Drivers = append(in.Drivers, d.Number)
	}
	for _, d := range ph.Drivers {
		if !slices.Contains(in.Drivers, d.Number) {
			in.Drivers = append(in.Drivers, d.Number)
		}
	}
	in.Car = map[string][]laptelemetry.CarSample{}
	for _, c := range cars {
		in.Car[c.Driver] = append(in.Car[c.Driver], laptelemetry.CarSample{
			Date: c.Date, SessionTime: c.Date.Sub(in.T0), RPM: float64(c.RPM), Speed: float64(c.Speed),
			NGear: int(c.NGear), Throttle: float64(c.Throttle), Brake: c.Brake, DRS: int(c.DRS), Source: c.Source.String()})
	}
	in.Pos = map[string][]laptelemetry.PosSample{}
	for _, p := range poss {
		in.Pos[p.Driver] = append(in.Pos[p.Driver], laptelemetry.PosSample{
			Date: p.Date, SessionTime: p.Date.Sub(in.T0), Status: string(p.Status),
			X: float64(p.X), Y: float64(p.Y), Z: float64(p.Z), Source: p.Source.String()})
	}
	for d := range in.Car {
		in.Car[d] = byDate(in.Car[d], func(s laptelemetry.CarSample) int64 { return s.Date.UnixMilli() })
	}
	for d := range in.Pos {
		in.Pos[d] = byDate(in.Pos[d], func(s laptelemetry.PosSample) int64 { return s.Date.UnixMilli() })
	}
	ls, err := laps.Read(ctx, db, k)
	if err != nil {
		return in, err
	}
	for _, l := range ls {
		in.Laps = append(in.Laps, laptelemetry.Lap{Driver: l.Driver, DriverNumber: l.DriverNumber, LapNumber: l.LapNumber,
			LapStartTime: l.LapStartTime, Time: l.Time, LapTime: l.LapTime, IsPersonalBest: l.IsPersonalBest != nil && *l.IsPersonalBest})
	}
	return in, nil
}

// byDate orders a car's samples by date, keeping the first of equal dates
// (the merge wants strictly ascending dates, as FastF1's frames have them).
func byDate[T any](s []T, date func(T) int64) []T {
	slices.SortStableFunc(s, func(a, b T) int {
		x, y := date(a), date(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(s, func(a, b T) bool { return date(a) == date(b) })
}
