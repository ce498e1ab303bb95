package circuit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	recordedDir  = "../../../testdata/f1/recorded/api.multiviewer.app/api/v1/circuits"
	referenceDir = "../../../testdata/f1/reference/circuit_info_2020_39_Monza"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

func TestParseMonzaMatchesFastF1(t *testing.T) {
	info, err := Parse(readFile(t, filepath.Join(recordedDir, "39", "2020")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if info.CircuitKey != 39 || info.Year != 2020 || info.Name != "Monza" {
		t.Errorf("header = (%d, %d, %q), want (39, 2020, \"Monza\")", info.CircuitKey, info.Year, info.Name)
	}
	var ref struct {
		Rotation float64 `json:"rotation"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(referenceDir, "info.json")), &ref); err != nil {
		t.Fatalf("reference info.json: %v", err)
	}
	if info.Rotation != ref.Rotation {
		t.Errorf("Rotation = %v, want %v", info.Rotation, ref.Rotation)
	}
	tests := []struct {
		name    string
		markers []Marker
		file    string
		count   int
	}{
		{"corners", info.Corners, "corners.csv", 11},
		{"marshal lights", info.MarshalLights, "marshal_lights.csv", 17},
		{"marshal sectors", info.MarshalSectors, "marshal_sectors.csv", 17},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.markers) != tc.count {
				t.Errorf("%d markers, want %d", len(tc.markers), tc.count)
			}
			for i, m := range tc.markers {
				if m.Length == nil {
					t.Errorf("marker %d: Length nil, the recording sends it", i)
				}
				if m.Distance != nil {
					t.Errorf("marker %d: Distance = %v, want nil", i, *m.Distance)
				}
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, tc.markers); err != nil {
				t.Fatalf("WriteCSV: %v", err)
			}
			want := readFile(t, filepath.Join(referenceDir, tc.file))
			if !bytes.Equal(buf.Bytes(), want) {
				got, wnt := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(got) && i < len(wnt); i++ {
					if got[i] != wnt[i] {
						t.Fatalf("line %d differs:\n got %q\nwant %q", i+1, got[i], wnt[i])
					}
				}
				t.Fatalf("output has %d lines, reference %d", len(got), len(wnt))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	notFound := readFile(t, filepath.Join(recordedDir, "0", "2020"))
	tests := []struct {
		name    string
		body    []byte
		wantErr string
	}{
		{"recorded 404 body", notFound, `not a JSON object (starts "Circuit not found")`},
		{"empty body", nil, "empty body"},
		{"JSON array", []byte(`[]`), "not a JSON object"},
		{"empty object", []byte(`{}`), "empty JSON object"},
		{"truncated", []byte(`{"rotation": 95, "corners": [`), "invalid JSON"},
		{"rotation is a string", []byte(`{"rotation": "95"}`), "rotation"},
		{"fractional year", []byte(`{"year": 2020.5}`), "year: 2020.5 is not an integer"},
		{"corners not a list", []byte(`{"corners": {}}`), "corners"},
		{"marker without trackPosition", []byte(`{"corners": [{"number": 1, "angle": 0}]}`), "corners[0]: missing trackPosition"},
		{"marker without y", []byte(`{"marshalLights": [{"number": 1, "trackPosition": {"x": 1}}]}`), "marshalLights[0]: missing trackPosition"},
		{"marker without number", []byte(`{"marshalSectors": [{"trackPosition": {"x": 1, "y": 2}}]}`), "marshalSectors[0]: missing number"},
		{"fractional number", []byte(`{"corners": [{"number": 1.5, "trackPosition": {"x": 1, "y": 2}}]}`), "corners[0]: number: 1.5 is not an integer"},
		{"letter not a string", []byte(`{"corners": [{"number": 1, "letter": 1, "trackPosition": {"x": 1, "y": 2}}]}`), "corners[0]"},
		{"null marker", []byte(`{"corners": [null]}`), "corners[0]: marker is null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Parse(tc.body)
			if err == nil {
				t.Fatalf("Parse = %+v, want error containing %q", info, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "circuit: MultiViewer circuit info: ") {
				t.Errorf("error %q, want prefix %q and %q", err, "circuit: MultiViewer circuit info: ", tc.wantErr)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Marker
	}{
		{"letter and angle absent", `{"corners":[{"number":2,"trackPosition":{"x":-1393,"y":0.5}}]}`,
			Marker{X: -1393, Y: 0.5, Number: 2}},
		{"letter present", `{"corners":[{"number":2,"letter":"A","angle":-10.5,"trackPosition":{"x":1,"y":2}}]}`,
			Marker{X: 1, Y: 2, Number: 2, Letter: "A", Angle: -10.5}},
		{"letter null", `{"corners":[{"number":2,"letter":null,"trackPosition":{"x":1,"y":2}}]}`,
			Marker{X: 1, Y: 2, Number: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if info.Rotation != 0 || len(info.MarshalLights) != 0 || info.MarshalLights == nil || len(info.Corners) != 1 {
				t.Fatalf("Parse = %+v, want rotation 0, one corner, empty non-nil marshal lights", info)
			}
			if got := info.Corners[0]; got != tc.want {
				t.Errorf("corner = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWriteCSVDistanceAndQuoting(t *testing.T) {
	d := 123.25
	var buf bytes.Buffer
	err := WriteCSV(&buf, []Marker{{X: 1, Y: -2, Number: 3, Letter: "A,B", Angle: 0.5, Distance: &d}})
	if err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	want := "X,Y,Number,Letter,Angle,Distance\n1.0,-2.0,3,\"A,B\",0.5,123.25\n"
	if buf.String() != want {
		t.Errorf("WriteCSV = %q, want %q", buf.String(), want)
	}
}
