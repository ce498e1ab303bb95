// Package schedule builds a season's event schedule from three public
// sources and merges them: the F1 live-timing season Index.json, FastF1's
// f1schedule file and Jolpica-F1's season list.
//
// Index.json is preferred per field (exact archive paths, session keys,
// circuit), then f1schedule (local times, formats, official names), then
// Jolpica (race date/time, names), so a year missing from one source is still
// complete. Every session gets an archive Path: verbatim from Index.json where
// present, otherwise derived the way FastF1 builds it (see DerivePath).
package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Event formats.
const (
	FormatConventional     = "conventional"
	FormatSprint           = "sprint"
	FormatSprintShootout   = "sprint_shootout"
	FormatSprintQualifying = "sprint_qualifying"
	FormatTesting          = "testing"
)

// Season is one year's schedule.
type Season struct {
	Year    int
	Events  []Event  // in date order; testing events have Round 0
	Sources []string // upstream hosts that contributed, in preference order
}

// Event is one meeting: a race weekend or a testing event.
type Event struct {
	Round        int // championship round; 0 for testing
	Name         string
	OfficialName string
	Country      string
	Location     string
	CircuitKey   int    // F1 circuit key from Index.json, else 0
	CircuitName  string // F1 circuit short name from Index.json, else ""
	MeetingKey   int    // F1 meeting key from Index.json, else 0
	Format       string // one of the Format* constants
	Sessions     []Session
}

// Session is one session of an event.
type Session struct {
	// Name in FastF1 spelling: "Practice 1".."Practice 3", "Qualifying",
	// "Sprint", "Sprint Shootout", "Sprint Qualifying", "Race"; testing
	// sessions as the source names them. The 2021 sprint, which the F1 feed
	// calls "Sprint Qualifying", is named "Sprint" as FastF1 does.
	Name      string
	Number    int           // 1-based position in the weekend (by start time)
	Key       int           // F1 session key, 0 when unknown
	Start     time.Time     // UTC; a date-only source gives midnight UTC
	End       time.Time     // UTC; zero when unknown
	GMTOffset time.Duration // local offset from UTC; 0 when unknown
	// Path is the archive path relative to /static/, e.g.
	// "2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/".
	Path          string
	PathFromIndex bool // true when taken verbatim from Index.json, false when derived
}

// ParseError is a body of one source that could not be understood.
type ParseError struct {
	Source string // "Index.json", "f1schedule" or "Jolpica"
	Err    error
}

// Error names the source and the problem.
func (e *ParseError) Error() string { return "schedule: parse " + e.Source + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// IndexPath is the live-timing path of the season index (host
// upstream.LiveTiming; the client falls back to the mirror).
func IndexPath(year int) string { return fmt.Sprintf("/static/%d/Index.json", year) }

// F1SchedulePath is the path of FastF1's schedule file (host upstream.GitHubRaw).
func F1SchedulePath(year int) string {
	return fmt.Sprintf("/theOehrly/f1schedule/master/schedule_%d.json", year)
}

// JolpicaPath is the path of Jolpica's season list (host upstream.Jolpica).
func JolpicaPath(year int) string { return fmt.Sprintf("/ergast/f1/%d.json", year) }

// DerivePath builds a session's archive path (relative to /static/) as FastF1
// does: "{year}/{EventDate}_{Event_Name}/{SessionDate}_{Session_Name}/" with
// dates as YYYY-MM-DD and spaces replaced by "_". eventDate is the local start
// of the event's last session (race day) and sessionLocal the local start of
// the session; only their dates are used, except for the rules below.
//
// Rules learned from the archive, applied generally:
//   - A "Qualifying" on race day starting less than 12 hours before the last
//     session was postponed (Suzuka 2019, Interlagos 2024); the archive keeps
//     it under the original date, the day before race day.
//   - In 2021 the sprint ("Sprint") is archived as "Sprint_Qualifying".
//   - From 2025 on, a testing event's (name containing "Test") "Practice N"
//     sessions are archived as "Day_N".
func DerivePath(year int, eventName string, eventDate time.Time, sessionName string, sessionLocal time.Time) string {
	sd := sessionLocal
	if sessionName == "Qualifying" && sameDate(sd, eventDate) && eventDate.Sub(sd) < 12*time.Hour {
		sd = sd.AddDate(0, 0, -1)
	}
	name := sessionName
	if year == 2021 && name == "Sprint" {
		name = "Sprint Qualifying"
	}
	if year >= 2025 && strings.Contains(strings.ToLower(eventName), "test") && strings.HasPrefix(name, "Practice ") {
		name = "Day " + strings.TrimPrefix(name, "Practice ")
	}
	return fmt.Sprintf("%d/%s_%s/%s_%s/", year, eventDate.Format("2006-01-02"), underscore(eventName),
		sd.Format("2006-01-02"), underscore(name))
}

func underscore(s string) string { return strings.ReplaceAll(s, " ", "_") }

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// deriveFormat infers an event format from its session names.
func deriveFormat(year int, testing bool, sessions []Session) string {
	if testing {
		return FormatTesting
	}
	has := map[string]bool{}
	for _, s := range sessions {
		has[s.Name] = true
	}
	switch {
	case has["Sprint Shootout"]:
		return FormatSprintShootout
	case has["Sprint Qualifying"] && year >= 2024:
		return FormatSprintQualifying
	case has["Sprint"] || has["Sprint Qualifying"]:
		return FormatSprint
	}
	return FormatConventional
}

// isTestingName reports whether an event name denotes pre-season testing.
func isTestingName(name string) bool { return strings.Contains(strings.ToLower(name), "test") }

// local is the session's local wall-clock start.
func (s Session) local() time.Time { return s.Start.Add(s.GMTOffset) }

// finish sorts sessions by start, numbers them and fills derived paths using
// the event's name and race-day date.
func finish(year int, ev *Event) {
	sortSessions(ev.Sessions)
	var last time.Time
	for i := range ev.Sessions {
		ev.Sessions[i].Number = i + 1
		if l := ev.Sessions[i].local(); l.After(last) || i == 0 {
			last = l
		}
	}
	for i := range ev.Sessions {
		s := &ev.Sessions[i]
		if !s.PathFromIndex {
			s.Path = DerivePath(year, ev.Name, last, s.Name, s.local())
		}
	}
}

// firstStart and lastStart give an event's UTC span (zero if no sessions).
func (e Event) firstStart() time.Time {
	if len(e.Sessions) == 0 {
		return time.Time{}
	}
	return e.Sessions[0].Start
}

func (e Event) lastStart() time.Time {
	var t time.Time
	for _, s := range e.Sessions {
		if s.Start.After(t) {
			t = s.Start
		}
	}
	return t
}
