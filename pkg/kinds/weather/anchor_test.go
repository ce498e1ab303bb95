package weather

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

const monzaQ = "recorded/livetiming.formula1.com/static/2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying"

// firstStarted returns the offset of the first "Started" SessionStatus line.
func firstStarted(t *testing.T, body []byte) (time.Duration, bool) {
	t.Helper()
	st, err := livetiming.Decode(body, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st.Lines {
		var v struct{ Status string }
		if json.Unmarshal(l.Data, &v) == nil && v.Status == "Started" {
			return l.Offset, true
		}
	}
	return 0, false
}

func TestAnchorMonza2019Q(t *testing.T) {
	dir := filepath.Join(testdata, monzaQ)
	rcm, err := os.ReadFile(filepath.Join(dir, "RaceControlMessages.jsonStream"))
	if err != nil {
		t.Fatal(err)
	}
	t0, ok, err := Anchor(rcm)
	if err != nil || !ok {
		t.Fatalf("Anchor = %v, %v, %v", t0, ok, err)
	}
	if t0.Location() != time.UTC {
		t.Errorf("t0 location = %v, want UTC", t0.Location())
	}
	t.Logf("t0 = %s", t0.Format(time.RFC3339Nano))
	tests := []struct {
		name   string
		offset time.Duration
		want   time.Time
		tol    time.Duration
	}{
		{name: "first message (GREEN LIGHT, Utc 13:00:00)", offset: 14*time.Minute + 59278*time.Millisecond,
			want: time.Date(2019, 9, 7, 13, 0, 0, 0, time.UTC), tol: time.Second},
		{name: "scheduled start", offset: mustStarted(t, dir), want: time.Date(2019, 9, 7, 13, 0, 0, 0, time.UTC), tol: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := t0.Add(tt.offset)
			if d := got.Sub(tt.want); d < -tt.tol || d > tt.tol {
				t.Errorf("offset %v maps to %s, want %s ± %v", tt.offset, got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339), tt.tol)
			}
		})
	}
}

func mustStarted(t *testing.T, dir string) time.Duration {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SessionStatus.jsonStream"))
	if err != nil {
		t.Fatal(err)
	}
	off, ok := firstStarted(t, b)
	if !ok || off != 14*time.Minute+59169*time.Millisecond {
		t.Fatalf("first Started at %v (found %v), want 00:14:59.169", off, ok)
	}
	return off
}

// TestAnchorRecorded anchors every recorded session and compares t0 + the
// first "Started" status with the scheduled start from SessionInfo
// (StartDate is local time, GmtOffset the zone). Non-race sessions start on
// schedule, so they must agree within 2 s; race-like sessions report
// "Started" after the formation lap (or a delay), so only order and a loose
// bound are checked.
func TestAnchorRecorded(t *testing.T) {
	var dirs []string
	err := filepath.Walk(filepath.Join(testdata, "recorded"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "RaceControlMessages.jsonStream" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return err
	})
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no RaceControlMessages recordings (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			rcm, err := os.ReadFile(filepath.Join(dir, "RaceControlMessages.jsonStream"))
			if err != nil {
				t.Fatal(err)
			}
			t0, ok, err := Anchor(rcm)
			if err != nil || !ok {
				t.Fatalf("Anchor = %v, %v, %v", t0, ok, err)
			}
			sched, ok := scheduledStart(t, filepath.Join(dir, "SessionInfo.jsonStream"))
			if !ok {
				t.Skip("no SessionInfo recording")
			}
			ss, err := os.ReadFile(filepath.Join(dir, "SessionStatus.jsonStream"))
			if err != nil {
				t.Skip("no SessionStatus recording")
			}
			started, ok := firstStarted(t, ss)
			if !ok {
				t.Skip("no Started status")
			}
			d := t0.Add(started).Sub(sched)
			raceLike := strings.HasSuffix(dir, "_Race") || strings.HasSuffix(dir, "_Sprint")
			t.Logf("t0 %s, Started - scheduled = %v", t0.Format(time.RFC3339Nano), d)
			switch {
			case !raceLike && (d < -time.Second || d > 2*time.Second):
				t.Errorf("Started maps to %v from the scheduled start, want within [-1s, 2s]", d)
			case raceLike && (d < 0 || d > 45*time.Minute):
				t.Errorf("race Started maps to %v from the scheduled start, want within [0, 45m]", d)
			}
		})
	}
}

// scheduledStart reads StartDate/GmtOffset from a SessionInfo recording.
func scheduledStart(t *testing.T, path string) (time.Time, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	st, err := livetiming.Decode(b, false)
	if err != nil {
		t.Fatal(err)
	}
	var si struct{ StartDate, GmtOffset string }
	if err := json.Unmarshal(st.Lines[0].Data, &si); err != nil {
		t.Fatal(err)
	}
	local, err := parseUTC(si.StartDate)
	if err != nil {
		t.Fatalf("StartDate %q: %v", si.StartDate, err)
	}
	neg := strings.HasPrefix(si.GmtOffset, "-")
	off, err := time.Parse("15:04:05", strings.TrimPrefix(si.GmtOffset, "-"))
	if err != nil {
		t.Fatalf("GmtOffset %q: %v", si.GmtOffset, err)
	}
	zone := off.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
	if neg {
		zone = -zone
	}
	return local.Add(-zone), true
}

func TestAnchorCases(t *testing.T) {
	base := time.Date(2019, 9, 7, 12, 45, 0, 0, time.UTC)
	tests := []struct {
		name    string
		body    string
		want    time.Time
		wantOK  bool
		wantErr string
	}{
		{
			name: "list then index-keyed object, maximum wins",
			body: "00:15:00.500{\"Messages\":[{\"Utc\":\"2019-09-07T13:00:00\"}]}\r\n" +
				"00:20:00.100{\"Messages\":{\"1\":{\"Utc\":\"2019-09-07T13:05:00\"},\"2\":{\"Utc\":\"2019-09-07T13:05:00Z\"}}}\r\n",
			want: base.Add(-100 * time.Millisecond), wantOK: true,
		},
		{
			name: "old replayed message gives a weaker bound",
			body: "00:00:10.000{\"Messages\":[{\"Utc\":\"2019-09-07T11:00:00\"}]}\r\n" +
				"00:15:00.000{\"Messages\":{\"1\":{\"Utc\":\"2019-09-07T13:00:00\"}}}\r\n",
			want: base, wantOK: true,
		},
		{
			name: "fractional utc",
			body: "00:15:00.000{\"Messages\":[{\"Utc\":\"2019-09-07T13:00:00.250\"}]}\r\n",
			want: base.Add(250 * time.Millisecond), wantOK: true,
		},
		{
			name: "unusable messages only",
			body: "00:00:01.000{\"Messages\":[{\"Message\":\"no utc\"},{\"Utc\":\"yesterday\"},{\"Utc\":5}]}\r\n" +
				"00:00:02.000{\"Other\":1}\r\n00:00:03.000{\"Messages\":\"x\"}\r\n00:00:04.000[1]\r\n",
			wantOK: false,
		},
		{name: "empty body", body: "", wantErr: "empty body"},
		{name: "garbage", body: "garbage\r\n", wantErr: "none of 1 lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Anchor([]byte(tt.body))
			if tt.wantErr != "" {
				var fe *livetiming.FormatError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Anchor err = %v, want *livetiming.FormatError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK || ok && !got.Equal(tt.want) {
				t.Errorf("Anchor = %s, %v; want %s, %v", got.Format(time.RFC3339Nano), ok, tt.want.Format(time.RFC3339Nano), tt.wantOK)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	files := recordedWeather(b)
	var biggest []byte
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if len(body) > len(biggest) {
			biggest = body
		}
	}
	b.SetBytes(int64(len(biggest)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(biggest); err != nil {
			b.Fatal(err)
		}
	}
}
