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
	// Feeds are the live-timing feed files the kind reads, required first.
	Feeds []FeedNeed
}

// FeedNeed is a feed a kind reads. A kind is unavailable when a required
// feed is missing upstream; an optional feed only enriches it.
type FeedNeed struct {
	File     string
	Optional bool
}

// Kinds known to this build, by name.
var kinds = map[string]Kind{
	"weather": {Name: "weather", Version: 1, Feeds: []FeedNeed{
		{File: "WeatherData.jsonStream"},
		// RaceControlMessages pairs stream offsets with UTC: the clock of the samples.
		{File: "RaceControlMessages.jsonStream", Optional: true},
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
// recorded sessions), so an unavailable session is found out with the
// smallest download.
var typicalSize = map[string]int{
	"SessionStatus.jsonStream":       300,
	"SessionInfo.jsonStream":         500,
	"TrackStatus.jsonStream":         600,
	"LapCount.jsonStream":            1700,
	"RaceControlMessages.jsonStream": 10000,
	"WeatherData.jsonStream":         15000,
	"DriverList.jsonStream":          20000,
	"TimingAppData.jsonStream":       70000,
	"TimingData.jsonStream":          1500000,
}

// FeedPlan lists the feeds the given kinds need, in fetch order: required
// feeds first, cheapest first, then optional feeds. A feed required by one
// kind and optional for another counts as required.
func FeedPlan(kindNames []string) []FeedNeed {
	need := map[string]bool{} // file -> optional
	for _, name := range kindNames {
		k, ok := kinds[name]
		if !ok {
			continue
		}
		for _, f := range k.Feeds {
			opt, seen := need[f.File]
			if !seen {
				need[f.File] = f.Optional
			} else {
				need[f.File] = opt && f.Optional
			}
		}
	}
	out := make([]FeedNeed, 0, len(need))
	for f, opt := range need {
		out = append(out, FeedNeed{File: f, Optional: opt})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Optional != out[j].Optional {
			return !out[i].Optional
		}
		si, sj := typicalSize[out[i].File], typicalSize[out[j].File]
		if si != sj {
			return si < sj
		}
		return out[i].File < out[j].File
	})
	return out
}
