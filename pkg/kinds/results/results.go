// Package results builds a session's results table, FastF1's
// Session.results, from the live-timing DriverList and the session's
// Jolpica (Ergast) results document, and writes it as FastF1's CSV.
//
// It is pure: no database, no network. The caller fetches the documents
// (which one: f1.JolpicaResultsPath) and passes their bodies in an [Input].
//
// How FastF1 (core.Session._load_drivers_results, main @ b1c23c2) builds
// the table, and so how [Build] does:
//
//   - The DriverList gives one row per driver declared in its first 60
//     minutes, in the order the stream first declares them: number,
//     broadcast name, abbreviation, team, team colour, first and last name,
//     headshot URL, country code; FullName is "FirstName LastName".
//   - The Jolpica document gives DriverId and TeamId, and the results:
//     Race and Practice 1-3 read results.json, Qualifying qualifying.json,
//     Sprint (and the race-like "Sprint Qualifying" of 2021-2023)
//     sprint.json. Practice sessions take only the two ids from the race's
//     document, never its results. Sprint Shootout, the quali-like Sprint
//     Qualifying (2024 on) and testing (round 0) have no document.
//   - Both present: the DriverList's identity fields win; ids and results
//     are joined by driver number. Race-like sessions and Qualifying keep
//     drivers found in only one source (an outer join: drivers that did not
//     start are in Jolpica only and get their names from it and no Position
//     or GridPosition); practice keeps the DriverList's drivers only.
//   - Rows are sorted by Position, missing positions last.
//   - Qualifying only: ClassifiedPosition is Position as Python prints a
//     float ("1.0"), or "N" (not classified) for a driver eliminated in Q1
//     slower than 107 % of the fastest Q1 time.
//
// Race Time is Jolpica's as FastF1 parses it: the winner's total race time,
// the others' gap to the winner, nothing for lapped or retired drivers.
// Q1-Q3 are the best times of each part. Position, GridPosition, Points and
// Laps are floats, as in FastF1.
//
// Not reproduced, because it needs the session's laps: when no Position
// came from Jolpica, FastF1's load() goes on to derive results from the
// laps. A race-like session gets Position from the final lap order; Build
// leaves it empty. Practice (Position, Time) and quali-like sprint sessions
// (Position, ClassifiedPosition, Q1-Q3) would too, but in the project's
// FastF1 reference (pandas 1.5) that step fails, so their cells are empty
// there, as in Build (see the README).
package results

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/pyrepr"
)

// Input is what Build reads for one session.
type Input struct {
	// Year and Round identify the event; Round 0 is pre-season testing,
	// which has no Jolpica document.
	Year, Round int
	// Session is FastF1's session name ("Practice 1", "Qualifying",
	// "Sprint Shootout", "Sprint Qualifying", "Sprint", "Race"); with Round
	// 0 any name is accepted (testing days).
	Session string
	// DriverList is the body of the session's DriverList.jsonStream; nil
	// when the archive has none (the table is then built from Jolpica alone,
	// as FastF1 does).
	DriverList []byte
	// Jolpica is the body of the session's Jolpica results document
	// (f1.JolpicaResultsPath); nil when there is none or it was not
	// published. It is ignored for sessions FastF1 reads no document for.
	Jolpica []byte
}

// Result is one row of the results table: one driver of the session.
//
// A nil pointer is a missing cell. FastF1's table spells some missing text
// cells "None" or "nan" (pandas artefacts); a Result made by Build remembers
// which, for WriteCSV.
type Result struct {
	// DriverNumber is the racing number, e.g. "44".
	DriverNumber string
	// BroadcastName is the timing-screen name, e.g. "L HAMILTON"
	// (DriverList).
	BroadcastName *string
	// Abbreviation is the three-letter code, e.g. "HAM" (DriverList; Jolpica
	// for a driver missing from the DriverList).
	Abbreviation *string
	// DriverID is Jolpica's driverId, e.g. "max_verstappen".
	DriverID *string
	// TeamName is the team as the DriverList names it (Jolpica's
	// constructor name for a driver missing from the DriverList).
	TeamName *string
	// TeamColor is the team colour, hex RGB without '#' as sent (case
	// varies by season).
	TeamColor *string
	// TeamID is Jolpica's constructorId, e.g. "red_bull".
	TeamID *string
	// FirstName and LastName are as sent, e.g. "Max", "Verstappen".
	FirstName, LastName *string
	// FullName is FirstName + " " + LastName; a name the DriverList never
	// sent reads "None" in it, as in FastF1.
	FullName *string
	// HeadshotURL is the headshot image URL (DriverList).
	HeadshotURL *string
	// CountryCode is the three-letter country code, e.g. "NED"; streams
	// before 2022 and since 2025 have none.
	CountryCode *string
	// Position is the final position (float, e.g. 1.0); nil for practice,
	// quali-like sprint sessions, sessions without a Jolpica document and
	// drivers missing from one source.
	Position *float64
	// ClassifiedPosition is Jolpica's positionText for race-like sessions:
	// "1".."20", or R retired, D disqualified, E excluded, W withdrawn, F
	// failed to qualify, N not classified. For Qualifying it is Position as
	// Python prints a float ("1.0") or "N" (107 % rule).
	ClassifiedPosition *string
	// GridPosition is the starting position of a race-like session (float;
	// 0.0 is a pit-lane start).
	GridPosition *float64
	// Q1, Q2 and Q3 are the best lap of each part of Qualifying.
	Q1, Q2, Q3 *time.Duration
	// Time is, in race-like sessions, the winner's total race time and the
	// other drivers' gap to the winner; nil for lapped and retired drivers.
	Time *time.Duration
	// Status is the race-like session's finishing status, e.g. "Finished",
	// "+1 Lap", "Collision".
	Status *string
	// Points are the points scored (float, e.g. 25.0).
	Points *float64
	// Laps is the number of laps completed (float).
	Laps *float64

	// gaps says, per text column (colXxx), how FastF1's table spells the
	// cell when it is nil.
	gaps [numText]gap
}

// ErrDriverList marks a DriverList body Build cannot read (no decodable
// line, no driver declared in its first 60 minutes). FastF1 then builds the
// table from Jolpica alone; pass a nil DriverList to do the same.
var ErrDriverList = errors.New("results: unreadable DriverList")

// ErrJolpica marks a Jolpica body Build cannot read (not JSON, not
// Jolpica's envelope, a result without a driver number). FastF1 then
// builds the table from the DriverList alone; pass a nil Jolpica to do the
// same.
var ErrJolpica = errors.New("results: unreadable Jolpica document")

// ErrSession marks a session name Build does not know for a round other
// than 0.
var ErrSession = errors.New("results: unknown session")

// Build returns the session's results table as FastF1 builds it from the
// DriverList and the Jolpica document (see the package doc), sorted by
// Position with missing positions last, ties and missing positions in
// FastF1's row order. With neither document it returns no rows and no error
// (FastF1's empty table). It fails with an error wrapping ErrDriverList,
// ErrJolpica or ErrSession; it never fails because a document is nil.
// Build only reads in's bodies and keeps no reference to them; it is safe
// for concurrent use.
func Build(in Input) ([]Result, error) {
	kind, err := classify(in.Year, in.Round, in.Session)
	if err != nil {
		return nil, err
	}
	var fromF1 []Result
	if in.DriverList != nil {
		if fromF1, err = driverListRows(in.DriverList); err != nil {
			return nil, err
		}
	}
	var fromJolpica []Result
	if in.Jolpica != nil && kind.list != "" {
		if fromJolpica, err = jolpicaRows(in.Jolpica, kind); err != nil {
			return nil, err
		}
	}

	var rows []Result
	switch {
	case len(fromF1) == 0 && len(fromJolpica) == 0:
		return []Result{}, nil
	case len(fromJolpica) == 0:
		rows = fromF1
		castText(rows)
	case len(fromF1) == 0:
		rows = fromJolpica
		castText(rows)
	default:
		rows = join(fromF1, fromJolpica, kind.keepJolpicaOnly)
	}
	if in.Session == "Qualifying" {
		classifyQualifying(rows)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].Position, rows[j].Position
		return a != nil && (b == nil || *a < *b)
	})
	return rows, nil
}

// sessionKind says how FastF1 treats a session.
type sessionKind struct {
	// list is the Jolpica document's result list Build reads ("Results",
	// "QualifyingResults", "SprintResults"), "" for none.
	list string
	// results: the document's results are used, not only the driver ids
	// (false for practice, which reads the race's document).
	results bool
	// raceLike: race columns (ClassifiedPosition, GridPosition, Status,
	// Points, Time, Laps); otherwise qualifying columns (Q1-Q3).
	raceLike bool
	// keepJolpicaOnly: an outer join that keeps drivers found only in the
	// Jolpica document (race-like sessions and Qualifying).
	keepJolpicaOnly bool
}

// classify tells how FastF1 treats the session (Session.__init__'s
// race-like and quali-like lists, _drivers_results_from_ergast).
func classify(year, round int, session string) (sessionKind, error) {
	if round == 0 {
		return sessionKind{}, nil // testing: FastF1 reads no Jolpica document
	}
	switch {
	case f1.RaceLike(year, session):
		list := "Results"
		if session != "Race" {
			list = "SprintResults"
		}
		return sessionKind{list: list, results: true, raceLike: true, keepJolpicaOnly: true}, nil
	case session == "Qualifying":
		return sessionKind{list: "QualifyingResults", results: true, keepJolpicaOnly: true}, nil
	case session == "Sprint Shootout" || session == "Sprint Qualifying":
		return sessionKind{}, nil // quali-like sprint sessions: Jolpica has none
	case session == "Practice 1" || session == "Practice 2" || session == "Practice 3":
		return sessionKind{list: "Results"}, nil
	}
	return sessionKind{}, fmt.Errorf("%w %q for round %d", ErrSession, session, round)
}

// Text columns of Result, in CSV order; index into Result.gaps.
const (
	colBroadcastName = iota
	colAbbreviation
	colDriverID
	colTeamName
	colTeamColor
	colTeamID
	colFirstName
	colLastName
	colFullName
	colHeadshotURL
	colCountryCode
	colClassifiedPosition
	colStatus
	numText
)

// text returns pointers to r's text fields, indexed by colXxx.
func (r *Result) text() [numText]**string {
	return [numText]**string{&r.BroadcastName, &r.Abbreviation, &r.DriverID, &r.TeamName, &r.TeamColor,
		&r.TeamID, &r.FirstName, &r.LastName, &r.FullName, &r.HeadshotURL, &r.CountryCode,
		&r.ClassifiedPosition, &r.Status}
}

// gap is how FastF1's table holds a text cell without a value. pandas
// turns every text column into str once the table is assembled: a column
// without any value becomes empty strings, otherwise Python's None becomes
// "None" and NaN "nan". A gap made after that stays NaN, an empty CSV cell.
type gap uint8

const (
	// gapEmpty: written as an empty cell (a column without any value, or a
	// NaN set after the cast). The zero value.
	gapEmpty gap = iota
	// gapNone: "None", a field the DriverList never sent for this driver.
	gapNone
	// gapNaN: "nan", a cell the join found no value for (or a NaN made
	// text, Qualifying's ClassifiedPosition without a Position).
	gapNaN
)

// textColumns are the CSV names of the text columns, indexed by colXxx.
var textColumns = [numText]string{"BroadcastName", "Abbreviation", "DriverId", "TeamName", "TeamColor",
	"TeamId", "FirstName", "LastName", "FullName", "HeadshotUrl", "CountryCode", "ClassifiedPosition", "Status"}

// MissingAs says how FastF1's table writes r's missing text cells when
// not as an empty cell: CSV column name → "None" or "nan" (see gap). With
// SetMissingAs it lets a stored result be written back byte for byte.
func (r *Result) MissingAs() map[string]string {
	out := map[string]string{}
	t := r.text()
	for c := range numText {
		if *t[c] == nil && r.gaps[c] != gapEmpty {
			out[textColumns[c]] = r.gaps[c].spell()
		}
	}
	return out
}

// SetMissingAs restores what MissingAs returned; other columns read as
// empty cells, unknown names and spellings are ignored.
func (r *Result) SetMissingAs(m map[string]string) {
	for c := range numText {
		switch m[textColumns[c]] {
		case "None":
			r.gaps[c] = gapNone
		case "nan":
			r.gaps[c] = gapNaN
		default:
			r.gaps[c] = gapEmpty
		}
	}
}

// spell is the CSV text of a missing cell.
func (g gap) spell() string {
	switch g {
	case gapNone:
		return "None"
	case gapNaN:
		return "nan"
	}
	return ""
}

// castText applies the cast of FastF1's SessionResults constructor to the
// text columns: a column missing in every row is written empty; in the
// other columns the gaps keep their None/NaN spelling.
func castText(rows []Result) {
	for c := 0; c < numText; c++ {
		empty := true
		for i := range rows {
			if *rows[i].text()[c] != nil {
				empty = false
				break
			}
		}
		if empty {
			for i := range rows {
				rows[i].gaps[c] = gapEmpty
			}
		}
	}
}

// joinedText are the text columns a join takes from the Jolpica row; the
// DriverList row keeps the others.
var joinedText = []int{colDriverID, colTeamID, colClassifiedPosition, colStatus}

// sharedText are the identity columns a driver found only in the Jolpica
// document takes from it after the cast (FastF1's shared_cols).
var sharedText = []int{colAbbreviation, colFirstName, colLastName, colTeamName, colFullName}

// join merges DriverList rows with Jolpica rows by driver number as
// FastF1's driver_info_f1.join(ergast, how=...) does, casts the text
// columns, then completes the drivers found only in Jolpica. outer keeps
// those drivers, and then pandas orders the rows by driver number as text,
// unless both sources list the same numbers in the same order; otherwise
// the DriverList's order is kept.
func join(fromF1, fromJolpica []Result, outer bool) []Result {
	byNumber := make(map[string]*Result, len(fromJolpica))
	for i := range fromJolpica {
		if _, dup := byNumber[fromJolpica[i].DriverNumber]; !dup {
			byNumber[fromJolpica[i].DriverNumber] = &fromJolpica[i]
		}
	}
	rows := make([]Result, 0, len(fromF1)+len(fromJolpica))
	inF1 := make(map[string]bool, len(fromF1))
	for _, r := range fromF1 {
		inF1[r.DriverNumber] = true
		if j := byNumber[r.DriverNumber]; j != nil {
			takeResults(&r, j)
		}
		rows = append(rows, r)
	}
	var jolpicaOnly []*Result
	if outer {
		for i := range fromJolpica {
			j := &fromJolpica[i]
			if inF1[j.DriverNumber] || byNumber[j.DriverNumber] != j {
				continue
			}
			r := Result{DriverNumber: j.DriverNumber}
			for c := range r.gaps {
				r.gaps[c] = gapNaN
			}
			takeResults(&r, j)
			rows = append(rows, r)
			jolpicaOnly = append(jolpicaOnly, j)
		}
		if !sameOrder(fromF1, fromJolpica) {
			sort.SliceStable(rows, func(a, b int) bool { return rows[a].DriverNumber < rows[b].DriverNumber })
		}
	}
	castText(rows)
	for _, j := range jolpicaOnly {
		i := slices.IndexFunc(rows, func(r Result) bool { return r.DriverNumber == j.DriverNumber })
		r := &rows[i]
		for _, c := range sharedText {
			*r.text()[c] = *j.text()[c]
			r.gaps[c] = gapEmpty
		}
		r.Position, r.GridPosition = nil, nil
	}
	return rows
}

// takeResults copies the columns a join takes from Jolpica row j into r.
func takeResults(r, j *Result) {
	for _, c := range joinedText {
		*r.text()[c] = *j.text()[c]
		r.gaps[c] = j.gaps[c]
	}
	r.Position, r.GridPosition, r.Points, r.Laps = j.Position, j.GridPosition, j.Points, j.Laps
	r.Q1, r.Q2, r.Q3, r.Time = j.Q1, j.Q2, j.Q3, j.Time
}

// sameOrder reports whether both sources list the same driver numbers in
// the same order (pandas' outer join then keeps that order).
func sameOrder(a, b []Result) bool {
	return slices.EqualFunc(a, b, func(x, y Result) bool { return x.DriverNumber == y.DriverNumber })
}

// classifyQualifying sets Qualifying's ClassifiedPosition as FastF1 does
// after joining: Position as Python's str of a float ("1.0", "nan"), "N"
// for a driver without a Q2 time whose Q1 time is slower than 107 % of the
// fastest Q1 (pandas multiplies the nanoseconds and truncates).
func classifyQualifying(rows []Result) {
	var fastest *time.Duration
	for i := range rows {
		if q := rows[i].Q1; q != nil && (fastest == nil || *q < *fastest) {
			fastest = q
		}
	}
	var limit time.Duration
	if fastest != nil {
		limit = time.Duration(float64(*fastest) * 1.07)
	}
	for i := range rows {
		r := &rows[i]
		r.ClassifiedPosition, r.gaps[colClassifiedPosition] = nil, gapNaN
		switch {
		case fastest != nil && r.Q1 != nil && r.Q2 == nil && *r.Q1 > limit:
			r.ClassifiedPosition = ptr("N")
		case r.Position != nil && !math.IsNaN(*r.Position):
			r.ClassifiedPosition = ptr(pyrepr.Float(*r.Position))
		}
	}
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
