// Package season keeps the season model in PostgreSQL: seasons, events and
// sessions as the merged schedule sources describe them. It is written
// from schedule manifests and read by gap detection.
package season

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/schedule"
	"github.com/paddock-f1/paddock/streams"
)

// Replace writes season s in one transaction: events and sessions the
// sources no longer list are removed (with what was extracted for them),
// the others are updated in place, so extracted data of unchanged
// sessions stays. digest identifies the input.
func Replace(ctx context.Context, pool *pgxpool.Pool, s *schedule.Season, digest string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO seasons (year, sources, input_digest, loaded_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (year) DO UPDATE SET sources = EXCLUDED.sources, input_digest = EXCLUDED.input_digest, loaded_at = now()`,
			s.Year, s.Sources, digest); err != nil {
			return fmt.Errorf("season: write %d: %w", s.Year, err)
		}
		var rounds []int32
		var keepSessions []string
		for _, e := range withTestNumbers(s.Events) {
			if len(e.Sessions) == 0 {
				continue
			}
			rounds = append(rounds, int32(e.Round))
			last := e.Sessions[len(e.Sessions)-1]
			if _, err := tx.Exec(ctx, `
				INSERT INTO events (year, round, name, official_name, country, location, circuit_key, circuit_name, meeting_key, event_format, event_date_utc, gmt_offset)
				VALUES ($1,$2,$3,$4,$5,$6,NULLIF($7,0),$8,NULLIF($9,0),$10,$11,$12)
				ON CONFLICT (year, round) DO UPDATE SET name=EXCLUDED.name, official_name=EXCLUDED.official_name,
					country=EXCLUDED.country, location=EXCLUDED.location, circuit_key=EXCLUDED.circuit_key,
					circuit_name=EXCLUDED.circuit_name, meeting_key=EXCLUDED.meeting_key, event_format=EXCLUDED.event_format,
					event_date_utc=EXCLUDED.event_date_utc, gmt_offset=EXCLUDED.gmt_offset
				WHERE (events.name, events.official_name, events.country, events.location, events.circuit_key, events.circuit_name, events.meeting_key, events.event_format, events.event_date_utc, events.gmt_offset)
					IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.official_name, EXCLUDED.country, EXCLUDED.location, EXCLUDED.circuit_key, EXCLUDED.circuit_name, EXCLUDED.meeting_key, EXCLUDED.event_format, EXCLUDED.event_date_utc, EXCLUDED.gmt_offset)`,
				s.Year, e.Round, e.Name, e.OfficialName, e.Country, e.Location, e.CircuitKey, e.CircuitName, e.MeetingKey, e.Format,
				last.Start.UTC(), last.GMTOffset); err != nil {
				return fmt.Errorf("season: write event %d/%d: %w", s.Year, e.Round, err)
			}
			for _, ss := range e.Sessions {
				keepSessions = append(keepSessions, fmt.Sprintf("%d/%s", e.Round, ss.Name))
				var end *time.Time
				if !ss.End.IsZero() {
					end = &ss.End
				}
				if _, err := tx.Exec(ctx, `
					INSERT INTO sessions (year, round, name, number, session_key, start_utc, end_utc, gmt_offset, archive_path, path_from_index)
					VALUES ($1,$2,$3,$4,NULLIF($5,0),$6,$7,$8,$9,$10)
					ON CONFLICT (year, round, name) DO UPDATE SET number=EXCLUDED.number, session_key=EXCLUDED.session_key,
						start_utc=EXCLUDED.start_utc, end_utc=EXCLUDED.end_utc, gmt_offset=EXCLUDED.gmt_offset,
						archive_path=EXCLUDED.archive_path, path_from_index=EXCLUDED.path_from_index
					WHERE (sessions.number, sessions.session_key, sessions.start_utc, sessions.end_utc, sessions.gmt_offset, sessions.archive_path, sessions.path_from_index)
						IS DISTINCT FROM (EXCLUDED.number, EXCLUDED.session_key, EXCLUDED.start_utc, EXCLUDED.end_utc, EXCLUDED.gmt_offset, EXCLUDED.archive_path, EXCLUDED.path_from_index)`,
					s.Year, e.Round, ss.Name, ss.Number, ss.Key, ss.Start.UTC(), end, ss.GMTOffset, ss.Path, ss.PathFromIndex); err != nil {
					return fmt.Errorf("season: write session %s: %w", streams.Key(s.Year, e.Round, ss.Name), err)
				}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE year = $1 AND NOT (round::text || '/' || name = ANY($2))`, s.Year, keepSessions); err != nil {
			return fmt.Errorf("season: prune sessions of %d: %w", s.Year, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM events WHERE year = $1 AND NOT (round = ANY($2))`, s.Year, rounds); err != nil {
			return fmt.Errorf("season: prune events of %d: %w", s.Year, err)
		}
		return nil
	})
}

// TestingRound is the round a season's n-th testing event is stored with
// (n from 1): testing has no championship round, and keys stay (year, round).
func TestingRound(n int) int { return -n }

// withTestNumbers gives testing events their rounds (-1, -2, ... in the
// order they are listed, which is by date).
func withTestNumbers(events []schedule.Event) []schedule.Event {
	out := make([]schedule.Event, 0, len(events))
	n := 0
	for _, e := range events {
		if e.Format == schedule.FormatTesting || e.Round <= 0 {
			n++
			e.Round = TestingRound(n)
		}
		out = append(out, e)
	}
	return out
}

// Known reports whether the schedule of year is in the database.
func Known(ctx context.Context, pool *pgxpool.Pool, year int) (bool, error) {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM seasons WHERE year = $1`, year).Scan(&n); err != nil {
		return false, fmt.Errorf("season: known %d: %w", year, err)
	}
	return n > 0, nil
}

// Rounds returns the round numbers of year, ascending: testing events
// (-2, -1) first, then the championship rounds.
func Rounds(ctx context.Context, pool *pgxpool.Pool, year int) ([]int, error) {
	rows, err := pool.Query(ctx, `SELECT round FROM events WHERE year = $1 ORDER BY round`, year)
	if err != nil {
		return nil, fmt.Errorf("season: rounds of %d: %w", year, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// SessionNames returns the session names of one round, in weekend order.
func SessionNames(ctx context.Context, pool *pgxpool.Pool, year, round int) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT name FROM sessions WHERE year = $1 AND round = $2 ORDER BY number`, year, round)
	if err != nil {
		return nil, fmt.Errorf("season: sessions of %d/%d: %w", year, round, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
