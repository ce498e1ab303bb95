package weather

import (
	"github.com/paddock-f1/paddock/pkg/pyrepr"

	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

const testdata = "../../../testdata/f1"

var recordedHosts = []string{"livetiming.formula1.com", "livetiming-mirror.fastf1.dev"}

// findRecording returns the recorded feed file of a session's api_path on
// whichever host has it.
func findRecording(t *testing.T, apiPath, feed string) string {
	t.Helper()
	for _, h := range recordedHosts {
		p := filepath.Join(testdata, "recorded", h, filepath.FromSlash(apiPath), feed)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("no recording of %s%s on %v", apiPath, feed, recordedHosts)
	return ""
}

// TestConformance checks Parse+WriteCSV against FastF1's weather.csv for
// every reference session that has one.
func TestConformance(t *testing.T) {
	refs, err := filepath.Glob(filepath.Join(testdata, "reference", "*", "weather.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) == 0 {
		t.Fatal("no reference weather.csv found")
	}
	total := 0
	for _, ref := range refs {
		dir := filepath.Dir(ref)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var info struct {
				APIPath string `json:"api_path"`
				Rows    *int   `json:"weather.csv_rows"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "info.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &info); err != nil || info.APIPath == "" {
				t.Fatalf("info.json: api_path missing (%v)", err)
			}
			body, err := os.ReadFile(findRecording(t, info.APIPath, "WeatherData.jsonStream"))
			if err != nil {
				t.Fatal(err)
			}
			samples, err := Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteCSV(&got, samples); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			n := compareCSV(t, got.Bytes(), want)
			total += n
			if info.Rows != nil && *info.Rows != len(samples) {
				t.Errorf("%d samples, info.json says %d rows", len(samples), *info.Rows)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s byte-wise (%d vs %d bytes)", ref, got.Len(), len(want))
			}
			t.Logf("%d rows, %d cells compared", len(samples), n)
		})
	}
	t.Logf("%d sessions, %d cells compared in total", len(refs), total)
}

// compareCSV reports the first differing cells and returns how many cells
// were compared.
func compareCSV(t *testing.T, got, want []byte) int {
	t.Helper()
	g, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("our CSV does not parse: %v", err)
	}
	w, err := csv.NewReader(bytes.NewReader(want)).ReadAll()
	if err != nil {
		t.Fatalf("reference CSV does not parse: %v", err)
	}
	if len(g) != len(w) {
		t.Errorf("%d CSV lines, reference has %d", len(g), len(w))
	}
	compared, diffs := 0, 0
	for i := 0; i < min(len(g), len(w)); i++ {
		if len(g[i]) != len(w[i]) {
			t.Errorf("line %d: %d cells, reference has %d", i+1, len(g[i]), len(w[i]))
			continue
		}
		for j := range w[i] {
			compared++
			if g[i][j] != w[i][j] {
				if diffs++; diffs <= 10 {
					t.Errorf("line %d column %s: got %q, want %q", i+1, w[0][j], g[i][j], w[i][j])
				}
			}
		}
	}
	if diffs > 10 {
		t.Errorf("... %d differing cells in total", diffs)
	}
	return compared
}

// recordedWeather returns every recorded WeatherData.jsonStream.
func recordedWeather(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(filepath.Join(testdata, "recorded"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() && fi.Name() == "WeatherData.jsonStream" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded WeatherData.jsonStream")
	}
	return files
}

// TestRecorded parses every recorded WeatherData feed: no skipped lines, one
// sample per line with every field present and in range, about one sample a
// minute.
func TestRecorded(t *testing.T) {
	for _, f := range recordedWeather(t) {
		name, _ := filepath.Rel(filepath.Join(testdata, "recorded"), filepath.Dir(f))
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, err := livetiming.Decode(body, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Skipped) > 0 {
				t.Errorf("%d skipped lines, first %v", len(st.Skipped), st.Skipped[0])
			}
			samples, err := Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(samples) != len(st.Lines) || len(samples) < 10 {
				t.Fatalf("%d samples from %d lines", len(samples), len(st.Lines))
			}
			var gaps []time.Duration
			for i, s := range samples {
				if s.AirTemp == nil || s.Humidity == nil || s.Pressure == nil || s.TrackTemp == nil ||
					s.WindSpeed == nil || s.Rainfall == nil || s.WindDirection == nil {
					t.Errorf("sample %d at %v has a missing field: %+v", i, s.Time, s)
				} else if *s.WindDirection < 0 || *s.WindDirection > 359 || *s.Humidity < 0 || *s.Humidity > 100 ||
					*s.Pressure < 700 || *s.Pressure > 1100 || *s.AirTemp < -20 || *s.AirTemp > 60 || *s.WindSpeed < 0 {
					t.Errorf("sample %d at %v out of range: %+v", i, s.Time, s)
				}
				if i > 0 {
					gaps = append(gaps, s.Time-samples[i-1].Time)
				}
			}
			slices.Sort(gaps)
			median := gaps[len(gaps)/2]
			if median < 59*time.Second || median > 61*time.Second || gaps[0] < 50*time.Second || gaps[len(gaps)-1] > 70*time.Second {
				t.Errorf("sample spacing: median %v, min %v, max %v; want about 1 min", median, gaps[0], gaps[len(gaps)-1])
			}
			t.Logf("%d samples, spacing median %v min %v max %v", len(samples), median, gaps[0], gaps[len(gaps)-1])
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseLines(t *testing.T) {
	full := `{"AirTemp":"22.0","Humidity":"51.3","Pressure":"993.2","Rainfall":"0","TrackTemp":"33.3","WindDirection":"238","WindSpeed":"0.6"}`
	tests := []struct {
		name    string
		body    string
		want    []Sample
		wantCSV string // data lines only
	}{
		{
			name: "full line",
			body: "\xEF\xBB\xBF00:00:13.893" + full + "\r\n",
			want: []Sample{{Time: 13893 * time.Millisecond, AirTemp: ptr(22.0), Humidity: ptr(51.3), Pressure: ptr(993.2),
				Rainfall: ptr(false), TrackTemp: ptr(33.3), WindDirection: ptr[int16](238), WindSpeed: ptr(0.6)}},
			wantCSV: "13.893,22.0,51.3,993.2,False,33.3,238,0.6\n",
		},
		{
			name:    "partial line is not filled from the previous one",
			body:    "00:00:01.000" + full + "\r\n00:01:01.000{\"AirTemp\":\"23\",\"Rainfall\":\"1\"}\r\n",
			wantCSV: "1.000,22.0,51.3,993.2,False,33.3,238,0.6\n61.000,23.0,0.0,0.0,True,0.0,0,0.0\n",
		},
		{
			name:    "repeated timestamp gives two rows",
			body:    "00:00:01.000" + full + "\r\n00:00:01.000" + full + "\r\n",
			wantCSV: "1.000,22.0,51.3,993.2,False,33.3,238,0.6\n1.000,22.0,51.3,993.2,False,33.3,238,0.6\n",
		},
		{
			name:    "unparsable values become FastF1 zero values",
			body:    `00:00:01.000{"AirTemp":"","Humidity":"n/a","Pressure":null,"Rainfall":"yes","TrackTemp":{},"WindDirection":"238.0","WindSpeed":"0x1p3"}` + "\r\n",
			want:    []Sample{{Time: time.Second}},
			wantCSV: "1.000,0.0,0.0,0.0,False,0.0,0,0.0\n",
		},
		{
			name:    "python float and int syntax",
			body:    `00:00:01.000{"AirTemp":" 22 ","Humidity":"1_000.5","Pressure":"1e3","Rainfall":"1","TrackTemp":"-0","WindDirection":" +3_5 ","WindSpeed":".5"}` + "\r\n",
			wantCSV: "1.000,22.0,1000.5,1000.0,True,-0.0,35,0.5\n",
		},
		{
			name:    "json numbers and booleans",
			body:    `00:00:01.000{"AirTemp":22,"Humidity":true,"Pressure":1e400,"Rainfall":1,"TrackTemp":0.0001,"WindDirection":238.9,"WindSpeed":0.00001}` + "\r\n",
			wantCSV: "1.000,22.0,1.0,inf,False,0.0001,238,1e-05\n",
		},
		{
			name:    "nan is an empty cell, out-of-range direction is zero",
			body:    `00:00:01.000{"AirTemp":"nan","Humidity":"-inf","Pressure":"1e16","Rainfall":"0","TrackTemp":"9999999999999998","WindDirection":"40000","WindSpeed":"1__0"}` + "\r\n",
			wantCSV: "1.000,,-inf,1e+16,False,9999999999999998.0,0,0.0\n",
		},
		{
			name:    "field names are case sensitive",
			body:    `00:00:01.000{"airtemp":"22.0"}` + "\r\n",
			want:    []Sample{{Time: time.Second}},
			wantCSV: "1.000,0.0,0.0,0.0,False,0.0,0,0.0\n",
		},
		{
			name:    "non-object lines are dropped",
			body:    "00:00:01.000[1]\r\n00:00:02.000\"x\"\r\n00:00:04.000{}\r\n",
			want:    []Sample{{Time: 4 * time.Second}},
			wantCSV: "4.000,0.0,0.0,0.0,False,0.0,0,0.0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.want != nil && !samplesEqual(got, tt.want) {
				t.Errorf("Parse = %s, want %s", fmtSamples(got), fmtSamples(tt.want))
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, got); err != nil {
				t.Fatal(err)
			}
			if want := CSVHeader + "\n" + tt.wantCSV; buf.String() != want {
				t.Errorf("WriteCSV =\n%s\nwant\n%s", buf.String(), want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "empty body", body: "", want: "empty body"},
		{name: "bom only", body: "\xEF\xBB\xBF", want: "empty body"},
		{name: "html error page", body: "<html><body>403 Forbidden</body></html>", want: "none of 1 lines"},
		{name: "truncated single line", body: `00:00:01.000{"AirTemp":"22`, want: "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			var fe *livetiming.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Fatalf("Parse = %v, %v; want nil and a *livetiming.FormatError containing %q", got, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "weather: ") {
				t.Errorf("error lacks context: %v", err)
			}
		})
	}
}

// TestTruncatedRecording cuts a real recording in the middle of its last
// line: the complete lines still parse and the broken one is reported.
func TestTruncatedRecording(t *testing.T) {
	body, err := os.ReadFile(recordedWeather(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	full, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	cut := body[:len(body)-40]
	st, err := livetiming.Decode(cut, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 1 || st.Skipped[0].Line != len(full) || !strings.Contains(st.Skipped[0].Reason, "truncated") {
		t.Errorf("Skipped = %v, want the last line %d as truncated", st.Skipped, len(full))
	}
	got := FromStream(st)
	if len(got) != len(full)-1 || !samplesEqual(got, full[:len(full)-1]) {
		t.Errorf("%d samples from truncated body, want the first %d", len(got), len(full)-1)
	}
}

func TestWithUTC(t *testing.T) {
	t0 := time.Date(2019, 9, 7, 12, 45, 1, 249_000_000, time.FixedZone("CEST", 2*3600))
	s := []Sample{{Time: 0}, {Time: 13893 * time.Millisecond}, {Time: time.Hour + 1500*time.Microsecond}}
	WithUTC(s, t0)
	want := []string{"2019-09-07T10:45:01.249Z", "2019-09-07T10:45:15.142Z", "2019-09-07T11:45:01.251Z"}
	for i := range s {
		if s[i].UTC == nil || s[i].UTC.Format(time.RFC3339Nano) != want[i] {
			t.Errorf("sample %d UTC = %v, want %s", i, s[i].UTC, want[i])
		}
	}
}

func TestWriteCSVError(t *testing.T) {
	err := WriteCSV(failWriter{}, []Sample{{}})
	if err == nil || !strings.Contains(err.Error(), "weather: write CSV") {
		t.Errorf("WriteCSV error = %v, want wrapped writer error", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPyRepr(t *testing.T) {
	pointOne := 0.1 // a variable, so that 0.1+0.2 is not folded exactly
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{name: "whole", in: 22, want: "22.0"},
		{name: "one decimal", in: 993.2, want: "993.2"},
		{name: "small", in: 0.6, want: "0.6"},
		{name: "negative zero", in: math.Copysign(0, -1), want: "-0.0"},
		{name: "shortest round trip", in: pointOne + 0.2, want: "0.30000000000000004"},
		{name: "1e-4 fixed", in: 1e-4, want: "0.0001"},
		{name: "below 1e-4 exponent", in: 1.5e-5, want: "1.5e-05"},
		{name: "just below 1e16 fixed", in: 1e15, want: "1000000000000000.0"},
		{name: "1e16 exponent", in: 1e16, want: "1e+16"},
		{name: "large", in: 1.25e100, want: "1.25e+100"},
		{name: "nan", in: math.NaN(), want: ""},
		{name: "inf", in: math.Inf(1), want: "inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pyrepr.CSV(tt.in); got != tt.want {
				t.Errorf("pyrepr.CSV(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func samplesEqual(a, b []Sample) bool {
	return fmtSamples(a) == fmtSamples(b)
}

func fmtSamples(s []Sample) string {
	var sb strings.Builder
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return pyrepr.CSV(*p)
	}
	for _, x := range s {
		rain, wd := "nil", "nil"
		if x.Rainfall != nil {
			rain = map[bool]string{true: "T", false: "F"}[*x.Rainfall]
		}
		if x.WindDirection != nil {
			wd = strconv.Itoa(int(*x.WindDirection))
		}
		sb.WriteString("{" + x.Time.String() + " " + f(x.AirTemp) + " " + f(x.Humidity) + " " + f(x.Pressure) + " " +
			rain + " " + f(x.TrackTemp) + " " + wd + " " + f(x.WindSpeed) + "}")
	}
	return sb.String()
}
