package racecontrol

import (
	"context"
	"embed"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// Kind is the race-control kind: every message of race control (flags,
// penalties, DRS, safety car, deleted laps), FastF1's
// race_control_messages.
func Kind() kind.Kind {
	return (&kind.Def[[]Message]{
		Spec: kind.Spec{
			Name: "race-control", Version: 1,
			About:   "race control's messages: flags, DRS, safety car, investigations, penalties, deleted laps",
			Feeds:   []f1.FeedNeed{{File: Feed}},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "race-control", Header: CSVHeader, FastF1: "race_control_messages", Write: export}},
		},
		Parse: func(_ kind.Session, feeds kind.Feeds) ([]Message, error) { return Parse(feeds[Feed]) },
		Store: store,
	}).Kind()
}

var columns = []string{"year", "round", "session", "seq", "utc", "category", "message", "status", "flag", "scope", "sector", "racing_number", "lap"}

// store replaces the session's messages inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, ms []Message) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM race_control_messages WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("racecontrol: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"race_control_messages"}, columns, pgx.CopyFromSlice(len(ms), func(i int) ([]any, error) {
		m := &ms[i]
		var utc *time.Time
		if !m.Time.IsZero() {
			utc = &m.Time
		}
		return []any{s.Year, s.Round, s.Session, i, utc, m.Category, m.Message, m.Status, m.Flag, m.Scope, m.Sector, m.RacingNumber, m.Lap}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("racecontrol: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// Read returns a session's stored messages in feed order.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Message, error) {
	rows, err := db.Query(ctx, `SELECT utc, category, message, status, flag, scope, sector, racing_number, lap
		FROM race_control_messages WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("racecontrol: read %s: %w", k, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var utc *time.Time
		if err := rows.Scan(&utc, &m.Category, &m.Message, &m.Status, &m.Flag, &m.Scope, &m.Sector, &m.RacingNumber, &m.Lap); err != nil {
			return nil, fmt.Errorf("racecontrol: read %s: %w", k, err)
		}
		if utc != nil {
			m.Time = utc.UTC()
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("racecontrol: read %s: %w", k, err)
	}
	return out, nil
}

// export writes a session's stored messages as FastF1's
// race_control_messages.csv.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	ms, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	return len(ms), WriteCSV(w, ms)
}
