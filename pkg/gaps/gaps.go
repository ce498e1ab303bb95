// Package gaps is gap detection: it compares the season model with the
// extraction ledger and says, per past session in scope, which kinds are
// missing and what loading them will cost in upstream calls.
package gaps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/streams"
)

// Scope is what a plan covers. Round 0 means every round, Session ""
// every session; Kinds must be validated (kinds.Parse).
type Scope struct {
	Year    int
	Round   int
	Session string
	Kinds   []string
	Force   bool // every kind of every session in scope is missing
	Refetch bool // the archive does not count: every feed costs a call
	// ArchiveOnly plans only the kinds whose required feeds the raw
	// archive holds (answered 200), at no upstream call: the sessions
	// left out are reported as not archived.
	ArchiveOnly bool
}

// Archive is what estimation needs of the raw archive.
type Archive interface {
	Stat(ctx context.Context, host, path string) (*archive.Entry, error)
}

// SessionDuration stands in for a session's end when the schedule has none.
const SessionDuration = 2 * time.Hour

// UnavailableSettle is how long after its end a session found without
// data is asked again: F1 publishes data 30-120 minutes after a session.
const UnavailableSettle = 7 * 24 * time.Hour

// Plan is the result of detection: the report and one gap per session.
type Plan struct {
	Report streams.GapReport
	Gaps   []streams.Gap // RunID left empty
}

type session struct {
	round             int
	name, event, path string
	start             time.Time
	end               *time.Time
	circuitKey        int // corrected; 0 when the schedule does not know it
	ledger            map[string]ledgerRow
}

type ledgerRow struct {
	status  string
	version int
	at      time.Time
	refetch []string // feeds to ask the upstream for anew (see isMissing)
}

// Detect computes the plan for sc at time now.
func Detect(ctx context.Context, pool *pgxpool.Pool, arc Archive, sc Scope, now time.Time) (*Plan, error) {
	rows, err := pool.Query(ctx, `
		SELECT s.round, s.name, e.name, s.archive_path, s.start_utc, s.end_utc, coalesce(e.circuit_key, 0), e.circuit_name
		FROM sessions s JOIN events e USING (year, round)
		WHERE s.year = $1 AND ($2 = 0 OR s.round = $2) AND ($3 = '' OR s.name = $3)
		ORDER BY s.round, s.number`, sc.Year, sc.Round, sc.Session)
	if err != nil {
		return nil, fmt.Errorf("gaps: sessions of %d: %w", sc.Year, err)
	}
	var all []*session
	byKey := map[string]*session{}
	type eventKind struct {
		round int
		kind  string
	}
	eventDone := map[eventKind]bool{}        // per-event kinds settled for the event
	eventVersion := map[eventKind]int{}      // per-event kinds' newest extractor version recorded for the event
	eventRefetch := map[eventKind][]string{} // per-event kinds' feeds to ask anew
	for rows.Next() {
		s := &session{ledger: map[string]ledgerRow{}}
		var circuitName string
		if err := rows.Scan(&s.round, &s.name, &s.event, &s.path, &s.start, &s.end, &s.circuitKey, &circuitName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("gaps: scan session: %w", err)
		}
		s.circuitKey = f1.CorrectCircuitKey(s.circuitKey, circuitName)
		all = append(all, s)
		byKey[fmt.Sprintf("%d/%s", s.round, s.name)] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gaps: sessions of %d: %w", sc.Year, err)
	}

	lrows, err := pool.Query(ctx, `
		SELECT round, session, kind, status, extractor_version, extracted_at, refetch_feeds
		FROM extractions WHERE year = $1 AND ($2 = 0 OR round = $2)`,
		sc.Year, sc.Round)
	if err != nil {
		return nil, fmt.Errorf("gaps: ledger of %d: %w", sc.Year, err)
	}
	for lrows.Next() {
		var round int
		var name, kind string
		var r ledgerRow
		if err := lrows.Scan(&round, &name, &kind, &r.status, &r.version, &r.at, &r.refetch); err != nil {
			lrows.Close()
			return nil, fmt.Errorf("gaps: scan ledger: %w", err)
		}
		if s := byKey[fmt.Sprintf("%d/%s", round, name)]; s != nil {
			s.ledger[kind] = r
		}
		// A per-event kind is settled for its event by any session's done
		// or unavailable outcome (a layout MultiViewer lacks stays lacking).
		if k, ok := kinds.Lookup(kind); ok && k.Spec().PerEvent {
			if r.version >= k.Spec().Version && r.status != streams.StatusFailed && len(r.refetch) == 0 {
				eventDone[eventKind{round, kind}] = true
			}
			eventRefetch[eventKind{round, kind}] = append(eventRefetch[eventKind{round, kind}], r.refetch...)
			eventVersion[eventKind{round, kind}] = max(eventVersion[eventKind{round, kind}], r.version)
		}
	}
	lrows.Close()
	if err := lrows.Err(); err != nil {
		return nil, fmt.Errorf("gaps: ledger of %d: %w", sc.Year, err)
	}

	p := &Plan{Report: streams.GapReport{Year: sc.Year, ScheduleLoaded: true,
		MissingRaces: []int{}, MissingSessions: []streams.SessionRef{}, SessionGaps: []streams.MissingKinds{}}}
	// Per-event kinds go with the event's last past session in scope (a
	// race is the session most often published whole).
	carrier := map[int]*session{}
	for _, s := range all {
		if !sessionEnd(s).After(now) {
			carrier[s.round] = s
		}
	}
	events := map[int]bool{}
	roundHasData := map[int]bool{}
	stale := map[streams.StaleKind]int{} // (kind, from, to) -> sessions
	var rounds []int
	for _, s := range all {
		ended := sessionEnd(s)
		if ended.After(now) {
			continue // future sessions are never planned
		}
		if !events[s.round] {
			events[s.round] = true
			rounds = append(rounds, s.round)
		}
		p.Report.Sessions++
		key := f1.Key(sc.Year, s.round, s.name)
		ref := streams.SessionRef{SessionKey: key, Event: s.event}
		if len(s.ledger) > 0 {
			roundHasData[s.round] = true
		} else {
			p.Report.MissingSessions = append(p.Report.MissingSessions, ref)
		}
		var missing, refetch []string
		for _, k := range sc.Kinds {
			current := kinds.MustLookup(k).Spec().Version
			if kinds.MustLookup(k).Spec().PerEvent {
				// Once per event: with the event's first session in scope.
				if carrier[s.round] == s {
					if v, ok := eventVersion[eventKind{s.round, k}]; ok && v < current {
						stale[streams.StaleKind{Kind: k, From: v, To: current}]++
					}
					if sc.Force || !eventDone[eventKind{s.round, k}] {
						missing = append(missing, k)
						refetch = appendNew(refetch, eventRefetch[eventKind{s.round, k}]...)
					}
				}
				continue
			}
			if r, ok := s.ledger[k]; ok && r.version < current {
				stale[streams.StaleKind{Kind: k, From: r.version, To: current}]++
			}
			if sc.Force || isMissing(k, s.ledger, ended, now) {
				missing = append(missing, k)
				refetch = appendNew(refetch, s.ledger[k].refetch...)
			}
		}
		if sc.ArchiveOnly && len(missing) > 0 {
			refetch = nil // nothing is asked anew
			all := missing
			if missing, err = archivedKinds(ctx, arc, missing, key, s.path, s.circuitKey); err != nil {
				return nil, err
			}
			if len(missing) < len(all) {
				p.Report.NotArchived = append(p.Report.NotArchived, ref)
			}
		}
		if len(missing) == 0 {
			continue
		}
		calls, least, archived, err := estimate(ctx, arc, kinds.SessionFeeds(missing, key, s.path, s.circuitKey), sc.Refetch, refetch, sc.ArchiveOnly)
		if err != nil {
			return nil, err
		}
		p.Report.EstimatedCalls += calls
		p.Report.EstimatedMinCalls += least
		p.Report.ArchivedFeeds += archived
		p.Report.SessionGaps = append(p.Report.SessionGaps, streams.MissingKinds{SessionRef: ref, Kinds: missing, Calls: calls, MinCalls: least})
		p.Gaps = append(p.Gaps, streams.Gap{
			V: streams.SchemaVersion, SessionKey: key,
			Code: key.Code(), Path: s.path, Ended: ended.UTC(), Kinds: missing, CircuitKey: s.circuitKey,
			Force: sc.Force, Refetch: sc.Refetch, RefetchFeeds: refetch, ArchiveOnly: sc.ArchiveOnly,
		})
	}
	p.Report.Events = len(rounds)
	for k, n := range stale {
		k.Sessions = n
		p.Report.Stale = append(p.Report.Stale, k)
	}
	sort.Slice(p.Report.Stale, func(i, j int) bool {
		a, b := p.Report.Stale[i], p.Report.Stale[j]
		return a.Kind < b.Kind || a.Kind == b.Kind && a.From < b.From
	})
	for _, r := range rounds {
		if !roundHasData[r] {
			p.Report.MissingRaces = append(p.Report.MissingRaces, r)
		}
	}
	return p, nil
}

// sessionEnd is when a session ended (or will end).
func sessionEnd(s *session) time.Time {
	if s.end != nil {
		return *s.end
	}
	return s.start.Add(SessionDuration)
}

// UnavailableRecheck is how long an "unavailable" outcome stands before
// the session is asked again (while it is not settled).
const UnavailableRecheck = time.Hour

// isMissing reports whether kind must be (re)loaded for a session at now:
// never extracted, by an older version, failed, unavailable and due for
// another look, or done but suspect (it skipped lines of a feed that was
// not asked anew since: refetch lists it).
func isMissing(kind string, ledger map[string]ledgerRow, ended, now time.Time) bool {
	r, ok := ledger[kind]
	if !ok {
		return true
	}
	if r.version < kinds.MustLookup(kind).Spec().Version {
		return true
	}
	switch r.status {
	case streams.StatusDone:
		return len(r.refetch) > 0
	case streams.StatusUnavailable:
		return r.at.Sub(ended) < UnavailableSettle && now.Sub(r.at) >= UnavailableRecheck
	default: // failed
		return true
	}
}

// archivedKinds returns the kinds of names whose required feeds for the
// session the archive holds with a 200 answer: what an archive-only load
// can extract. A feed whose path is not known yet (a circuit the schedule
// does not name) counts as not archived.
func archivedKinds(ctx context.Context, arc Archive, names []string, key f1.SessionKey, path string, circuitKey int) ([]string, error) {
	lacking := map[string]bool{}
	for _, f := range kinds.SessionFeeds(names, key, path, circuitKey) {
		if len(f.RequiredBy) == 0 {
			continue
		}
		ok := false
		if f.Path != "" && arc != nil {
			e, err := arc.Stat(ctx, f.Host, f.Path)
			if err != nil && !errors.Is(err, archive.ErrNotArchived) {
				return nil, fmt.Errorf("gaps: archived feeds of %s: %w", key, err)
			}
			ok = err == nil && e.Status == http.StatusOK
		}
		if !ok {
			for _, k := range f.RequiredBy {
				lacking[k] = true
			}
		}
	}
	var out []string
	for _, k := range names {
		if !lacking[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// estimate counts the upstream calls loading a session's feeds costs:
// one per feed the archive does not hold or that is to be asked anew
// (refetch, refetchFeeds) when the session has data (the
// loader asks one host per feed once the session's host is known), and,
// when it has none, two for the first required feed (the primary and its
// mirror) and one for each other required feed. An archive-only load
// costs nothing: a feed the archive lacks is not fetched.
func estimate(ctx context.Context, arc Archive, feeds []f1.Feed, refetch bool, refetchFeeds []string, archiveOnly bool) (calls, least, archived int, err error) {
	required := 0
	for _, f := range feeds {
		if !refetch && !slices.Contains(refetchFeeds, f.Name) && arc != nil {
			_, err := arc.Stat(ctx, f.Host, f.Path)
			if err == nil {
				archived++
				continue
			}
			if !errors.Is(err, archive.ErrNotArchived) {
				return 0, 0, 0, fmt.Errorf("gaps: estimate: %w", err)
			}
		}
		if archiveOnly {
			continue
		}
		calls++
		if !f.Optional {
			required++
		}
	}
	if required > 0 {
		least = required + 1
	}
	return calls, least, archived, nil
}

// appendNew appends the elements of more that list lacks.
func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}
