package position_test

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
	PosRows        int            `json:"pos_data_rows"`
	PosRowsPer     map[string]int `json:"pos_data_rows_per_driver"`
	WithoutPosData []string       `json:"drivers_without_pos_data"`
	Warnings       []string       `json:"fastf1_warnings"`
}

// session decodes a reference session's position data and returns our CSV,
// the summary and t0_date (from both telemetry feeds, as FastF1 computes it).
func session(t *testing.T, r kindtest.Reference, ref telemetryRef) ([]byte, position.Summary, time.Time) {
	t.Helper()
	body, ok := r.Feed(t, position.Feed)
	if !ok {
		t.Fatalf("%s: %s is not recorded", r.Name, position.Feed)
	}
	cbody, ok := r.Feed(t, cardata.Feed)
	if !ok {
		t.Fatalf("%s: %s is not recorded", r.Name, cardata.Feed)
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
	var rows []position.Sample
	sum, err := position.Decode(bytes.NewReader(body), ref.Drivers, func(b []position.Sample) error {
		rows = append(rows, b...)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	csum, err := cardata.Decode(bytes.NewReader(cbody), ref.Drivers, func([]cardata.Sample) error { return nil })
	if err != nil {
		t.Fatalf("%s: car data: %v", r.Name, err)
	}
	t0, ok := cardata.T0(csum.Clock, sum.Clock)
	if !ok {
		t.Fatalf("%s: no t0", r.Name)
	}
	position.Sort(rows, sum.Drivers)
	var b bytes.Buffer
	if err := position.WriteCSV(&b, rows, abbrs, t0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sum, t0
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

// TestConformance: every reference session with FastF1's pos_data.csv.gz,
// from the recorded Position.z stream, cell for cell and byte for byte; also
// t0_date, the rows per driver, the drivers without data and FastF1's
// position data warnings.
func TestConformance(t *testing.T) {
	var all kindtest.Agreement
	refs := kindtest.References(t, "pos_data.csv.gz")
	for _, r := range refs {
		var ref telemetryRef
		if err := json.Unmarshal(r.File(t, "telemetry.json"), &ref); err != nil {
			t.Fatalf("%s: telemetry.json: %v", r.Name, err)
		}
		got, sum, t0 := session(t, r, ref)
		want := gunzip(t, r.File(t, "pos_data.csv.gz"))
		var a kindtest.Agreement
		a.Compare(t, r.Name, got, want)
		all.Compare(t, r.Name, got, want)
		t.Logf("%s: %s", r.Name, &a)

		if g := t0.Format("2006-01-02 15:04:05.000000"); g != ref.T0 {
			t.Errorf("%s: t0_date %s, FastF1 %s", r.Name, g, ref.T0)
		} else {
			t.Logf("%s: t0_date %s agrees", r.Name, g)
		}
		if sum.Rows != ref.PosRows {
			t.Errorf("%s: %d rows, FastF1 %d", r.Name, sum.Rows, ref.PosRows)
		}
		var without []string
		for _, d := range sum.Drivers {
			if d.Rows == 0 {
				without = append(without, d.Number)
				continue
			}
			if d.Rows != ref.PosRowsPer[d.Number] {
				t.Errorf("%s: driver %s has %d rows, FastF1 %d", r.Name, d.Number, d.Rows, ref.PosRowsPer[d.Number])
			}
		}
		if !slices.Equal(without, ref.WithoutPosData) {
			t.Errorf("%s: drivers without position data %v, FastF1 %v", r.Name, without, ref.WithoutPosData)
		}
		var wantWarn []string
		for _, w := range ref.Warnings {
			if strings.Contains(w, "Position data") {
				wantWarn = append(wantWarn, w)
			}
		}
		if !slices.Equal(sum.Warnings, wantWarn) {
			t.Errorf("%s: warnings %q, FastF1 %q", r.Name, sum.Warnings, wantWarn)
		}
	}
	t.Logf("pos_data.csv.gz (%d sessions): %s", len(refs), &all)
}

// TestRecorded: every recorded Position.z stream decodes, with or without a
// reference, and the rows emitted are the rows summarized.
func TestRecorded(t *testing.T) {
	kindtest.EveryRecorded(t, position.Feed, func(body []byte) error {
		sum, err := position.Decode(bytes.NewReader(body), nil, func([]position.Sample) error { return nil })
		if err != nil {
			return err
		}
		var keep []string
		for _, d := range sum.Dropped {
			keep = append(keep, d.Number)
		}
		n := 0
		sum, err = position.Decode(bytes.NewReader(body), keep, func(b []position.Sample) error { n += len(b); return nil })
		if err != nil {
			return err
		}
		if n != sum.Rows || len(sum.Dropped) != 0 || len(sum.Drivers) != len(keep) {
			t.Errorf("emitted %d rows, summary %d, dropped %v", n, sum.Rows, sum.Dropped)
		}
		for _, d := range sum.Drivers {
			if d.Rows == 0 || (d.Filled > 0) != d.Incomplete {
				t.Errorf("car %s: %+v", d.Number, d)
			}
		}
		return nil
	})
}
