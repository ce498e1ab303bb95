package cardata_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds/cardata"
	"github.com/paddock-f1/paddock/pkg/kinds/drivers"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
)

// telemetryRef is the part of a reference's telemetry.json the tests check.
type telemetryRef struct {
	T0             string         `json:"t0_date"`
	Drivers        []string       `json:"drivers"`
	CarRows        int            `json:"car_data_rows"`
	CarRowsPer     map[string]int `json:"car_data_rows_per_driver"`
	WithoutCarData []string       `json:"drivers_without_car_data"`
	Warnings       []string       `json:"fastf1_warnings"`
}

// session decodes a reference session's car data and returns our CSV, the
// summary and t0_date (from both telemetry feeds, as FastF1 computes it).
func session(t *testing.T, r kindtest.Reference, ref telemetryRef) ([]byte, cardata.Summary, time.Time) {
	t.Helper()
	body, ok := r.Feed(t, cardata.Feed)
	if !ok {
		t.Fatalf("%s: %s is not recorded", r.Name, cardata.Feed)
	}
	pbody, ok := r.Feed(t, position.Feed)
	if !ok {
		t.Fatalf("%s: %s is not recorded", r.Name, position.Feed)
	}
	dl, ok := r.Feed(t, "DriverList.jsonStream")
	if !ok {
		t.Fatalf("%s: DriverList.jsonStream is not recorded", r.Name)
	}
	ds, err := drivers.Parse(dl)
	if err != nil {
		t.Fatal(err)
	}
	abbrs := map[string]string{}
	for _, d := range ds {
		abbrs[d.Number] = d.Abbreviation
	}
	if got, want := slices.Sorted(maps.Keys(abbrs)), slices.Sorted(slices.Values(ref.Drivers)); !slices.Equal(got, want) {
		t.Fatalf("%s: DriverList has drivers %v, FastF1's session %v", r.Name, got, want)
	}
	var rows []cardata.Sample
	sum, err := cardata.Decode(bytes.NewReader(body), ref.Drivers, func(b []cardata.Sample) error {
		rows = append(rows, b...)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	psum, err := position.Decode(bytes.NewReader(pbody), ref.Drivers, func([]position.Sample) error { return nil })
	if err != nil {
		t.Fatalf("%s: position: %v", r.Name, err)
	}
	t0, ok := cardata.T0(sum.Clock, psum.Clock)
	if !ok {
		t.Fatalf("%s: no t0", r.Name)
	}
	cardata.Sort(rows, sum.Drivers)
	var b bytes.Buffer
	if err := cardata.WriteCSV(&b, rows, abbrs, t0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sum, t0
}

func readRef(t *testing.T, r kindtest.Reference) telemetryRef {
	t.Helper()
	var ref telemetryRef
	if err := json.Unmarshal(r.File(t, "telemetry.json"), &ref); err != nil {
		t.Fatalf("%s: telemetry.json: %v", r.Name, err)
	}
	return ref
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConformance: every reference session with FastF1's car_data.csv.gz,
// from the recorded CarData.z stream, cell for cell and byte for byte; also
// t0_date, the rows per driver, the drivers without data and FastF1's car
// data warnings.
func TestConformance(t *testing.T) {
	var all kindtest.Agreement
	refs := kindtest.References(t, "car_data.csv.gz")
	for _, r := range refs {
		ref := readRef(t, r)
		got, sum, t0 := session(t, r, ref)
		want := gunzip(t, r.File(t, "car_data.csv.gz"))
		var a kindtest.Agreement
		a.Compare(t, r.Name, got, want)
		all.Compare(t, r.Name, got, want)
		t.Logf("%s: %s", r.Name, &a)

		if g := t0.Format("2006-01-02 15:04:05.000000"); g != ref.T0 {
			t.Errorf("%s: t0_date %s, FastF1 %s", r.Name, g, ref.T0)
		} else {
			t.Logf("%s: t0_date %s agrees", r.Name, g)
		}
		if sum.Rows != ref.CarRows {
			t.Errorf("%s: %d rows, FastF1 %d", r.Name, sum.Rows, ref.CarRows)
		}
		var without []string
		for _, d := range sum.Drivers {
			if d.Rows == 0 {
				without = append(without, d.Number)
				continue
			}
			if d.Rows != ref.CarRowsPer[d.Number] {
				t.Errorf("%s: driver %s has %d rows, FastF1 %d", r.Name, d.Number, d.Rows, ref.CarRowsPer[d.Number])
			}
		}
		if !slices.Equal(without, ref.WithoutCarData) {
			t.Errorf("%s: drivers without car data %v, FastF1 %v", r.Name, without, ref.WithoutCarData)
		}
		var wantWarn []string
		for _, w := range ref.Warnings {
			if strings.Contains(w, "Car data") || strings.Contains(w, "brake data") {
				wantWarn = append(wantWarn, w)
			}
		}
		if !slices.Equal(sum.Warnings, wantWarn) {
			t.Errorf("%s: warnings %q, FastF1 %q", r.Name, sum.Warnings, wantWarn)
		}
	}
	t.Logf("car_data.csv.gz (%d sessions): %s", len(refs), &all)
}

// TestRecorded: every recorded CarData.z stream decodes, with or without a
// reference, and every car it has gets the same row count (FastF1 fills
// incomplete cars up to the most complete one).
func TestRecorded(t *testing.T) {
	kindtest.EveryRecorded(t, cardata.Feed, func(body []byte) error {
		var keep []string
		sum, err := cardata.Decode(bytes.NewReader(body), nil, func([]cardata.Sample) error { return nil })
		if err != nil {
			return err
		}
		for _, d := range sum.Dropped {
			keep = append(keep, d.Number)
		}
		n := 0
		sum, err = cardata.Decode(bytes.NewReader(body), keep, func(b []cardata.Sample) error { n += len(b); return nil })
		if err != nil {
			return err
		}
		if n != sum.Rows || len(sum.Dropped) != 0 {
			t.Errorf("emitted %d rows, summary %d, dropped %v", n, sum.Rows, sum.Dropped)
		}
		for _, d := range sum.Drivers {
			if d.Rows == 0 || (d.Filled > 0) != d.Incomplete {
				t.Errorf("car %s: %+v", d.Number, d)
			}
			if d.Rows != sum.Drivers[0].Rows && !d.Incomplete {
				t.Errorf("car %s: %d rows, car %s %d", d.Number, d.Rows, sum.Drivers[0].Number, sum.Drivers[0].Rows)
			}
		}
		return nil
	})
}
