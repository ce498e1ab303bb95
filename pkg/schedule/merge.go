package schedule

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/paddock-f1/paddock/pkg/upstream"
)

// matchWindow is how far apart two sources may put an event's last session
// and still mean the same event. Race weekends are at least a week apart.
const matchWindow = 4 * 24 * time.Hour

// fieldRank orders sources for general fields: Index.json, f1schedule, Jolpica.
func fieldRank(s *Season) int {
	if len(s.Sources) == 0 {
		return 3
	}
	switch s.Sources[0] {
	case upstream.LiveTiming, upstream.Mirror:
		return 0
	case upstream.GitHubRaw:
		return 1
	case upstream.Jolpica:
		return 2
	}
	return 3
}

// roundRank orders sources for Event.Round: the championship round comes from
// f1schedule or Jolpica; Index.json's is only positional (see ParseIndex).
func roundRank(fr int) int {
	switch fr {
	case 1:
		return 0
	case 2:
		return 1
	case 0:
		return 2
	}
	return 3
}

type mergedEvent struct {
	Event
	roundRank int
}

// Merge combines parsed seasons of year into one. nil parts and parts without
// events are ignored; it fails if none is left or a part is of another year.
//
// Parts are used in preference order Index.json, f1schedule, Jolpica whatever
// the argument order. Events are matched by the start of their last session
// (within 4 days, testing only with testing), falling back to equal names;
// events found in only some sources are kept. Per field the first non-empty
// value in preference order wins, except Round, which prefers f1schedule then
// Jolpica over Index.json. Sessions are matched by Name; a session's Start,
// End, Key and GMTOffset come from the most preferred source that has them,
// its Path from Index.json where present, otherwise it is re-derived from the
// merged event (DerivePath). Sessions are then numbered in start order.
func Merge(year int, parts ...*Season) (*Season, error) {
	var use []*Season
	for _, p := range parts {
		if p == nil || len(p.Events) == 0 {
			continue
		}
		if p.Year != 0 && p.Year != year {
			return nil, fmt.Errorf("schedule: merge %d: a part from %v is for %d", year, p.Sources, p.Year)
		}
		use = append(use, p)
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("schedule: merge %d: no source has any event", year)
	}
	sort.SliceStable(use, func(i, j int) bool { return fieldRank(use[i]) < fieldRank(use[j]) })

	out := &Season{Year: year}
	var evs []*mergedEvent
	for _, p := range use {
		fr := fieldRank(p)
		for _, src := range p.Sources {
			if !slices.Contains(out.Sources, src) {
				out.Sources = append(out.Sources, src)
			}
		}
		claimed := map[*mergedEvent]bool{}
		for _, e := range p.Events {
			m := matchEvent(evs, e, claimed)
			if m == nil {
				m = &mergedEvent{Event: e, roundRank: roundRank(fr)}
				m.Sessions = slices.Clone(e.Sessions)
				evs = append(evs, m)
			} else {
				mergeEvent(m, e, fr)
			}
			claimed[m] = true
		}
	}
	for _, m := range evs {
		finish(year, &m.Event)
		if m.Format == "" {
			m.Format = deriveFormat(year, false, m.Sessions)
		}
		out.Events = append(out.Events, m.Event)
	}
	sort.SliceStable(out.Events, func(i, j int) bool { return out.Events[i].firstStart().Before(out.Events[j].firstStart()) })
	return out, nil
}

func matchEvent(evs []*mergedEvent, e Event, claimed map[*mergedEvent]bool) *mergedEvent {
	testing := e.Format == FormatTesting
	var best *mergedEvent
	bestD := matchWindow
	for _, m := range evs {
		if claimed[m] || (m.Format == FormatTesting) != testing {
			continue
		}
		d := m.lastStart().Sub(e.lastStart())
		if d < 0 {
			d = -d
		}
		if d <= bestD {
			best, bestD = m, d
		}
	}
	if best != nil {
		return best
	}
	for _, m := range evs {
		if !claimed[m] && (m.Format == FormatTesting) == testing && m.Name == e.Name {
			return m
		}
	}
	return nil
}

func mergeEvent(m *mergedEvent, e Event, fr int) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&m.Name, e.Name)
	fill(&m.OfficialName, e.OfficialName)
	fill(&m.Country, e.Country)
	fill(&m.Location, e.Location)
	fill(&m.CircuitName, e.CircuitName)
	fill(&m.Format, e.Format)
	if m.CircuitKey == 0 {
		m.CircuitKey = e.CircuitKey
	}
	if m.MeetingKey == 0 {
		m.MeetingKey = e.MeetingKey
	}
	if rr := roundRank(fr); rr < m.roundRank && m.Format != FormatTesting {
		m.Round, m.roundRank = e.Round, rr
	}
	used := map[int]bool{}
	for _, s := range e.Sessions {
		i := slices.IndexFunc(m.Sessions, func(x Session) bool { return x.Name == s.Name })
		if i < 0 || used[i] {
			if fr == 2 && len(m.Sessions) > 0 { // Jolpica has no local offset; borrow the event's
				s.GMTOffset = m.Sessions[0].GMTOffset
			}
			m.Sessions = append(m.Sessions, s)
			continue
		}
		used[i] = true
		x := &m.Sessions[i]
		if x.Key == 0 {
			x.Key = s.Key
		}
		if x.Start.IsZero() {
			x.Start = s.Start
		}
		if x.End.IsZero() {
			x.End = s.End
		}
		if !x.PathFromIndex && s.PathFromIndex {
			x.Path, x.PathFromIndex = s.Path, true
		}
	}
}

// Getter is the part of *upstream.Client that Fetch needs.
type Getter interface {
	Get(ctx context.Context, host, path string) (*upstream.Response, error)
}

// Fetch loads year's schedule from Index.json, f1schedule and Jolpica through
// g and merges whatever it got. A source answering a definitive 4xx (not
// published for that year) is skipped; a transport error, rate limit or a
// body that does not parse aborts with that error. calls is the number of real
// HTTP requests made, on every path.
func Fetch(ctx context.Context, g Getter, year int) (season *Season, calls int, err error) {
	srcs := []struct {
		host, path string
		parse      func([]byte) (*Season, error)
	}{
		{upstream.LiveTiming, IndexPath(year), ParseIndex},
		{upstream.GitHubRaw, F1SchedulePath(year), ParseF1Schedule},
		{upstream.Jolpica, JolpicaPath(year), ParseJolpica},
	}
	var parts []*Season
	for _, s := range srcs {
		resp, err := g.Get(ctx, s.host, s.path)
		if resp != nil {
			calls += resp.Calls
		}
		if err != nil {
			return nil, calls, fmt.Errorf("schedule: fetch %d: %w", year, err)
		}
		if resp.Status < 200 || resp.Status > 299 {
			continue
		}
		p, err := s.parse(resp.Body)
		if err != nil {
			return nil, calls, fmt.Errorf("schedule: fetch %d from %s: %w", year, s.host, err)
		}
		parts = append(parts, p)
	}
	season, err = Merge(year, parts...)
	if err != nil {
		return nil, calls, fmt.Errorf("schedule: fetch %d: no source published a schedule: %w", year, err)
	}
	return season, calls, nil
}
