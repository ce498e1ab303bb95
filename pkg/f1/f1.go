// Package f1 is paddock's vocabulary of the sport's data: session names as
// FastF1 spells them and their short codes, the data kinds paddock
// extracts, and the upstream feeds each kind needs.
package f1

import (
	"fmt"
	"sort"
	"strings"
)

// FirstYear is the first season the live-timing archive holds; earlier
// sessions are unavailable without asking anyone.
const FirstYear = 2018

// MaxRound bounds round numbers in plan commands; no season has had more.
const MaxRound = 30

// Session names as FastF1 spells them, with their short codes.
var sessions = []struct{ Name, Code string }{
	{"Practice 1", "FP1"},
	{"Practice 2", "FP2"},
	{"Practice 3", "FP3"},
	{"Sprint Shootout", "SS"},
	{"Sprint Qualifying", "SQ"},
	{"Qualifying", "Q"},
	{"Sprint", "S"},
	{"Race", "R"},
}

// SessionNames lists the accepted session names.
func SessionNames() []string {
	out := make([]string, len(sessions))
	for i, s := range sessions {
		out[i] = s.Name
	}
	return out
}

// ParseSession resolves a session name or short code (case-insensitive:
// "Qualifying", "q", "FP2", "practice 2", "Sprint_Shootout") to FastF1's
// spelling. It fails with the list of accepted names.
func ParseSession(s string) (string, error) {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", " "))
	for _, x := range sessions {
		if norm == strings.ToLower(x.Name) || norm == strings.ToLower(x.Code) {
			return x.Name, nil
		}
	}
	var names []string
	for _, x := range sessions {
		names = append(names, fmt.Sprintf("%q (%s)", x.Name, x.Code))
	}
	return "", fmt.Errorf("unknown session %q: use one of %s", s, strings.Join(names, ", "))
}

// SessionCode is the short code of a session name, used in subjects; a
// name it does not know (a testing day) is made subject-safe instead.
func SessionCode(name string) string {
	for _, x := range sessions {
		if x.Name == name {
			return x.Code
		}
	}
	r := strings.NewReplacer(" ", "_", ".", "_", "*", "_", ">", "_")
	return r.Replace(name)
}

// Kind is a data kind paddock extracts.
type Kind struct {
	Name string
	// Version is the extractor version; raising it re-plans every session
	// extracted by an older one.
	Version int
	// Feeds are the upstream documents the kind reads.
	Feeds []FeedNeed
	// PerEvent kinds are loaded once per event (with one of its sessions)
	// and done for the whole event.
	PerEvent bool
}

// FeedNeed is a document a kind reads for a session. A kind is
// unavailable when a required feed is missing upstream; an optional feed
// only enriches it.
type FeedNeed struct {
	// File is a live-timing feed file under the session's archive path;
	// empty for a Jolpica document.
	File string
	// Jolpica names a Jolpica document: JolpicaLap1 or JolpicaResults.
	Jolpica string
	// MultiViewer marks the event's circuit layout document.
	MultiViewer bool
	// KeyLookup marks a feed read only to learn the circuit key, not
	// needed when the schedule knows it.
	KeyLookup bool
	Optional  bool
	// When limits the feed to some sessions; nil = every session.
	When func(year int, session string) bool
}

// Jolpica documents kinds can read.
const (
	JolpicaLap1    = "jolpica:lap1"    // /ergast/f1/{y}/{r}/laps/1.json: lap-1 times of a race
	JolpicaResults = "jolpica:results" // the session's results document, as FastF1 reads it
	// MultiViewerCircuit is /api/v1/circuits/{key}/{year}: the circuit layout.
	MultiViewerCircuit = "multiviewer:circuit"
)

// RaceLike reports whether a session is run as a race (FastF1's rule:
// until 2023 "Sprint Qualifying" was the sprint race).
func RaceLike(year int, session string) bool {
	switch session {
	case "Race", "Sprint":
		return true
	case "Sprint Qualifying":
		return year <= 2023
	}
	return false
}

// JolpicaResultsPath is the Jolpica document FastF1 reads a session's
// drivers and results from, "" when there is none (shootouts, testing).
func JolpicaResultsPath(year, round int, session string) string {
	var doc string
	switch session {
	case "Race", "Practice 1", "Practice 2", "Practice 3":
		doc = "results"
	case "Qualifying":
		doc = "qualifying"
	case "Sprint":
		doc = "sprint"
	case "Sprint Qualifying":
		if year <= 2023 {
			doc = "sprint"
		}
	}
	if doc == "" {
		return ""
	}
	return fmt.Sprintf("/ergast/f1/%d/%d/%s.json", year, round, doc)
}

// Kinds known to this build, by name.
var kinds = map[string]Kind{
	"weather": {Name: "weather", Version: 1, Feeds: []FeedNeed{
		{File: "WeatherData.jsonStream"},
		// RaceControlMessages pairs stream offsets with UTC: the clock of the samples.
		{File: "RaceControlMessages.jsonStream", Optional: true},
	}},
	"laps": {Name: "laps", Version: 1, Feeds: []FeedNeed{
		{File: "TimingData.jsonStream"},
		{File: "TimingAppData.jsonStream", Optional: true},
		{File: "SessionInfo.jsonStream", Optional: true},
		{File: "DriverList.jsonStream", Optional: true},
		{File: "TrackStatus.jsonStream", Optional: true},
		{File: "SessionStatus.jsonStream", Optional: true},
		{File: "RaceControlMessages.jsonStream", Optional: true},
		{File: "LapCount.jsonStream", Optional: true, When: RaceLike},
		{Jolpica: JolpicaLap1, Optional: true, When: func(_ int, s string) bool { return s == "Race" }},
		{Jolpica: JolpicaResults, Optional: true, When: func(y int, s string) bool { return JolpicaResultsPath(y, 1, s) != "" }},
	}},
	"drivers": {Name: "drivers", Version: 1, Feeds: []FeedNeed{
		{File: "DriverList.jsonStream"},
	}},
	"circuit": {Name: "circuit", Version: 1, PerEvent: true, Feeds: []FeedNeed{
		{MultiViewer: true},
		{File: "SessionInfo.jsonStream", Optional: true, KeyLookup: true},
	}},
}

// KindNames lists the known kinds, sorted.
func KindNames() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupKind returns the kind named name.
func LookupKind(name string) (Kind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// ParseKinds validates a kind list; empty means every kind. The result is
// sorted and free of duplicates.
func ParseKinds(list []string) ([]string, error) {
	if len(list) == 0 {
		return KindNames(), nil
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range list {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		if _, ok := kinds[k]; !ok {
			return nil, fmt.Errorf("unknown kind %q: use one of %s", k, strings.Join(KindNames(), ", "))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return KindNames(), nil
	}
	sort.Strings(out)
	return out, nil
}

// typicalSize orders feeds from cheapest to dearest (bytes, measured on
// recorded sessions).
var typicalSize = map[string]int{
	"SessionStatus.jsonStream":       300,
	"SessionInfo.jsonStream":         500,
	"TrackStatus.jsonStream":         600,
	"LapCount.jsonStream":            1700,
	JolpicaLap1:                      1800,
	"RaceControlMessages.jsonStream": 10000,
	JolpicaResults:                   12000,
	"WeatherData.jsonStream":         15000,
	"DriverList.jsonStream":          20000,
	MultiViewerCircuit:               16000,
	"TimingAppData.jsonStream":       70000,
	"TimingData.jsonStream":          1500000,
}

// Feed is one upstream document to load for a session.
type Feed struct {
	Name       string   // live-timing file name or Jolpica document name; the manifest's key
	Host       string   // upstream host
	Path       string   // URL path
	Optional   bool     // no kind needs it to run
	Kinds      []string // kinds that read it; RequiredBy those that cannot run without it
	RequiredBy []string
}

// Hosts of the upstream documents (the upstream package names them too).
const (
	LiveTimingHost  = "livetiming.formula1.com"
	JolpicaHost     = "api.jolpi.ca"
	MultiViewerHost = "api.multiviewer.app"
)

// CircuitPath is MultiViewer's path of a circuit layout.
func CircuitPath(key, year int) string { return fmt.Sprintf("/api/v1/circuits/%d/%d", key, year) }

// SessionFeeds lists the documents the given kinds need for one session,
// in fetch order: feeds some kind requires first, cheapest first, then the
// optional ones, cheapest first. archivePath is the session's path under
// /static/; circuitKey is the event's circuit key, 0 when the schedule
// does not know it: then the circuit layout's Path is empty, to be filled
// from SessionInfo by the loader, and it comes last.
func SessionFeeds(kindNames []string, year, round int, session, archivePath string, circuitKey int) []Feed {
	byName := map[string]*Feed{}
	var order []string
	for _, name := range kindNames {
		k, ok := kinds[name]
		if !ok {
			continue
		}
		for _, need := range k.Feeds {
			if need.When != nil && !need.When(year, session) || need.KeyLookup && circuitKey != 0 {
				continue
			}
			f := Feed{Name: need.File, Host: LiveTimingHost, Path: "/static/" + archivePath + need.File}
			switch need.Jolpica {
			case JolpicaLap1:
				f = Feed{Name: JolpicaLap1, Host: JolpicaHost, Path: fmt.Sprintf("/ergast/f1/%d/%d/laps/1.json", year, round)}
			case JolpicaResults:
				f = Feed{Name: JolpicaResults, Host: JolpicaHost, Path: JolpicaResultsPath(year, round, session)}
			}
			if need.MultiViewer {
				f = Feed{Name: MultiViewerCircuit, Host: MultiViewerHost}
				if circuitKey != 0 {
					f.Path = CircuitPath(circuitKey, year)
				}
			}
			have := byName[f.Name]
			if have == nil {
				f.Optional = true
				byName[f.Name] = &f
				order = append(order, f.Name)
				have = &f
			}
			have.Kinds = append(have.Kinds, name)
			if !need.Optional {
				have.Optional = false
				have.RequiredBy = append(have.RequiredBy, name)
			}
		}
	}
	out := make([]Feed, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Path == "") != (out[j].Path == "") {
			return out[j].Path == "" // a path still to learn goes last
		}
		if out[i].Optional != out[j].Optional {
			return !out[i].Optional
		}
		return typicalSize[out[i].Name] < typicalSize[out[j].Name]
	})
	return out
}

// Name is the feed's key in a manifest: its file or Jolpica document name.
func (n FeedNeed) Name() string {
	switch {
	case n.File != "":
		return n.File
	case n.MultiViewer:
		return MultiViewerCircuit
	}
	return n.Jolpica
}

// FeedsFor returns the feeds the kind reads for one session.
func (k Kind) FeedsFor(year int, session string) []FeedNeed {
	var out []FeedNeed
	for _, n := range k.Feeds {
		if n.When == nil || n.When(year, session) {
			out = append(out, n)
		}
	}
	return out
}
