// Package circuit parses the MultiViewer circuit-info API
// (GET https://api.multiviewer.app/api/v1/circuits/{circuitKey}/{year}),
// the source FastF1 uses for Session.get_circuit_info: corner, marshal-light
// and marshal-sector markers and the track-map rotation of one circuit in one
// season.
//
// Compatibility with FastF1 (fastf1/mvapi/data.py get_circuit_info):
//   - Only corners, marshalLights, marshalSectors and rotation are used by
//     FastF1; paddock additionally keeps circuitKey, year, circuitName and
//     each marker's "length".
//   - FastF1 defaults a missing letter to "", a missing angle or rotation
//     to 0 and a missing marker list to an empty one; Parse does the same.
//     FastF1 also defaults a missing trackPosition or number to 0, which
//     silently puts a marker at the origin; Parse rejects such a marker.
//   - Distance is computed by FastF1 from the fastest lap's position
//     telemetry; paddock does not load telemetry, so it is always nil here.
package circuit

import (
	"github.com/paddock-f1/paddock/pkg/pyrepr"

	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Marker is one track marker (a corner, marshal light or marshal sector).
type Marker struct {
	// X and Y are the marker position from trackPosition.x/.y, in the frame
	// of the live-timing Position.z X/Y coordinates (1/10 m since 2020).
	X, Y float64
	// Number is the marker number (corner 1, 2, ...).
	Number int
	// Letter distinguishes markers sharing a number (e.g. "A" for corner
	// 2A); "" when absent.
	Letter string
	// Angle is the direction, in degrees, in which a label for the marker
	// should be offset on a track map (usually orthogonal to the track).
	Angle float64
	// Length is MultiViewer's "length" of the marker when sent (FastF1 does
	// not use it; its unit is not documented), nil when absent.
	Length *float64
	// Distance is the marker's distance along the lap. FastF1 derives it
	// from car telemetry, which paddock does not load; Parse leaves it nil.
	Distance *float64
}

// Info is the circuit information of one circuit in one season.
type Info struct {
	// CircuitKey is MultiViewer's circuitKey (the live-timing
	// SessionInfo.Meeting.Circuit.Key); 0 when absent.
	CircuitKey int
	// Year is the season; 0 when absent.
	Year int
	// Name is circuitName (e.g. "Monza"); "" when absent.
	Name string
	// Rotation is the angle in degrees by which Position X/Y data must be
	// rotated to match the official track map; 0 when absent (as FastF1).
	Rotation float64
	// Corners, MarshalLights and MarshalSectors are the markers in the
	// order sent; empty (not nil) when the list is absent or null.
	Corners, MarshalLights, MarshalSectors []Marker
}

// rawInfo mirrors the fields of the response body that Parse uses.
type rawInfo struct {
	CircuitKey     *float64          `json:"circuitKey"`
	Year           *float64          `json:"year"`
	CircuitName    *string           `json:"circuitName"`
	Rotation       *float64          `json:"rotation"`
	Corners        []json.RawMessage `json:"corners"`
	MarshalLights  []json.RawMessage `json:"marshalLights"`
	MarshalSectors []json.RawMessage `json:"marshalSectors"`
}

// rawMarker mirrors one marker object of the response body.
type rawMarker struct {
	Angle         *float64 `json:"angle"`
	Length        *float64 `json:"length"`
	Number        *float64 `json:"number"`
	Letter        *string  `json:"letter"`
	TrackPosition *struct {
		X *float64 `json:"x"`
		Y *float64 `json:"y"`
	} `json:"trackPosition"`
}

// Parse decodes a MultiViewer circuit-info response body.
//
// It returns an error, prefixed "circuit: MultiViewer circuit info:", when the
// body is not a JSON object (e.g. the 404 body "Circuit not found"), is an
// empty object (FastF1 treats that as a failed request), or a field has the
// wrong type; marker errors name the list and index, e.g. "corners[3]".
// Integer fields (circuitKey, year, number) must be integral JSON numbers.
func Parse(body []byte) (*Info, error) {
	const src = "circuit: MultiViewer circuit info"
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty body", src)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: body is not a JSON object (starts %q)", src, preview(trimmed))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", src, err)
	}
	if len(probe) == 0 {
		return nil, fmt.Errorf("%s: empty JSON object", src)
	}
	var raw rawInfo
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	info := &Info{}
	var err error
	if info.CircuitKey, err = optInt(raw.CircuitKey, "circuitKey"); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if info.Year, err = optInt(raw.Year, "year"); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if raw.CircuitName != nil {
		info.Name = *raw.CircuitName
	}
	if raw.Rotation != nil {
		info.Rotation = *raw.Rotation
	}
	lists := []struct {
		name string
		in   []json.RawMessage
		out  *[]Marker
	}{
		{"corners", raw.Corners, &info.Corners},
		{"marshalLights", raw.MarshalLights, &info.MarshalLights},
		{"marshalSectors", raw.MarshalSectors, &info.MarshalSectors},
	}
	for _, l := range lists {
		ms := make([]Marker, 0, len(l.in))
		for i, m := range l.in {
			mk, err := parseMarker(m)
			if err != nil {
				return nil, fmt.Errorf("%s: %s[%d]: %w", src, l.name, i, err)
			}
			ms = append(ms, mk)
		}
		*l.out = ms
	}
	return info, nil
}

// parseMarker decodes one marker object.
func parseMarker(data json.RawMessage) (Marker, error) {
	var rm rawMarker
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return Marker{}, errors.New("marker is null")
	}
	if err := json.Unmarshal(data, &rm); err != nil {
		return Marker{}, err
	}
	if rm.TrackPosition == nil || rm.TrackPosition.X == nil || rm.TrackPosition.Y == nil {
		return Marker{}, errors.New("missing trackPosition.x/.y")
	}
	if rm.Number == nil {
		return Marker{}, errors.New("missing number")
	}
	n, err := optInt(rm.Number, "number")
	if err != nil {
		return Marker{}, err
	}
	m := Marker{
		X:      *rm.TrackPosition.X,
		Y:      *rm.TrackPosition.Y,
		Number: n,
		Length: rm.Length,
	}
	if rm.Letter != nil {
		m.Letter = *rm.Letter
	}
	if rm.Angle != nil {
		m.Angle = *rm.Angle
	}
	return m, nil
}

// optInt converts an optional JSON number to int; nil gives 0.
func optInt(v *float64, field string) (int, error) {
	if v == nil {
		return 0, nil
	}
	f := *v
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s: %v is not an integer", field, f)
	}
	return int(f), nil
}

// preview returns the start of a body for error messages.
func preview(b []byte) string {
	const n = 40
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// csvHeader is the header row WriteCSV writes (FastF1's marker columns).
var csvHeader = []string{"X", "Y", "Number", "Letter", "Angle", "Distance"}

// WriteCSV writes markers as CSV in the format of FastF1's marker DataFrame
// written with pandas to_csv(index=False): header
// "X,Y,Number,Letter,Angle,Distance", LF line ends, floats formatted like
// Python's repr (shortest round-trip digits, at least one decimal, e.g.
// 1393.0, -569.5805053710938, exponent form below 1e-4 and from 1e16), and
// Distance empty when nil (pandas writes NaN as ""). It returns the first
// write error, prefixed "circuit: write CSV:".
func WriteCSV(w io.Writer, markers []Marker) error {
	cw := csv.NewWriter(w)
	header := csvHeader
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("circuit: write CSV: %w", err)
	}
	for _, m := range markers {
		dist := ""
		if m.Distance != nil {
			dist = pyrepr.CSV(*m.Distance)
		}
		rec := []string{pyrepr.CSV(m.X), pyrepr.CSV(m.Y), strconv.Itoa(m.Number), m.Letter, pyrepr.CSV(m.Angle), dist}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("circuit: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("circuit: write CSV: %w", err)
	}
	return nil
}
