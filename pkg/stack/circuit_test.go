package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kinds/circuit"
	"github.com/paddock-f1/paddock/pkg/kinds/drivers"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// TestCircuitExportsEqualFastF1 imports the 2020 Italian Grand Prix's
// circuit layout (its schedule names no circuit, so the loader learns key
// 39 from SessionInfo) and compares the exports with FastF1's CSVs.
func TestCircuitExportsEqualFastF1(t *testing.T) {
	st := start(t)
	ref := filepath.Join(testenv.Reference(t), "circuit_info_2020_39_Monza")
	_, sum, calls := importRun(t, st, streams.PlanCommand{Year: 2020, Round: round(8), Kinds: []string{"circuit"}})
	if sum.DataExtracted["circuit"] != 1 || sum.GapsDetected != 1 || int64(sum.APICallsMade) != calls {
		t.Fatalf("one event, one layout: %+v", sum)
	}
	if n := st.Standin.RequestsFor("api.multiviewer.app"); n != 1 {
		t.Fatalf("MultiViewer asked %d times for one weekend", n)
	}
	var info struct {
		Rotation float64 `json:"rotation"`
	}
	b, err := os.ReadFile(filepath.Join(ref, "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	for file, kind := range map[string]string{
		"corners.csv": circuit.Corners, "marshal_lights.csv": circuit.MarshalLights, "marshal_sectors.csv": circuit.MarshalSectors,
	} {
		key, rotation, markers, err := circuit.Read(context.Background(), st.Pool, 2020, 8, kind)
		if err != nil {
			t.Fatal(err)
		}
		if key != 39 || rotation != info.Rotation {
			t.Fatalf("layout %d rotated %v, want 39 and %v", key, rotation, info.Rotation)
		}
		var got bytes.Buffer
		if err := circuit.WriteCSV(&got, markers); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(ref, file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from FastF1's:\n%s", file, firstLines(got.String(), 3))
		}
	}
	// Every other round of 2020: MultiViewer has no layout recorded, so the
	// circuit is unavailable there, and asked for once per weekend.
	before := st.Standin.RequestsFor("api.multiviewer.app")
	_, sum, _ = importRun(t, st, streams.PlanCommand{Year: 2020, Kinds: []string{"circuit"}})
	if sum.SessionsFailed != 0 || sum.KindsUnavailable["circuit"] != sum.GapsDetected {
		t.Fatalf("the other weekends: %+v", sum)
	}
	if asked := st.Standin.RequestsFor("api.multiviewer.app") - before; asked > int64(sum.GapsDetected) {
		t.Fatalf("MultiViewer asked %d times for %d weekends", asked, sum.GapsDetected)
	}
}

// TestDriversAreStoredAndExported imports a session's drivers and reads
// them back: every racing number with its abbreviation and team.
func TestDriversAreStoredAndExported(t *testing.T) {
	st := start(t)
	_, sum, _ := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"drivers"}})
	if sum.DataExtracted["drivers"] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	ds, err := drivers.Read(context.Background(), st.Pool, f1.Key(2019, 14, "Qualifying"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 20 {
		t.Fatalf("%d drivers, want 20", len(ds))
	}
	byNumber := map[string]drivers.Driver{}
	for _, d := range ds {
		byNumber[d.Number] = d
	}
	if d := byNumber["16"]; d.Abbreviation != "LEC" || d.TeamName != "Ferrari" || d.LastName != "Leclerc" {
		t.Fatalf("driver 16: %+v", d)
	}
	var csv bytes.Buffer
	if err := drivers.WriteCSV(&csv, ds); err != nil || bytes.Count(csv.Bytes(), []byte("\n")) != 21 {
		t.Fatalf("export: %v\n%s", err, csv.String())
	}
	var teams int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM season_teams WHERE year = 2019`).Scan(&teams); err != nil || teams != 10 {
		t.Fatalf("%d teams in 2019 (%v), want 10", teams, err)
	}
}

func firstLines(s string, n int) string {
	lines := bytes.SplitN([]byte(s), []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
