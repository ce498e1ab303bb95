package laptelemetry

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var testT0 = time.Date(2024, 6, 22, 13, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func dur(d time.Duration) *time.Duration { return &d }

// carTrace is a car sample every step ms from from to to (inclusive) at a
// constant speed in km/h.
func carTrace(from, to, step int, speed float64) []CarSample {
	var out []CarSample
	for i, t := 0, from; t <= to; i, t = i+1, t+step {
		out = append(out, CarSample{Date: testT0.Add(ms(t)), SessionTime: ms(t), RPM: 10000 + float64(i),
			Speed: speed, NGear: 1 + i%8, Throttle: 100, Brake: i%5 == 0, Source: "car"})
	}
	return out
}

// posTrace is a position sample every step ms from from to to.
func posTrace(from, to, step int) []PosSample {
	var out []PosSample
	for t := from; t <= to; t += step {
		s := float64(t) / 1000
		out = append(out, PosSample{Date: testT0.Add(ms(t)), SessionTime: ms(t), Status: "OnTrack",
			X: 10 * s, Y: s * s, Z: 5, Source: "pos"})
	}
	return out
}

// laps are laps of one driver between consecutive boundaries (ms); the
// personal bests are the lap numbers listed.
func laps(drv string, bounds []int, pbs ...int) []Lap {
	var out []Lap
	for i := 0; i+1 < len(bounds); i++ {
		l := Lap{Driver: "D" + drv, DriverNumber: drv, LapNumber: i + 1, LapStartTime: dur(ms(bounds[i])),
			Time: dur(ms(bounds[i+1])), LapTime: dur(ms(bounds[i+1] - bounds[i]))}
		for _, n := range pbs {
			l.IsPersonalBest = l.IsPersonalBest || n == l.LapNumber
		}
		out = append(out, l)
	}
	return out
}

// twoCars: cars 1 and 2 at 180 km/h (50 m/s) with data from 1 s to
// 200 s; car 2's laps start 2 s before car 1's, so it is 100 m ahead.
func twoCars() Input {
	return Input{
		T0:      testT0,
		Drivers: []string{"1", "2"},
		Car:     map[string][]CarSample{"1": carTrace(1000, 200000, 240, 180), "2": carTrace(1000, 200000, 240, 180)},
		Pos:     map[string][]PosSample{"1": posTrace(1100, 200000, 250), "2": posTrace(1100, 200000, 250)},
		Laps: append(laps("1", []int{10000, 70000, 129000, 190000}, 1, 2),
			laps("2", []int{8000, 68000, 128000, 188000}, 1)...),
	}
}

func mustNew(t *testing.T, in Input) *Session {
	t.Helper()
	s, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkRows checks the contract every result has: rows from LapStartTime
// to Time, Time relative to the lap start, dates ascending.
func checkRows(t *testing.T, lap Lap, rows []Sample) {
	t.Helper()
	if len(rows) < 2 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[0].SessionTime != *lap.LapStartTime || rows[len(rows)-1].SessionTime != *lap.Time {
		t.Errorf("rows span %v–%v, lap %v–%v", rows[0].SessionTime, rows[len(rows)-1].SessionTime, *lap.LapStartTime, *lap.Time)
	}
	for i, r := range rows {
		if r.Time != r.SessionTime-*lap.LapStartTime || !r.Date.Equal(testT0.Add(r.SessionTime)) {
			t.Errorf("row %d: Time %v, SessionTime %v, Date %v", i, r.Time, r.SessionTime, r.Date)
		}
		if i > 0 && !r.Date.After(rows[i-1].Date) {
			t.Errorf("row %d: date %v not after %v", i, r.Date, rows[i-1].Date)
		}
	}
}

// checkAhead checks that car ahead is ahead by dist metres on every row
// but the first ones: FastF1 never counts the first car sample in the lap,
// so the rows up to the second car sample have no car ahead (they are
// filled from the first).
func checkAhead(t *testing.T, rows []Sample, ahead string, dist float64) {
	t.Helper()
	cars := 0
	for i, r := range rows {
		if r.Source == "car" {
			cars++
		}
		want := ahead
		if cars < 2 {
			want = ""
		}
		if r.DriverAhead != want || math.Abs(r.DistanceToDriverAhead-dist) > 1e-9 {
			t.Fatalf("row %d (%s): ahead %q at %v m, want %q at %v m", i, r.Source, r.DriverAhead, r.DistanceToDriverAhead, want, dist)
		}
	}
}

func TestFastestLapPicksPersonalBest(t *testing.T) {
	l := func(drv string, n int, lapMs int, pb bool) Lap {
		var lt *time.Duration
		if lapMs > 0 {
			lt = dur(ms(lapMs))
		}
		return Lap{Driver: "D" + drv, DriverNumber: drv, LapNumber: n, LapTime: lt, IsPersonalBest: pb}
	}
	all := []Lap{
		l("1", 1, 80000, true), l("1", 2, 70000, false), l("1", 3, 75000, true), l("1", 4, 75000, true),
		l("2", 1, 0, true), l("2", 2, 60000, false),
		l("3", 1, 90000, true), l("3", 2, 0, true),
	}
	tests := []struct {
		name   string
		driver string
		lap    int // 0: none
	}{
		{"quickest personal best, not the quickest lap", "1", 3},
		{"tie: the first in order", "1", 3},
		{"by abbreviation, any case", "d1", 3},
		{"personal best without lap time does not count", "2", 0},
		{"lap time missing on another personal best", "3", 1},
		{"unknown driver", "9", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FastestLap(all, tc.driver)
			if ok != (tc.lap != 0) || ok && got.LapNumber != tc.lap {
				t.Errorf("FastestLap(%q) = lap %d, %v; want lap %d", tc.driver, got.LapNumber, ok, tc.lap)
			}
		})
	}
}

func TestFastestNoPersonalBest(t *testing.T) {
	in := twoCars()
	s := mustNew(t, in)
	if _, err := s.Fastest("7"); !errors.Is(err, ErrNoFastestLap) {
		t.Errorf("driver without laps: %v", err)
	}
}

func TestTelemetryDriverAhead(t *testing.T) {
	s := mustNew(t, twoCars())
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Lap.LapNumber != 2 {
		t.Fatalf("fastest lap %d, want 2", res.Lap.LapNumber)
	}
	rows := res.Samples
	checkRows(t, res.Lap, rows)
	checkAhead(t, rows, "2", 100)
	if rows[0].Source != "interpolation" || rows[len(rows)-1].Source != "interpolation" {
		t.Errorf("edge rows from %q and %q, want interpolation", rows[0].Source, rows[len(rows)-1].Source)
	}
	// 50 m/s over the lap's 59 s; X = 10·t is linear, so the quadratic
	// spline reproduces it (up to the 256 ns resolution of the float
	// times it interpolates over)
	last := rows[len(rows)-1]
	if math.Abs(last.Distance-2950) > 1e-4 || math.Abs(rows[0].Distance) > 1e-4 {
		t.Errorf("Distance %v … %v, want 0 … 2950", rows[0].Distance, last.Distance)
	}
	for i, r := range rows {
		want := 10 * r.SessionTime.Seconds()
		if math.Abs(r.X-want) > 1e-4 || r.Status != "OnTrack" || r.Speed != 180 {
			t.Fatalf("row %d: X %v (want %v), Status %q, Speed %v", i, r.X, want, r.Status, r.Speed)
		}
	}
}

func TestTelemetryNoOtherCar(t *testing.T) {
	in := twoCars()
	in.Drivers = []string{"1"} // car 2's data is ignored
	s := mustNew(t, in)
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Samples {
		if r.DriverAhead != "" || !math.IsNaN(r.DistanceToDriverAhead) {
			t.Fatalf("row %d: ahead %q at %v, want none", i, r.DriverAhead, r.DistanceToDriverAhead)
		}
	}
}

func TestTelemetryStandingCarIsNotAhead(t *testing.T) {
	in := twoCars()
	// car 2 stops at 75 s, 100 m ahead of car 1 (on a lap to 200 s)
	c := carTrace(1000, 200000, 240, 180)
	for i := range c {
		if c[i].SessionTime > 75*time.Second {
			c[i].Speed = 0
		}
	}
	in.Car["2"] = c
	in.Laps = append(laps("1", []int{10000, 70000, 129000, 190000}, 2), laps("2", []int{8000, 68000, 200000})...)
	s := mustNew(t, in)
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Samples {
		if r.Source != "car" {
			continue
		}
		want := ""
		switch st := r.SessionTime; {
		case st >= 71*time.Second && st < 75*time.Second:
			want = "2" // moving, 100 m ahead
		case st > 75*time.Second && st < 77*time.Second:
			want = "" // still ahead, but its distance does not change
		default:
			continue
		}
		if r.DriverAhead != want {
			t.Fatalf("row %d at %v: ahead %q, want %q", i, r.SessionTime, r.DriverAhead, want)
		}
	}
}

func TestTelemetryOtherCarAtMoreInstants(t *testing.T) {
	in := twoCars()
	in.Car["2"] = carTrace(1000, 200000, 120, 180) // every own instant and one between each
	s := mustNew(t, in)
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, res.Lap, res.Samples)
	checkAhead(t, res.Samples, "2", 100)
}

func TestTelemetryLapAtStartOfData(t *testing.T) {
	in := twoCars()
	in.Laps = append(laps("1", []int{500, 60500}, 1), laps("2", []int{300, 60300})...)
	s := mustNew(t, in)
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Samples
	checkRows(t, res.Lap, rows)
	// no sample before the lap to pad with: the row at the lap start
	// (0.5 s) and the car sample at 1.0 s precede every position sample,
	// so FastF1 leaves their coordinates missing; the start row also
	// precedes every Distance value
	r0, r1, r2 := rows[0], rows[1], rows[2]
	if r0.Source != "interpolation" || r1.Source != "car" || r2.Source != "pos" {
		t.Fatalf("first sources %q %q %q", r0.Source, r1.Source, r2.Source)
	}
	for _, f := range []float64{r0.X, r0.Y, r0.Z, r0.Distance, r0.RelativeDistance, r1.X, r1.Y, r1.Z} {
		if !math.IsNaN(f) {
			t.Errorf("start rows: %+v / %+v: want missing coordinates and start distance", r0, r1)
			break
		}
	}
	speed, dt := 180.0, 0.5
	if r1.Distance != speed/3.6*dt || math.IsNaN(r2.X) || math.IsNaN(r2.Distance) {
		t.Errorf("first car sample: Distance %v (want 25), first pos sample X %v Distance %v", r1.Distance, r2.X, r2.Distance)
	}
	if r0.Speed != 180 || r0.NGear != r1.NGear || r0.Status != "OnTrack" {
		t.Errorf("start row: Speed %v, nGear %d (next %d), Status %q: want the first values", r0.Speed, r0.NGear, r1.NGear, r0.Status)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Result{res}); err != nil {
		t.Fatal(err)
	}
	line := strings.Split(buf.String(), "\n")[1]
	if want := "D1,1,2024-06-22 13:00:00.500,0.500,"; !strings.HasPrefix(line, want) || !strings.HasSuffix(line, ",interpolation,,,OnTrack,,,") {
		t.Errorf("first CSV row %q", line)
	}
}

func TestTelemetryEdgeOnASample(t *testing.T) {
	in := twoCars()
	// lap 2 starts exactly at a car sample (1000 + 288·240 ms)
	in.Laps = append(laps("1", []int{10000, 70120, 129000}, 2), laps("2", []int{8000, 68000, 128000, 188000})...)
	s := mustNew(t, in)
	res, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, res.Lap, res.Samples)
	if src := res.Samples[0].Source; src != "car" {
		t.Errorf("first row from %q, want the car sample at the lap start", src)
	}
}

func TestTelemetryErrors(t *testing.T) {
	base := twoCars()
	tests := []struct {
		name   string
		edit   func(in *Input)
		driver string
		want   error
	}{
		{"lap without position data", func(in *Input) {
			in.Pos["1"] = posTrace(1100, 120000, 250) // ends before lap 3 (129–190 s)
			in.Laps = append(laps("1", []int{10000, 70000, 129000, 190000}, 3), in.Laps[3:]...)
		}, "1", ErrNoPositionData},
		{"driver without car data", func(in *Input) { delete(in.Car, "1") }, "1", ErrNoCarData},
		{"driver without any data: position checked first", func(in *Input) {
			delete(in.Car, "1")
			delete(in.Pos, "1")
		}, "1", ErrNoPositionData},
		{"driver not listed", func(in *Input) { in.Drivers = []string{"2"} }, "1", ErrNoPositionData},
		{"no car sample in the lap", func(in *Input) { in.Car["1"] = carTrace(1000, 60000, 240, 180) }, "1", ErrNoCarData},
		{"two car samples around the lap", func(in *Input) {
			in.Car["1"] = []CarSample{carTrace(100000, 100000, 1, 180)[0], carTrace(130000, 130000, 1, 180)[0]}
		}, "1", ErrTooFewSamples},
		{"two position samples for the lap", func(in *Input) {
			in.Pos["1"] = []PosSample{posTrace(69000, 69000, 1)[0], posTrace(100000, 100000, 1)[0]}
		}, "1", ErrTooFewSamples},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			in.Car = map[string][]CarSample{"1": base.Car["1"], "2": base.Car["2"]}
			in.Pos = map[string][]PosSample{"1": base.Pos["1"], "2": base.Pos["2"]}
			in.Laps = append([]Lap(nil), base.Laps...)
			tc.edit(&in)
			s := mustNew(t, in)
			_, err := s.Fastest(tc.driver)
			t.Log(err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, ErrNoTelemetry) && !errors.Is(err, ErrNoTelemetry) {
				t.Errorf("%v does not match ErrNoTelemetry", err)
			}
		})
	}
}

func TestTelemetryUnknownLap(t *testing.T) {
	s := mustNew(t, twoCars())
	_, err := s.Telemetry(Lap{DriverNumber: "1", LapNumber: 9, LapStartTime: dur(ms(10000)), Time: dur(ms(70000))})
	if !errors.Is(err, ErrUnknownLap) {
		t.Errorf("err %v, want ErrUnknownLap", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		edit func(in *Input)
	}{
		{"car samples out of order", func(in *Input) {
			c := append([]CarSample(nil), in.Car["1"]...)
			c[3], c[4] = c[4], c[3]
			in.Car["1"] = c
		}},
		{"duplicate position sample", func(in *Input) {
			p := append([]PosSample(nil), in.Pos["2"]...)
			p[4] = p[3]
			in.Pos["2"] = p
		}},
		{"SessionTime is not Date − T0", func(in *Input) {
			c := append([]CarSample(nil), in.Car["2"]...)
			c[0].SessionTime += time.Millisecond
			in.Car["2"] = c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := twoCars()
			tc.edit(&in)
			if _, err := New(in); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("New: %v, want ErrInvalidInput", err)
			}
		})
	}
	in := twoCars()
	in.Car["9"] = []CarSample{{Date: testT0, SessionTime: time.Hour}} // not listed: ignored
	if _, err := New(in); err != nil {
		t.Errorf("data of an unlisted driver: %v", err)
	}
}

func TestWriteCSV(t *testing.T) {
	nan := math.NaN()
	res := []Result{{
		Lap: Lap{Driver: "HAM", DriverNumber: "44"},
		Samples: []Sample{
			{Date: testT0.Add(time.Second), SessionTime: time.Second, DriverAhead: "", DistanceToDriverAhead: nan,
				Time: 0, RPM: 10903.435176318613, Speed: 314, NGear: 8, Throttle: 100, Brake: true, DRS: 14,
				Source: "interpolation", Distance: 0.17586155909597467, RelativeDistance: 2.920227362693663e-05,
				Status: "OnTrack", X: -3432.1, Y: 4500, Z: nan},
			{Date: testT0.Add(2 * time.Second), SessionTime: 2 * time.Second, DriverAhead: "5",
				DistanceToDriverAhead: 567.5, Time: time.Second, Source: "a,b", Status: "OffTrack"},
		},
	}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(CSVHeader(), ",") + "\n" +
		"HAM,44,2024-06-22 13:00:01,1.000,,,0.000,10903.435176318613,314.0,8,100.0,True,14,interpolation," +
		"0.17586155909597467,2.920227362693663e-05,OnTrack,-3432.1,4500.0,\n" +
		`HAM,44,2024-06-22 13:00:02,2.000,5,567.5,1.000,0.0,0.0,0,0.0,False,0,"a,b",0.0,0.0,OffTrack,0.0,0.0,0.0` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	// one date with milliseconds gives every date three decimals
	res[0].Samples[1].Date = res[0].Samples[1].Date.Add(time.Millisecond)
	buf.Reset()
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "2024-06-22 13:00:01.000,") || !strings.Contains(buf.String(), "2024-06-22 13:00:02.001,") {
		t.Errorf("dates:\n%s", buf.String())
	}
}

func TestTelemetryConcurrent(t *testing.T) {
	s := mustNew(t, twoCars())
	want, err := s.Fastest("1")
	if err != nil {
		t.Fatal(err)
	}
	var wantCSV bytes.Buffer
	if err := WriteCSV(&wantCSV, []Result{want}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			got, err := s.Fastest("1")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, []Result{got}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), wantCSV.Bytes()) {
				t.Error("concurrent merge differs")
			}
		})
	}
}
