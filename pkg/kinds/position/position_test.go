package position_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds/cardata"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

func doc(samples ...string) string { return `{"Position":[` + strings.Join(samples, ",") + `]}` }

// sample is one Position sample with the given cars' entries.
func sample(ts string, cars ...string) string {
	return fmt.Sprintf(`{"Timestamp":%q,"Entries":{%s}}`, ts, strings.Join(cars, ","))
}

func pos(num, status string, x, y, z int) string {
	return fmt.Sprintf(`%q:{"Status":%q,"X":%d,"Y":%d,"Z":%d}`, num, status, x, y, z)
}

func decodeAll(t testing.TB, body []byte, drivers ...string) ([]position.Sample, position.Summary, error) {
	t.Helper()
	var rows []position.Sample
	sum, err := position.Decode(bytes.NewReader(body), drivers, func(b []position.Sample) error {
		if len(b) == 0 || len(b) > position.BatchSize {
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
	ok := doc(sample("2024-06-22T13:00:00.1Z", pos("1", "OnTrack", 1, 2, 3)))
	good := strings.TrimPrefix(string(kindtest.ZStream(t, ok)), "\ufeff")
	tests := []struct {
		name   string
		body   string
		line   int
		reason string
	}{
		{name: "truncated line", body: good + good + good[:len(good)-5], line: 3, reason: "truncated"},
		{name: "bad base64", body: good + "00:00:02.000\"QQ=Q\"\r\n", line: 2, reason: "bad base64"},
		{name: "bad deflate", body: "00:00:03.000\"" + base64.StdEncoding.EncodeToString([]byte{0x07, 0x01, 0x02}) + "\"\r\n", line: 1, reason: "bad DEFLATE"},
		{name: "not JSON", body: string(kindtest.ZStream(t, ok, ok, `{"Position":[{"Timestamp":"2024-06-22T13:00:00Z","Entries":{"1":{"X":1,}}}]}`)), line: 3, reason: "not valid JSON"},
		{name: "data after the document", body: string(kindtest.ZStream(t, ok+"{}")), line: 1, reason: "not valid JSON: data after the document"},
		{name: "no Position", body: string(kindtest.ZStream(t, `{"Entries":[]}`)), line: 1, reason: `no "Position"`},
		{name: "Entries not an object", body: string(kindtest.ZStream(t, `{"Position":[{"Timestamp":"2024-06-22T13:00:00Z","Entries":[]}]}`)), line: 1, reason: `"Entries" is a list, want an object`},
		{name: "bad Timestamp", body: string(kindtest.ZStream(t, `{"Position":[{"Timestamp":17,"Entries":{}}]}`)), line: 1, reason: `"Timestamp" is a number, want a string`},
		{name: "coordinate null", body: string(kindtest.ZStream(t, `{"Position":[{"Timestamp":"2024-06-22T13:00:00Z","Entries":{"1":{"X":null,"Y":1,"Z":1}}}]}`)), line: 1, reason: "car 1: X is null, want a number"},
		{name: "Status an object", body: string(kindtest.ZStream(t, `{"Position":[{"Timestamp":"2024-06-22T13:00:00Z","Entries":{"1":{"Status":{},"X":1,"Y":1,"Z":1}}}]}`)), line: 1, reason: `"Status" is an object, want a string`},
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
			if !strings.HasPrefix(err.Error(), "position: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestDecodeRows: statuses, dropped cars, missing coordinates, fills,
// warnings, the clock, batches and FastF1's row order.
func TestDecodeRows(t *testing.T) {
	t.Parallel()
	body := kindtest.ZStream(t,
		"00:00:01.000|"+doc(
			// car 0 is no driver; car 5 lacks Z here (no sample).
			sample("2024-06-22T13:00:00.0005Z", pos("0", "OnTrack", 0, 0, 0), pos("44", "OnTrack", -3500, 4593, 217), `"5":{"Status":"OnTrack","X":1,"Y":2}`),
			// old numeric statuses; a float coordinate; no Status.
			sample("2024-06-22T13:00:00.2205Z", pos("0", "OnTrack", 0, 0, 0), `"44":{"Status":"1","X":-3499.9,"Y":4590,"Z":true}`, `"5":{"X":7,"Y":8,"Z":9}`),
		),
		// Entries before Timestamp; statuses 0, -1, 2.5; car 5 missing.
		"00:00:01.900|"+`{"Position":[{"Entries":{"44":{"Status":0,"X":1,"Y":2,"Z":3},"0":{"Status":-1,"X":0,"Y":0,"Z":0}},"Timestamp":"2024-06-22T13:00:00.5Z"}]}`,
		"00:00:02.000|"+doc(sample("2024-06-22T13:00:01Z", `"44":{"Status":2.5,"X":1,"Y":2,"Z":3}`, pos("5", "OffTrack", 4, 5, 6))),
	)
	rows, sum, err := decodeAll(t, body, "44", "5", "16")
	if err != nil {
		t.Fatal(err)
	}
	// Appearance order 0 (3 samples), 44 (4), 5 (2): 0 and 5 incomplete.
	wantWarn := []string{"Driver  0: Position data is incomplete!", "Driver  5: Position data is incomplete!"}
	if fmt.Sprint(sum.Warnings) != fmt.Sprint(wantWarn) {
		t.Errorf("warnings %q, want %q", sum.Warnings, wantWarn)
	}
	wantDrivers := []position.DriverRows{{Number: "44", Rows: 4}, {Number: "5", Rows: 4, Filled: 2, Incomplete: true}, {Number: "16"}}
	if fmt.Sprint(sum.Drivers) != fmt.Sprint(wantDrivers) {
		t.Errorf("drivers %+v, want %+v", sum.Drivers, wantDrivers)
	}
	if want := []position.DriverRows{{Number: "0", Rows: 3, Incomplete: true}}; fmt.Sprint(sum.Dropped) != fmt.Sprint(want) {
		t.Errorf("dropped %+v, want %+v", sum.Dropped, want)
	}
	// Clock: 13:00:00.2205 - 1 s is the largest Date - offset.
	if want := time.Date(2024, 6, 22, 12, 59, 59, 220500_000, time.UTC); !sum.Clock.Equal(want) {
		t.Errorf("clock %v, want %v", sum.Clock, want)
	}
	position.Sort(rows, sum.Drivers)
	t0, _ := cardata.T0(sum.Clock)
	var b bytes.Buffer
	if err := position.WriteCSV(&b, rows, map[string]string{"44": "HAM", "5": "VET"}, t0); err != nil {
		t.Fatal(err)
	}
	want := position.CSVHeader + `
HAM,44,2024-06-22 13:00:00.000,OnTrack,-3500.0,4593.0,217.0,pos,0.780,0.780
HAM,44,2024-06-22 13:00:00.220,OffTrack,-3499.0,4590.0,1.0,pos,1.000,1.000
HAM,44,2024-06-22 13:00:00.500,OnTrack,1.0,2.0,3.0,pos,1.280,1.280
HAM,44,2024-06-22 13:00:01.000,2.5,1.0,2.0,3.0,pos,1.780,1.780
VET,5,2024-06-22 13:00:00.000,OffTrack,0.0,0.0,0.0,nan,0.780,0.780
VET,5,2024-06-22 13:00:00.220,None,7.0,8.0,9.0,pos,1.000,1.000
VET,5,2024-06-22 13:00:00.500,OffTrack,0.0,0.0,0.0,nan,1.280,1.280
VET,5,2024-06-22 13:00:01.000,OffTrack,4.0,5.0,6.0,pos,1.780,1.780
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestStatus: how FastF1 turns a Status value into text.
func TestStatus(t *testing.T) {
	t.Parallel()
	tests := map[string]position.Status{
		`"OnTrack"`: position.StatusOnTrack, `"OffTrack"`: position.StatusOffTrack, `"Pit, lane"`: "Pit, lane",
		`"0"`: "OnTrack", `"007"`: "OffTrack", `0`: "OnTrack", `-0`: "OnTrack", `3`: "OffTrack", `-1`: "-1",
		`1.0`: "1.0", `1e2`: "100.0", `true`: "True", `null`: "None", `"\u004fnTrack"`: "OnTrack",
	}
	for in, want := range tests {
		body := kindtest.ZStream(t, `{"Position":[{"Timestamp":"2024-06-22T13:00:00Z","Entries":{"1":{"Status":`+in+`,"X":1,"Y":2,"Z":3}}}]}`)
		rows, _, err := decodeAll(t, body, "1")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if rows[0].Status != want {
			t.Errorf("Status %s: %q, want %q", in, rows[0].Status, want)
		}
	}
	var b []byte
	b = position.AppendCSV(b, &position.Sample{Date: time.Date(2024, 6, 22, 13, 0, 0, 0, time.UTC), Driver: "1", Status: "Pit, lane"}, "VER",
		time.Date(2024, 6, 22, 13, 0, 0, 500e6, time.UTC))
	if want := "VER,1,2024-06-22 13:00:00.000,\"Pit, lane\",0.0,0.0,0.0,pos,-0.500,-0.500\n"; string(b) != want {
		t.Errorf("AppendCSV %q, want %q", b, want)
	}
}

// TestDecodeBatches: rows come in batches of at most BatchSize, dropped cars
// never among them, and all of them arrive.
func TestDecodeBatches(t *testing.T) {
	t.Parallel()
	var docs []string
	start := time.Date(2024, 6, 22, 13, 0, 0, 0, time.UTC)
	for i := range 1200 {
		var ss []string
		for e := range 4 {
			ts := start.Add(time.Duration(i)*time.Second + time.Duration(e)*250*time.Millisecond).Format("2006-01-02T15:04:05.0000000Z")
			ss = append(ss, sample(ts, pos("1", "OnTrack", i, e, 0), pos("2", "OnTrack", i, e, 0), pos("99", "OnTrack", 0, 0, 0)))
		}
		docs = append(docs, doc(ss...))
	}
	var got, batches int
	sum, err := position.Decode(bytes.NewReader(kindtest.ZStream(t, docs...)), []string{"1", "2"}, func(b []position.Sample) error {
		batches++
		if len(b) > position.BatchSize {
			t.Errorf("batch of %d rows", len(b))
		}
		for _, s := range b {
			if s.Driver == "99" {
				t.Fatal("a row of car 99, not in the driver list")
			}
		}
		got += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != 9600 || sum.Rows != 9600 || sum.Samples != 14400 || batches != 3 {
		t.Errorf("%d rows in %d batches, summary %d rows of %d samples", got, batches, sum.Rows, sum.Samples)
	}
}
