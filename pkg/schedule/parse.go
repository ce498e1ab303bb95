package schedule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/upstream"
)

const localLayout = "2006-01-02T15:04:05"

func sortSessions(ss []Session) {
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].Start.Before(ss[j].Start) })
}

// parseOffset reads "02:00:00", "-04:00:00" (Index.json) or "+03:00"
// (f1schedule).
func parseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	sign := time.Duration(1)
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("bad GMT offset %q", s)
	}
	var d time.Duration
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad GMT offset %q", s)
		}
		d += time.Duration(n) * units[i]
	}
	return sign * d, nil
}

// ---- Index.json ----

type indexJSON struct {
	Year     int `json:"Year"`
	Meetings []struct {
		Key          int    `json:"Key"`
		Number       int    `json:"Number"`
		Name         string `json:"Name"`
		OfficialName string `json:"OfficialName"`
		Location     string `json:"Location"`
		Country      struct {
			Name string `json:"Name"`
		} `json:"Country"`
		Circuit struct {
			Key       int    `json:"Key"`
			ShortName string `json:"ShortName"`
		} `json:"Circuit"`
		Sessions []struct {
			Key       int     `json:"Key"`
			Type      string  `json:"Type"`
			Name      string  `json:"Name"`
			StartDate string  `json:"StartDate"`
			EndDate   *string `json:"EndDate"`
			GmtOffset string  `json:"GmtOffset"`
			Path      string  `json:"Path"`
		} `json:"Sessions"`
	} `json:"Meetings"`
}

// ParseIndex parses a live-timing season Index.json (UTF-8 BOM allowed).
//
// Sessions with Key -1 (placeholders) and sessions archived outside the public
// tree (a Path starting with "../", e.g. FOM's 2022 track test listed in 2021)
// are skipped, as are meetings left without sessions. Meetings whose name
// contains "Test" are testing (Round 0). Rounds are assigned 1.. by date to the
// other meetings: the feed's Meeting.Number is not the championship round
// (2023 keeps the cancelled Imola's number, 2022 numbers its test 2). A session
// without Path gets a derived one (PathFromIndex false). Errors are
// *ParseError with Source "Index.json".
func ParseIndex(body []byte) (*Season, error) {
	fail := func(err error) (*Season, error) { return nil, &ParseError{Source: "Index.json", Err: err} }
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	var ix indexJSON
	if err := json.Unmarshal(body, &ix); err != nil {
		return fail(err)
	}
	if ix.Year <= 0 {
		return fail(errors.New("no Year"))
	}
	season := &Season{Year: ix.Year, Sources: []string{upstream.LiveTiming}}
	for _, m := range ix.Meetings {
		testing := isTestingName(m.Name)
		ev := Event{
			Name: m.Name, OfficialName: m.OfficialName, Country: m.Country.Name, Location: m.Location,
			CircuitKey: m.Circuit.Key, CircuitName: m.Circuit.ShortName, MeetingKey: m.Key,
		}
		for _, s := range m.Sessions {
			if s.Key == -1 || strings.HasPrefix(s.Path, "../") {
				continue
			}
			name := s.Name
			if name == "" {
				name = s.Type
			}
			if ix.Year == 2021 && name == "Sprint Qualifying" {
				name = "Sprint"
			}
			off, err := parseOffset(s.GmtOffset)
			if err != nil {
				return fail(fmt.Errorf("meeting %d session %d: %w", m.Key, s.Key, err))
			}
			start, err := time.Parse(localLayout, s.StartDate)
			if err != nil {
				return fail(fmt.Errorf("meeting %d session %d: StartDate: %w", m.Key, s.Key, err))
			}
			sess := Session{Name: name, Key: s.Key, Start: start.Add(-off), GMTOffset: off, Path: s.Path, PathFromIndex: s.Path != ""}
			if s.EndDate != nil && *s.EndDate != "" {
				end, err := time.Parse(localLayout, *s.EndDate)
				if err != nil {
					return fail(fmt.Errorf("meeting %d session %d: EndDate: %w", m.Key, s.Key, err))
				}
				sess.End = end.Add(-off)
			}
			ev.Sessions = append(ev.Sessions, sess)
		}
		if len(ev.Sessions) == 0 {
			continue
		}
		ev.Format = deriveFormat(ix.Year, testing, ev.Sessions)
		finish(ix.Year, &ev)
		season.Events = append(season.Events, ev)
	}
	numberRounds(season)
	return season, nil
}

// numberRounds sorts events by date and numbers non-testing ones 1...
func numberRounds(s *Season) {
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].firstStart().Before(s.Events[j].firstStart()) })
	r := 0
	for i := range s.Events {
		if s.Events[i].Format == FormatTesting {
			s.Events[i].Round = 0
			continue
		}
		r++
		s.Events[i].Round = r
	}
}

// ---- f1schedule ----

// ParseF1Schedule parses FastF1's f1schedule file, a pandas dict of columns
// keyed by row index ("0", "1", ...). Session dates are local and converted to
// UTC with the event's gmt_offset; empty or null session slots are skipped
// (e.g. 2020 Imola has only three sessions). Round 0 is testing. The season
// year is taken from the first event date. Errors are *ParseError with Source
// "f1schedule".
func ParseF1Schedule(body []byte) (*Season, error) {
	fail := func(err error) (*Season, error) { return nil, &ParseError{Source: "f1schedule", Err: err} }
	var cols map[string]map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte("\uFEFF")), &cols); err != nil {
		return fail(err)
	}
	rounds, ok := cols["round_number"]
	if !ok {
		return fail(errors.New("no round_number column"))
	}
	for _, c := range []string{"event_name", "gmt_offset"} {
		if _, ok := cols[c]; !ok {
			return fail(fmt.Errorf("no %s column", c))
		}
	}
	rows := make([]int, 0, len(rounds))
	for k := range rounds {
		n, err := strconv.Atoi(k)
		if err != nil {
			return fail(fmt.Errorf("bad row key %q", k))
		}
		rows = append(rows, n)
	}
	slices.Sort(rows)
	str := func(col string, row string) string {
		v, _ := cols[col][row].(string)
		return v
	}
	season := &Season{Sources: []string{upstream.GitHubRaw}}
	for _, r := range rows {
		row := strconv.Itoa(r)
		rn, ok := rounds[row].(float64)
		if !ok {
			return fail(fmt.Errorf("row %s: round_number is %T", row, rounds[row]))
		}
		off, err := parseOffset(str("gmt_offset", row))
		if err != nil {
			return fail(fmt.Errorf("row %s: %w", row, err))
		}
		ev := Event{
			Round: int(rn), Name: str("event_name", row), OfficialName: str("official_event_name", row),
			Country: str("country", row), Location: str("location", row), Format: str("event_format", row),
		}
		for i := 1; i <= 5; i++ {
			name, date := str(fmt.Sprintf("session%d", i), row), str(fmt.Sprintf("session%d_date", i), row)
			if name == "" || date == "" {
				continue
			}
			local, err := time.Parse(localLayout, date)
			if err != nil {
				return fail(fmt.Errorf("row %s: session%d_date: %w", row, i, err))
			}
			ev.Sessions = append(ev.Sessions, Session{Name: name, Start: local.Add(-off), GMTOffset: off})
		}
		if len(ev.Sessions) == 0 {
			continue
		}
		if season.Year == 0 {
			season.Year = ev.Sessions[0].local().Year()
		}
		if ev.Format == "" {
			ev.Format = deriveFormat(season.Year, ev.Round == 0, ev.Sessions)
		}
		if ev.Format == FormatTesting {
			ev.Round = 0
		}
		season.Events = append(season.Events, ev)
	}
	if season.Year == 0 {
		return fail(errors.New("no events with sessions"))
	}
	for i := range season.Events {
		finish(season.Year, &season.Events[i])
	}
	return season, nil
}

// ---- Jolpica ----

type jolpicaWhen struct {
	Date string `json:"date"`
	Time string `json:"time"`
}

type jolpicaJSON struct {
	MRData *struct {
		RaceTable struct {
			Season string `json:"season"`
			Races  []struct {
				Season   string `json:"season"`
				Round    string `json:"round"`
				RaceName string `json:"raceName"`
				Circuit  struct {
					Location struct {
						Locality string `json:"locality"`
						Country  string `json:"country"`
					} `json:"Location"`
				} `json:"Circuit"`
				jolpicaWhen
				FirstPractice    *jolpicaWhen `json:"FirstPractice"`
				SecondPractice   *jolpicaWhen `json:"SecondPractice"`
				ThirdPractice    *jolpicaWhen `json:"ThirdPractice"`
				SprintShootout   *jolpicaWhen `json:"SprintShootout"`
				SprintQualifying *jolpicaWhen `json:"SprintQualifying"`
				Qualifying       *jolpicaWhen `json:"Qualifying"`
				Sprint           *jolpicaWhen `json:"Sprint"`
			} `json:"Races"`
		} `json:"RaceTable"`
	} `json:"MRData"`
}

func (w jolpicaWhen) utc() (time.Time, error) {
	if w.Time == "" {
		return time.Parse("2006-01-02", w.Date)
	}
	return time.Parse(time.RFC3339, w.Date+"T"+w.Time)
}

// firstChampionship is the first season of the championship: a season
// before it is not a season.
const firstChampionship = 1950

// ParseJolpica parses Jolpica's season list (/ergast/f1/{year}.json). Times
// are UTC; sessions given with a date only start at midnight UTC. Local
// offsets are unknown (GMTOffset 0), so derived paths use UTC dates, as FastF1
// does without local times. Jolpica has no testing. Errors are *ParseError
// with Source "Jolpica".
func ParseJolpica(body []byte) (*Season, error) {
	fail := func(err error) (*Season, error) { return nil, &ParseError{Source: "Jolpica", Err: err} }
	var j jolpicaJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return fail(err)
	}
	if j.MRData == nil {
		return fail(errors.New("no MRData"))
	}
	rt := j.MRData.RaceTable
	year, err := strconv.Atoi(rt.Season)
	if err != nil || year < firstChampionship {
		return fail(fmt.Errorf("bad season %q", rt.Season))
	}
	season := &Season{Year: year, Sources: []string{upstream.Jolpica}}
	for _, r := range rt.Races {
		round, err := strconv.Atoi(r.Round)
		if err != nil {
			return fail(fmt.Errorf("race %q: bad round %q", r.RaceName, r.Round))
		}
		ev := Event{Round: round, Name: r.RaceName, Country: r.Circuit.Location.Country, Location: r.Circuit.Location.Locality}
		// Insertion order breaks ties between date-only sessions of one day.
		for _, s := range []struct {
			name string
			when *jolpicaWhen
		}{
			{"Practice 1", r.FirstPractice}, {"Practice 2", r.SecondPractice}, {"Practice 3", r.ThirdPractice},
			{"Sprint Shootout", r.SprintShootout}, {"Sprint Qualifying", r.SprintQualifying},
			{"Qualifying", r.Qualifying}, {"Sprint", r.Sprint}, {"Race", &r.jolpicaWhen},
		} {
			if s.when == nil || s.when.Date == "" {
				continue
			}
			t, err := s.when.utc()
			if err != nil {
				return fail(fmt.Errorf("round %d %s: %w", round, s.name, err))
			}
			ev.Sessions = append(ev.Sessions, Session{Name: s.name, Start: t.UTC()})
		}
		if len(ev.Sessions) == 0 {
			continue
		}
		ev.Format = deriveFormat(year, false, ev.Sessions)
		finish(year, &ev)
		season.Events = append(season.Events, ev)
	}
	return season, nil
}
