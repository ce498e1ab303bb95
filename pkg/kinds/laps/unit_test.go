package laps

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		in   string
		want dur
	}{
		{"1:23.456", dur(83456 * time.Millisecond)},
		{"23.456", dur(23456 * time.Millisecond)},
		{"1:02:03.4", dur(time.Hour + 2*time.Minute + 3400*time.Millisecond)},
		{"36:54", dur(36*time.Minute + 54*time.Second)},
		{"+1.5", dur(1500 * time.Millisecond)}, // gap strings, Python int() accepts the sign
		{"12.1234567", dur(12*time.Second + 123456*time.Microsecond)},
		{"", nat},
		{"1 L", nat},
		{"LAP 5", nat},
		{"1:2:3:4", nat},
		{"1:2:3:", nat},
		{":5", nat},
		{"5.", dur(5 * time.Second)},
		{"1.2.3", nat},
		{"0.-5", dur(-50000 * time.Microsecond)}, // Python int("-50000")
		{" 1: 2.5", dur(62500 * time.Millisecond)},
	}
	for _, tc := range tests {
		if got := parseClock(tc.in); got != tc.want {
			t.Errorf("parseClock(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestRecordFormat(t *testing.T) {
	d := func(ms int64) *time.Duration { v := time.Duration(ms) * time.Millisecond; return &v }
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	b := func(v bool) *bool { return &v }
	tests := []struct {
		name string
		lap  Lap
		want string
	}{
		{"empty", Lap{LapNumber: 1}, ",,,,1.0,,,,,,,,,,,,,,,,,,,,,,,,False,False"},
		{"full", Lap{Time: d(1107768), Driver: "STR", DriverNumber: "18", LapTime: d(96961), LapNumber: 2, Stint: i(1),
			SpeedI1: f(284), SpeedFL: f(289.5), IsPersonalBest: b(true), Compound: "MEDIUM", TyreLife: f(2),
			FreshTyre: b(true), Team: "Aston Martin", TrackStatus: "12", Position: i(3), Deleted: b(false),
			DeletedReason: "TRACK LIMITS, TURN 4", IsAccurate: true},
			`1107.768,STR,18,96.961,2.0,1.0,,,,,,,,,284.0,,289.5,,True,MEDIUM,2.0,True,Aston Martin,,12,3.0,False,"TRACK LIMITS, TURN 4",False,True`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, []Lap{tc.lap}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if lines[0] != strings.Join(CSVHeader(), ",") || lines[1] != tc.want {
				t.Errorf("got\n%s\nwant\n%s", lines[1], tc.want)
			}
		})
	}
}

func TestDeriveErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"no timing data", Input{Year: 2024, Session: "Race"}},
		{"undecodable timing data", Input{Year: 2024, Session: "Race", TimingData: []byte("garbage\r\n")}},
	}
	for _, tc := range tests {
		if _, err := Derive(tc.in); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestDeriveMinimal covers a session with only TimingData: laps still come
// out, with warnings for the missing feeds.
func TestDeriveMinimal(t *testing.T) {
	body := "\ufeff00:00:01.000{\"Lines\":{\"1\":{\"InPit\":false,\"NumberOfLaps\":0}}}\r\n" +
		"00:01:31.000{\"Lines\":{\"1\":{\"NumberOfLaps\":1,\"LastLapTime\":{\"Value\":\"1:30.000\"}}}}\r\n" +
		"00:03:01.000{\"Lines\":{\"1\":{\"NumberOfLaps\":2,\"LastLapTime\":{\"Value\":\"1:30.000\"},\"Sectors\":{\"0\":{\"Value\":\"30.000\"}}}}}\r\n"
	res, err := Derive(Input{Year: 2024, Session: "Practice 1", TimingData: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 {
		t.Error("no warnings for missing feeds")
	}
	// no driver list and no tyre data: FastF1 builds the driver list from the
	// intersection of timing and tyre drivers, which is empty here
	if len(res.Laps) != 0 {
		t.Errorf("got %d laps, want 0", len(res.Laps))
	}
	laps, _, _, err := TimingStage([]byte(body))
	if err != nil || len(laps) != 2 || *laps[1].LapTime != 90*time.Second {
		t.Fatalf("TimingStage = %v, %v", laps, err)
	}
}
