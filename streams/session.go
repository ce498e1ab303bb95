package streams

import (
	"fmt"
	"strings"
)

// SessionKey names one session: the natural key of every session-level
// message, row, log line and error. Round is the championship round, or
// -1, -2, ... for the season's testing events; Session is FastF1's name
// ("Qualifying", "Practice 2", "Day 1"). A season-level message (a
// schedule load) has only Year.
//
// It is embedded in the messages, so their JSON keeps the flat fields
// "year", "round" and "session".
type SessionKey struct {
	Year    int    `json:"year"`
	Round   int    `json:"round,omitempty"`
	Session string `json:"session,omitempty"`
}

// Key returns the session key of year, round and session.
func Key(year, round int, session string) SessionKey {
	return SessionKey{Year: year, Round: round, Session: session}
}

// String is the key as logs, errors and run accounting write it:
// "2019/14/Qualifying", "2024/-1/Day 1", or "2019" for a season.
func (k SessionKey) String() string {
	if k.Session == "" && k.Round == 0 {
		return fmt.Sprint(k.Year)
	}
	return fmt.Sprintf("%d/%d/%s", k.Year, k.Round, k.Session)
}

// Event is the key of the session's event (Session empty).
func (k SessionKey) Event() SessionKey { return SessionKey{Year: k.Year, Round: k.Round} }

// SessionName is a session name as FastF1 spells it with its short code.
type SessionName struct{ Name, Code string }

// SessionNames lists the championship weekend's session names with their
// short codes, in weekend order.
func SessionNames() []SessionName { return append([]SessionName(nil), sessionCodes...) }

var sessionCodes = []SessionName{
	{"Practice 1", "FP1"},
	{"Practice 2", "FP2"},
	{"Practice 3", "FP3"},
	{"Sprint Shootout", "SS"},
	{"Sprint Qualifying", "SQ"},
	{"Qualifying", "Q"},
	{"Sprint", "S"},
	{"Race", "R"},
}

// Code is the session's short code as subjects carry it (FP1, Q, SQ, SS,
// S, R); a name without one (a testing day) is made subject-safe instead
// ("Day_1").
func (k SessionKey) Code() string {
	for _, x := range sessionCodes {
		if x.Name == k.Session {
			return x.Code
		}
	}
	return subjectSafe.Replace(k.Session)
}

var subjectSafe = strings.NewReplacer(" ", "_", ".", "_", "*", "_", ">", "_")
