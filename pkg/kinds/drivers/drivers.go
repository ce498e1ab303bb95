// Package drivers turns a live-timing DriverList.jsonStream body into one row
// per driver of a session, as FastF1 does in _api.driver_info and
// core.Session._drivers_from_f1_api.
//
// The stream's first line is the full driver list keyed by racing number;
// later lines are patches (mostly "Line" changes, i.e. timing-screen order).
// In some sessions the archive keeps recording after the F1 session and a
// support series (F2/F3) takes over the feed: its drivers are declared, and
// the F1 drivers' entries are overwritten, in one line more than an hour in
// (2023 Hungary FP1 at 01:37:38, 2025 Monza FP1 at 01:30:35).
//
// FastF1 ignores every line later than [NewDriverCutoff] (60 minutes) and
// warns about the drivers first declared there. Parse applies the same
// cutoff to what matters, the set of drivers and their identity, but still
// follows the timing-screen order after it: a later line is applied while it
// only changes "Line" of drivers already known; the first later line that
// declares a new driver or touches any other field ends the F1 data, and it
// and all following lines are ignored. In every recorded stream identity
// fields only change after 60 minutes at a support-series takeover, so the
// identity fields equal FastF1's; Line is the final F1 order where FastF1
// keeps the order at 60 minutes.
//
// Other differences from FastF1: patches are applied with
// [livetiming.Merge], which honours "_deleted" (FastF1 keeps deleted values;
// the only recorded case before the cutoff deletes a Line, 2020 Portugal
// race); FullName is FastF1's "FirstName LastName", not the feed's
// "Max VERSTAPPEN".
package drivers

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// NewDriverCutoff is FastF1's limit (fastf1/_api.py driver_info,
// new_driver_cutoff): drivers first declared in a line whose stream offset is
// greater than this are not drivers of the session.
const NewDriverCutoff = 60 * time.Minute

// Driver is one driver of a session.
type Driver struct {
	// Number is the racing number: the entry's RacingNumber, or its key in
	// the stream when RacingNumber is absent or empty (as FastF1).
	Number string
	// Abbreviation is the three-letter code (Tla), e.g. "VER".
	Abbreviation string
	// FirstName and LastName are as sent ("Max", "Verstappen").
	FirstName, LastName string
	// FullName is FirstName + " " + LastName as FastF1 builds it; when
	// either is empty it is the feed's FullName ("Max VERSTAPPEN").
	FullName string
	// BroadcastName is the timing-screen name, e.g. "M VERSTAPPEN".
	BroadcastName string
	// TeamName is the team, e.g. "Red Bull Racing".
	TeamName string
	// TeamColour is the team colour as sent: hex RGB without '#', case
	// preserved ("3671C6", "dc0000").
	TeamColour string
	// HeadshotURL is the headshot image URL as sent; "" when absent.
	HeadshotURL string
	// CountryCode is the three-letter country code (e.g. "NED"); "" when
	// absent (streams before 2022 have none).
	CountryCode string
	// Line is the driver's final position in the timing-screen order (see
	// the package doc for which lines count), 0 when absent or deleted.
	Line int
}

// Parse decodes a DriverList.jsonStream body (see the package doc for the
// rules) and returns its drivers sorted by racing number numerically (numbers
// that are not decimal integers sort last, by string). Lines whose payload is
// not a JSON object, and driver entries that are not objects, are ignored, as
// FastF1 does; text fields holding non-strings read as "".
//
// It returns an error naming the DriverList stream when the body has no
// decodable line or no driver is declared within NewDriverCutoff.
func Parse(body []byte) ([]Driver, error) {
	stream, err := livetiming.Whole("DriverList.jsonStream", body)
	if err != nil {
		return nil, fmt.Errorf("drivers: %w", err)
	}
	state := map[string]any{}
	objects := 0
	for _, ln := range stream.Lines {
		var content map[string]any
		if err := json.Unmarshal(ln.Data, &content); err != nil || content == nil {
			continue
		}
		objects++
		patch := make(map[string]any, len(content))
		for num, v := range content {
			if entry, ok := v.(map[string]any); ok {
				patch[num] = entry
			}
		}
		if ln.Offset > NewDriverCutoff && !onlyLineChanges(state, patch) {
			break
		}
		livetiming.Merge(state, patch)
	}
	if objects == 0 {
		return nil, fmt.Errorf("drivers: DriverList.jsonStream: no line holds a JSON object")
	}
	ds := make([]Driver, 0, len(state))
	for key, v := range state {
		entry, ok := v.(map[string]any)
		if !ok {
			continue
		}
		ds = append(ds, toDriver(key, entry))
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("drivers: DriverList.jsonStream: no driver declared within %v", NewDriverCutoff)
	}
	sort.Slice(ds, func(i, j int) bool { return lessNumber(ds[i].Number, ds[j].Number) })
	return ds, nil
}

// onlyLineChanges reports whether patch only sets "Line" of drivers present
// in state.
func onlyLineChanges(state, patch map[string]any) bool {
	for num, v := range patch {
		if _, known := state[num].(map[string]any); !known {
			return false
		}
		for field := range v.(map[string]any) {
			if field != "Line" {
				return false
			}
		}
	}
	return true
}

// toDriver builds a Driver from a merged DriverList entry.
func toDriver(key string, e map[string]any) Driver {
	str := func(field string) string {
		s, _ := e[field].(string)
		return s
	}
	d := Driver{
		Number:        str("RacingNumber"),
		Abbreviation:  str("Tla"),
		FirstName:     str("FirstName"),
		LastName:      str("LastName"),
		FullName:      str("FullName"),
		BroadcastName: str("BroadcastName"),
		TeamName:      str("TeamName"),
		TeamColour:    str("TeamColour"),
		HeadshotURL:   str("HeadshotUrl"),
		CountryCode:   str("CountryCode"),
	}
	if d.Number == "" {
		d.Number = key
	}
	if d.FirstName != "" && d.LastName != "" {
		d.FullName = d.FirstName + " " + d.LastName
	}
	if f, ok := e["Line"].(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
		d.Line = int(f)
	}
	return d
}

// lessNumber orders racing numbers numerically, non-numeric ones last.
func lessNumber(a, b string) bool {
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	switch {
	case aerr == nil && berr == nil:
		if ai != bi {
			return ai < bi
		}
		return a < b
	case aerr == nil:
		return true
	case berr == nil:
		return false
	default:
		return a < b
	}
}

// csvHeader is the header row WriteCSV writes.
var csvHeader = []string{"DriverNumber", "Abbreviation", "FirstName", "LastName", "FullName",
	"BroadcastName", "TeamName", "TeamColor", "HeadshotUrl", "CountryCode"}

// WriteCSV writes ds as CSV with the header
// "DriverNumber,Abbreviation,FirstName,LastName,FullName,BroadcastName,TeamName,TeamColor,HeadshotUrl,CountryCode"
// (FastF1's results column names), one row per driver in the given order,
// LF line ends, fields quoted only when needed. It returns the first write
// error, prefixed "drivers: write CSV:".
func WriteCSV(w io.Writer, ds []Driver) error {
	cw := csv.NewWriter(w)
	header := csvHeader
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("drivers: write CSV: %w", err)
	}
	for _, d := range ds {
		rec := []string{d.Number, d.Abbreviation, d.FirstName, d.LastName, d.FullName,
			d.BroadcastName, d.TeamName, d.TeamColour, d.HeadshotURL, d.CountryCode}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("drivers: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("drivers: write CSV: %w", err)
	}
	return nil
}
