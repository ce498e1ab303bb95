package results

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/paddock-f1/paddock/pkg/kinds/drivers"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// driverListFields are the DriverList fields the table shows, by their
// name in the feed.
var driverListFields = []struct {
	feed string
	col  int
}{
	{"BroadcastName", colBroadcastName},
	{"Tla", colAbbreviation},
	{"TeamName", colTeamName},
	{"TeamColour", colTeamColor},
	{"FirstName", colFirstName},
	{"LastName", colLastName},
	{"HeadshotUrl", colHeadshotURL},
	{"CountryCode", colCountryCode},
}

// driverListRows returns one row per driver of the DriverList, in the
// order FastF1 holds them (the stream's first declaration of each), with
// the DriverList's columns filled. drivers.Parse decides who the drivers
// are and what they are called; a field the stream did not send as text
// (never, or as null) stays missing, spelled "None" as in FastF1.
func driverListRows(body []byte) ([]Result, error) {
	ds, err := drivers.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDriverList, err)
	}
	order, sent, err := declarations(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDriverList, err)
	}
	byNumber := make(map[string]drivers.Driver, len(ds))
	for _, d := range ds {
		byNumber[d.Number] = d
	}
	rows := make([]Result, 0, len(ds))
	add := func(d drivers.Driver) {
		r := Result{DriverNumber: d.Number}
		for c := range r.gaps {
			r.gaps[c] = gapNaN // columns only Jolpica fills
		}
		values := map[string]string{
			"BroadcastName": d.BroadcastName, "Tla": d.Abbreviation, "TeamName": d.TeamName,
			"TeamColour": d.TeamColour, "FirstName": d.FirstName, "LastName": d.LastName,
			"HeadshotUrl": d.HeadshotURL, "CountryCode": d.CountryCode,
		}
		for _, f := range driverListFields {
			if sent[d.Number][f.feed] {
				*r.text()[f.col] = ptr(values[f.feed])
			} else {
				r.gaps[f.col] = gapNone
			}
		}
		r.FullName = ptr(pyText(r.FirstName) + " " + pyText(r.LastName))
		rows = append(rows, r)
		delete(byNumber, d.Number)
	}
	for _, n := range order {
		if d, ok := byNumber[n]; ok {
			add(d)
		}
	}
	for _, d := range ds { // declared by rules drivers.Parse has and this scan lacks
		if _, ok := byNumber[d.Number]; ok {
			add(d)
		}
	}
	return rows, nil
}

// pyText is Python's str of an optional text: "None" when missing.
func pyText(s *string) string {
	if s == nil {
		return "None"
	}
	return *s
}

// declarations scans the DriverList's lines up to drivers.NewDriverCutoff
// as FastF1's _api.driver_info does and returns the racing numbers in the
// order of their first declaration, and per number which fields' last
// value was a JSON string. A driver's number is its RacingNumber when that
// is a non-empty string, else its key in the stream (as drivers.Parse).
func declarations(body []byte) (order []string, sent map[string]map[string]bool, err error) {
	stream, err := livetiming.Whole("DriverList.jsonStream", body)
	if err != nil {
		return nil, nil, err
	}
	type entry struct {
		racingNumber string
		text         map[string]bool
	}
	var keys []string
	entries := map[string]*entry{}
	for _, ln := range stream.Lines {
		if ln.Offset > drivers.NewDriverCutoff {
			continue
		}
		members, ok := objectMembers(ln.Data)
		if !ok {
			continue
		}
		for _, m := range members {
			var fields map[string]json.RawMessage
			if json.Unmarshal(m.value, &fields) != nil || fields == nil {
				continue // not an object
			}
			e := entries[m.key]
			if e == nil {
				e = &entry{text: map[string]bool{}}
				entries[m.key] = e
				keys = append(keys, m.key)
			}
			for name, raw := range fields {
				s, isText := jsonString(raw)
				if name == "RacingNumber" {
					e.racingNumber = s
					continue
				}
				e.text[name] = isText
			}
		}
	}
	sent = make(map[string]map[string]bool, len(keys))
	for _, k := range keys {
		e := entries[k]
		n := e.racingNumber
		if n == "" {
			n = k
		}
		if _, dup := sent[n]; dup {
			continue
		}
		order = append(order, n)
		sent[n] = e.text
	}
	return order, sent, nil
}

// member is one name/value pair of a JSON object.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers returns the members of the JSON object data in document
// order; ok is false when data is not an object. A repeated name keeps
// its last value at the position of its first appearance, as Python's
// json module builds a dict.
func objectMembers(data []byte) (members []member, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	at := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if i, seen := at[key]; seen {
			members[i].value = v
			continue
		}
		at[key] = len(members)
		members = append(members, member{key, v})
	}
	return members, true
}

// jsonString returns the string a JSON value holds; ok is false for any
// other value (null included).
func jsonString(raw json.RawMessage) (s string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
