package cardata_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds/cardata"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// entry is one CarData entry with the given cars' channels.
func entry(utc string, cars ...string) string {
	return fmt.Sprintf(`{"Utc":%q,"Cars":{%s}}`, utc, strings.Join(cars, ","))
}

// carCh is one car's channels: RPM, Speed, nGear, Throttle, Brake, DRS.
func carCh(num string, rpm, speed, gear, throttle, brake, drs int) string {
	return fmt.Sprintf(`%q:{"Channels":{"0":%d,"2":%d,"3":%d,"4":%d,"5":%d,"45":%d}}`, num, rpm, speed, gear, throttle, brake, drs)
}

func doc(entries ...string) string { return `{"Entries":[` + strings.Join(entries, ",") + `]}` }

func decodeAll(t testing.TB, body []byte, drivers ...string) ([]cardata.Sample, cardata.Summary, error) {
	t.Helper()
	var rows []cardata.Sample
	sum, err := cardata.Decode(bytes.NewReader(body), drivers, func(b []cardata.Sample) error {
		if len(b) == 0 || len(b) > cardata.BatchSize {
			t.Errorf("batch of %d rows", len(b))
		}
		rows = append(rows, b...)
		return nil
	})
	return rows, sum, err
}

// TestDecodeMalformed: a malformed line stops Decode with a
// *livetiming.FormatError naming the line and the reason.
func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	ok := doc(entry("2024-06-22T13:00:00.1Z", carCh("1", 10000, 200, 6, 100, 0, 0)))
	good := string(kindtest.ZStream(t, ok))
	good = strings.TrimPrefix(good, "\ufeff")
	tests := []struct {
		name   string
		body   string
		line   int
		reason string
	}{
		{name: "truncated line", body: good + good[:len(good)/2], line: 2, reason: "truncated"},
		{name: "bad base64", body: good + "00:00:02.000\"@@@@\"\r\n", line: 2, reason: "bad base64"},
		{name: "bad deflate", body: good + good + "00:00:03.000\"" + base64.StdEncoding.EncodeToString([]byte("plain text")) + "\"\r\n", line: 3, reason: "bad DEFLATE"},
		{name: "not JSON", body: string(kindtest.ZStream(t, ok, `{"Entries":[}`)), line: 2, reason: "not valid JSON"},
		{name: "no Entries", body: string(kindtest.ZStream(t, `{"Position":[]}`)), line: 1, reason: `no "Entries"`},
		{name: "Entries not a list", body: string(kindtest.ZStream(t, ok, `{"Entries":{"a":1}}`)), line: 2, reason: `"Entries" is an object, want a list`},
		{name: "entry not an object", body: string(kindtest.ZStream(t, `{"Entries":[1]}`)), line: 1, reason: "entry is a number"},
		{name: "entry without Utc", body: string(kindtest.ZStream(t, `{"Entries":[{"Cars":{}}]}`)), line: 1, reason: `without "Utc"`},
		{name: "entry without Cars", body: string(kindtest.ZStream(t, `{"Entries":[{"Utc":"2024-06-22T13:00:00Z"}]}`)), line: 1, reason: `without "Cars"`},
		{name: "bad Utc", body: string(kindtest.ZStream(t, doc(entry("2024-06-22 13:00:00", carCh("1", 1, 1, 1, 1, 1, 1))))), line: 1, reason: "not a timestamp"},
		{name: "impossible date", body: string(kindtest.ZStream(t, doc(entry("2024-02-30T13:00:00Z")))), line: 1, reason: "not a timestamp"},
		{name: "car not an object", body: string(kindtest.ZStream(t, `{"Entries":[{"Utc":"2024-06-22T13:00:00Z","Cars":{"1":[]}}]}`)), line: 1, reason: "car 1: the car is a list"},
		{name: "channels not an object", body: string(kindtest.ZStream(t, `{"Entries":[{"Utc":"2024-06-22T13:00:00Z","Cars":{"1":{"Channels":null}}}]}`)), line: 1, reason: `car 1: "Channels" is null`},
		{name: "channel a string", body: string(kindtest.ZStream(t, `{"Entries":[{"Utc":"2024-06-22T13:00:00Z","Cars":{"1":{"Channels":{"0":"9000"}}}}]}`)), line: 1, reason: "RPM (channel 0) is a string"},
		{name: "channel out of range", body: string(kindtest.ZStream(t, doc(entry("2024-06-22T13:00:00Z", carCh("1", 1, 40000, 1, 1, 1, 1))))), line: 1, reason: "Speed (channel 2) 40000 is out of range"},
		{name: "car twice in an entry", body: string(kindtest.ZStream(t, doc(entry("2024-06-22T13:00:00Z", carCh("1", 1, 1, 1, 1, 1, 1), carCh("1", 1, 1, 1, 1, 1, 1))))), line: 1, reason: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeAll(t, []byte(tt.body), "1")
			var fe *livetiming.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *livetiming.FormatError", err)
			}
			if fe.Line != tt.line || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("line %d %q, want line %d with %q", fe.Line, fe.Reason, tt.line, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "cardata: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestDecodeRows: values, dropped cars, missing channels, fills, warnings,
// the clock, and FastF1's row order.
func TestDecodeRows(t *testing.T) {
	t.Parallel()
	body := kindtest.ZStream(t,
		// car 0 is no driver; car 7 lacks channel 5 in the first entry.
		"00:00:01.000|"+doc(
			entry("2024-06-22T13:00:00.0004999Z", carCh("0", 0, 0, 0, 0, 0, 0), carCh("44", 11000, 250, 7, 100, 0, 12),
				`"7":{"Channels":{"0":1,"2":2,"3":3,"4":4}}`),
			entry("2024-06-22T13:00:00.2405Z", carCh("0", 0, 0, 0, 0, 0, 0), carCh("44", 11001, 251, 7, 99, 100, 12), carCh("7", 5, 6, 1, 2, 100, 0)),
		),
		// Cars before Utc; DRS missing (0); a float, booleans; car 0 absent.
		"00:00:01.500|"+`{"Entries":[{"Cars":{"44":{"Channels":{"0":10500.9,"2":-3.7,"3":true,"4":false,"5":50}},"7":{"Channels":{"0":5,"2":6,"3":1,"4":2,"5":0,"45":8}}},"Utc":"2024-06-22T13:00:00.4815Z"}]}`,
		// car 7 missing; an ignored key.
		"00:00:02.000|"+`{"Other":1,"Entries":[`+entry("2024-06-22T13:00:01Z", carCh("44", 1, 2, 3, 4, 0, 1), carCh("0", 0, 0, 0, 0, 0, 0))+`]}`,
	)
	rows, sum, err := decodeAll(t, body, "44", "7", "16")
	if err != nil {
		t.Fatal(err)
	}
	// Cars in order of appearance: 0 (3 samples), 44 (4), 7 (2). 44 is the
	// most complete: 0 and 7 are incomplete.
	wantWarn := []string{
		"Driver  0: Car data is incomplete!",
		"Driver 44: Raw brake data contains non-boolean values!",
		"Driver  7: Car data is incomplete!",
	}
	if fmt.Sprint(sum.Warnings) != fmt.Sprint(wantWarn) {
		t.Errorf("warnings %q, want %q", sum.Warnings, wantWarn)
	}
	wantDrivers := []cardata.DriverRows{
		{Number: "44", Rows: 4},
		{Number: "7", Rows: 4, Filled: 2, Incomplete: true},
		{Number: "16"},
	}
	if fmt.Sprint(sum.Drivers) != fmt.Sprint(wantDrivers) {
		t.Errorf("drivers %+v, want %+v", sum.Drivers, wantDrivers)
	}
	if want := []cardata.DriverRows{{Number: "0", Rows: 3, Incomplete: true}}; fmt.Sprint(sum.Dropped) != fmt.Sprint(want) {
		t.Errorf("dropped %+v, want %+v", sum.Dropped, want)
	}
	if sum.Lines != 3 || sum.Samples != 9 || sum.Rows != 8 || len(rows) != 8 {
		t.Errorf("lines %d samples %d rows %d (%d emitted), want 3, 9, 8", sum.Lines, sum.Samples, sum.Rows, len(rows))
	}
	// Clock: max of Utc (µs, cut) - offset: 13:00:00.2405 - 1 s.
	if want := time.Date(2024, 6, 22, 12, 59, 59, 240500_000, time.UTC); !sum.Clock.Equal(want) {
		t.Errorf("clock %v, want %v", sum.Clock, want)
	}
	cardata.Sort(rows, sum.Drivers)
	t0, _ := cardata.T0(sum.Clock)
	var b bytes.Buffer
	if err := cardata.WriteCSV(&b, rows, map[string]string{"44": "HAM", "7": "RAI"}, t0); err != nil {
		t.Fatal(err)
	}
	want := cardata.CSVHeader + `
HAM,44,2024-06-22 13:00:00.000,11000.0,250.0,7,100.0,False,12,car,0.760,0.760
HAM,44,2024-06-22 13:00:00.240,11001.0,251.0,7,99.0,True,12,car,1.000,1.000
HAM,44,2024-06-22 13:00:00.482,10500.0,-3.0,1,0.0,True,0,car,1.242,1.242
HAM,44,2024-06-22 13:00:01.000,1.0,2.0,3,4.0,False,1,car,1.760,1.760
RAI,7,2024-06-22 13:00:00.000,0.0,0.0,0,0.0,False,0,nan,0.760,0.760
RAI,7,2024-06-22 13:00:00.240,5.0,6.0,1,2.0,True,0,car,1.000,1.000
RAI,7,2024-06-22 13:00:00.482,5.0,6.0,1,2.0,False,8,car,1.242,1.242
RAI,7,2024-06-22 13:00:01.000,0.0,0.0,0,0.0,False,0,nan,1.760,1.760
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestDecodeDropsUnknownCars: a car number not in the driver list is parsed
// (it counts for the clock, the most complete car and the warnings) but has
// no rows.
func TestDecodeDropsUnknownCars(t *testing.T) {
	t.Parallel()
	body := kindtest.ZStream(t,
		doc(entry("2024-06-22T13:00:05Z", carCh("99", 1, 1, 1, 1, 0, 0), carCh("1", 1, 1, 1, 1, 0, 0))),
		"00:00:01.500|"+doc(entry("2024-06-22T13:00:06Z", carCh("99", 1, 1, 1, 1, 0, 0))),
	)
	rows, sum, err := decodeAll(t, body, "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Driver != "1" {
			t.Errorf("row of car %s emitted", r.Driver)
		}
	}
	if len(rows) != 2 || rows[1].Source != cardata.SourceFill {
		t.Errorf("rows %+v: want car 1's sample and one filled row (car 99 is the most complete)", rows)
	}
	if len(sum.Dropped) != 1 || sum.Dropped[0].Number != "99" || sum.Dropped[0].Rows != 2 {
		t.Errorf("dropped %+v", sum.Dropped)
	}
	// The clock comes from car 99's later line: 13:00:06 - 1.5 s.
	if want := time.Date(2024, 6, 22, 13, 0, 4, 500_000_000, time.UTC); !sum.Clock.Equal(want) {
		t.Errorf("clock %v, want %v", sum.Clock, want)
	}
}

// TestDecodeEmpty: an empty stream has no rows, no clock and no error.
func TestDecodeEmpty(t *testing.T) {
	t.Parallel()
	rows, sum, err := decodeAll(t, []byte("\ufeff"), "1")
	if err != nil || len(rows) != 0 || !sum.Clock.IsZero() || len(sum.Drivers) != 1 || sum.Drivers[0].Rows != 0 {
		t.Errorf("rows %v summary %+v err %v", rows, sum, err)
	}
	if _, ok := cardata.T0(sum.Clock); ok {
		t.Error("T0 of no clock is ok")
	}
}

// TestDecodeEmitError: an error from emit stops Decode and is returned
// wrapped.
func TestDecodeEmitError(t *testing.T) {
	t.Parallel()
	var docs []string
	for i := range 3000 {
		utc := time.Date(2024, 6, 22, 13, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		docs = append(docs, doc(entry(utc, carCh("1", 1, 1, 1, 1, 0, 0), carCh("2", 1, 1, 1, 1, 0, 0))))
	}
	stop := errors.New("disk full")
	calls := 0
	_, err := cardata.Decode(bytes.NewReader(kindtest.ZStream(t, docs...)), []string{"1", "2"}, func([]cardata.Sample) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want %v after 1", err, calls, stop)
	}
	var fe *livetiming.FormatError
	if errors.As(err, &fe) {
		t.Errorf("an emit error is reported as a format error: %v", err)
	}
}

// TestT0: the maximum clock rounded to the millisecond, halves to even.
func TestT0(t *testing.T) {
	t.Parallel()
	at := func(us int) time.Time { return time.Date(2024, 6, 22, 13, 0, 0, us*1000, time.UTC) }
	tests := []struct {
		name   string
		clocks []time.Time
		want   time.Time
	}{
		{name: "half to even, down", clocks: []time.Time{at(124500)}, want: at(124000)},
		{name: "half to even, up", clocks: []time.Time{at(123500)}, want: at(124000)},
		{name: "above half", clocks: []time.Time{at(123501)}, want: at(124000)},
		{name: "below half", clocks: []time.Time{at(123499)}, want: at(123000)},
		{name: "max of the feeds, zero ignored", clocks: []time.Time{at(100000), {}, at(185447)}, want: at(185000)},
	}
	for _, tt := range tests {
		got, ok := cardata.T0(tt.clocks...)
		if !ok || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: T0 = %v %v, want %v", tt.name, got, ok, tt.want)
		}
	}
}

// TestDateRounding: Utc is cut to microseconds, then rounded to the
// millisecond, halves to even.
func TestDateRounding(t *testing.T) {
	t.Parallel()
	utcs := map[string]string{
		"2024-06-22T13:00:00.0125009Z": "13:00:00.012", // cut to .012500: half, to even
		"2024-06-22T13:00:00.0135Z":    "13:00:00.014", // half, to even
		"2024-06-22T13:00:00.0135001Z": "13:00:00.014",
		"2024-06-22T13:00:00.1Z":       "13:00:00.100",
		"2024-06-22T13:00:00Z":         "13:00:00.000",
		"2024-06-22T23:59:59.9996Z":    "00:00:00.000",
	}
	for utc, want := range utcs {
		rows, _, err := decodeAll(t, kindtest.ZStream(t, doc(entry(utc, carCh("1", 1, 1, 1, 1, 0, 0)))), "1")
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[0].Date.Format("15:04:05.000"); got != want {
			t.Errorf("%s: Date %s, want %s", utc, got, want)
		}
	}
}

// raceReader generates a CarData.z body on the fly, a line at a time: cars
// cars sampled every 240 ms for the given duration, lines every second.
// Neither the body nor its samples are ever held whole.
type raceReader struct {
	t        testing.TB
	cars     int
	lines    int
	line     int
	buf      bytes.Buffer
	z        bytes.Buffer
	w        *flate.Writer
	rng      *rand.Rand
	doc      []byte
	nSamples int
}

func newRaceReader(t testing.TB, cars int, d time.Duration) *raceReader {
	w, err := flate.NewWriter(nil, flate.HuffmanOnly)
	if err != nil {
		t.Fatal(err)
	}
	r := &raceReader{t: t, cars: cars, lines: int(d / time.Second), w: w, rng: rand.New(rand.NewPCG(7, 7))}
	r.buf.WriteString("\ufeff")
	return r
}

func (r *raceReader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 {
		if r.line == r.lines {
			return 0, io.EOF
		}
		start := time.Date(2024, 6, 23, 13, 0, 0, 0, time.UTC)
		doc := append(r.doc[:0], `{"Entries":[`...)
		for e := range 4 {
			if e > 0 {
				doc = append(doc, ',')
			}
			utc := start.Add(time.Duration(r.line)*time.Second + time.Duration(e)*240*time.Millisecond + time.Duration(r.rng.IntN(1000))*time.Microsecond)
			doc = append(doc, `{"Utc":"`...)
			doc = utc.AppendFormat(doc, "2006-01-02T15:04:05.0000000Z")
			doc = append(doc, `","Cars":{`...)
			for c := range r.cars {
				if c > 0 {
					doc = append(doc, ',')
				}
				doc = fmt.Appendf(doc, `"%d":{"Channels":{"0":%d,"2":%d,"3":%d,"4":%d,"5":%d,"45":%d}}`,
					c+1, 9000+r.rng.IntN(3000), r.rng.IntN(330), r.rng.IntN(9), r.rng.IntN(101), 100*r.rng.IntN(2), 2*r.rng.IntN(7))
				r.nSamples++
			}
			doc = append(doc, "}}"...)
		}
		doc = append(doc, "]}"...)
		r.doc = doc
		r.z.Reset()
		r.w.Reset(&r.z)
		r.w.Write(doc)
		r.w.Close()
		off := livetiming.FormatOffset(time.Duration(r.line)*time.Second + 1500*time.Millisecond)
		fmt.Fprintf(&r.buf, "%s\"%s\"\r\n", off, base64.StdEncoding.EncodeToString(r.z.Bytes()))
		r.line++
	}
	return r.buf.Read(p)
}

// TestDecodeMemoryBounded: a two-hour, 20-car stream (576,000 samples,
// about 40 MB of JSON), generated on the fly, decodes with the heap in use
// staying a few MB: the samples are handed on, not accumulated.
func TestDecodeMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and decodes a two-hour race")
	}
	drivers := make([]string, 20)
	for i := range drivers {
		drivers[i] = fmt.Sprint(i + 1)
	}
	rr := newRaceReader(t, 20, 2*time.Hour)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	batches := 0
	sum, err := cardata.Decode(rr, drivers, func(b []cardata.Sample) error {
		if len(b) > cardata.BatchSize {
			t.Errorf("batch of %d rows", len(b))
		}
		if batches++; batches%8 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != rr.nSamples || sum.Rows != 576000 {
		t.Fatalf("%d rows of %d samples", sum.Rows, rr.nSamples)
	}
	grew := float64(peak-base) / (1 << 20)
	held := float64(sum.Rows) * float64(unsafe.Sizeof(cardata.Sample{})) / (1 << 20)
	t.Logf("%d samples in %d batches; heap in use grew by at most %.1f MiB (the samples alone would be %.1f MiB)", sum.Rows, batches, grew, held)
	if grew > 24 {
		t.Errorf("heap in use grew by %.1f MiB: the stream is not decoded in bounded memory", grew)
	}
}
