// Package f1 is paddock's vocabulary of the sport's data: session keys,
// session names as FastF1 spells them and their short codes, the upstream
// documents a kind can read and the order a session's feeds are fetched
// in. The kinds themselves are in package kinds.
package f1

import (
	"fmt"
	"sort"
	"strings"

	"github.com/paddock-f1/paddock/streams"
)

// FirstYear is the first season the live-timing archive holds; earlier
// sessions are unavailable without asking anyone.
const FirstYear = 2018

// MaxRound bounds round numbers in plan commands; no season has had more.
const MaxRound = 30

// MaxTests bounds testing events in plan commands: they are rounds -1 to
// -MaxTests.
const MaxTests = 5

// SessionKey names one session (year, round, FastF1's session name); see
// streams.SessionKey.
type SessionKey = streams.SessionKey

// Key returns the session key of year, round and session.
func Key(year, round int, session string) SessionKey { return streams.Key(year, round, session) }

// Session names as FastF1 spells them, with their short codes.
var sessions = streams.SessionNames()

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
func SessionCode(name string) string { return SessionKey{Session: name}.Code() }

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
	// Stream marks a feed read as a stream (kind.Session.Open), never
	// whole into memory: the telemetry streams, tens of MB each.
	Stream bool
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

// KindNeeds are the feeds one kind reads.
type KindNeeds struct {
	Kind  string
	Feeds []FeedNeed
}

// SessionFeeds lists the documents the given kinds need for one session,
// in fetch order: feeds some kind requires first, cheapest first, then the
// optional ones, cheapest first; a feed several kinds read is listed once.
// archivePath is the session's path under /static/; circuitKey is the
// event's circuit key, 0 when the schedule does not know it: then the
// circuit layout's Path is empty, to be filled from SessionInfo by the
// loader, and it comes last.
func SessionFeeds(kinds []KindNeeds, year, round int, session, archivePath string, circuitKey int) []Feed {
	byName := map[string]*Feed{}
	var order []string
	for _, k := range kinds {
		name := k.Kind
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

// HasJolpicaResults reports whether Jolpica has a results document for
// the session (see JolpicaResultsPath).
func HasJolpicaResults(year int, session string) bool {
	return JolpicaResultsPath(year, 1, session) != ""
}

// MugelloFeedKey is the circuit key the live-timing feed wrongly gives
// Mugello (2020 Tuscan Grand Prix); MugelloKey is the key MultiViewer uses.
const (
	MugelloFeedKey = 149
	MugelloKey     = 146
)

// CorrectCircuitKey returns the MultiViewer circuit key for a live-timing
// SessionInfo.Meeting.Circuit Key and ShortName, applying FastF1's only
// correction (core.Session.get_circuit_info): key 149 with short name
// "Mugello" (exact, case-sensitive match) becomes 146. Any other key is
// returned unchanged.
func CorrectCircuitKey(key int, shortName string) int {
	if key == MugelloFeedKey && shortName == "Mugello" {
		return MugelloKey
	}
	return key
}
