package trackstatus

import (
	"context"
	"embed"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// Kind is the track-status kind: every change of the track status (all
// clear, yellow, safety car, red flag, VSC), FastF1's track_status.
func Kind() kind.Kind {
	return (&kind.Def[[]Change]{
		Spec: kind.Spec{
			Name: "track-status", Version: 1,
			About:   "track status changes: all clear, yellow, safety car, red flag, virtual safety car",
			Feeds:   []f1.FeedNeed{{File: Feed}},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "track-status", Header: CSVHeader, FastF1: "track_status", Write: export}},
		},
		Parse: func(_ kind.Session, feeds kind.Feeds) ([]Change, error) { return Parse(feeds[Feed]) },
		Store: store,
	}).Kind()
}

// store replaces the session's changes inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, cs []Change) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM track_status WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("trackstatus: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"track_status"}, []string{"year", "round", "session", "seq", "session_time", "status", "message"},
		pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
			return []any{s.Year, s.Round, s.Session, i, cs[i].Time, cs[i].Status, cs[i].Message}, nil
		}))
	if err != nil {
		return 0, fmt.Errorf("trackstatus: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// Read returns a session's stored changes in feed order.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Change, error) {
	rows, err := db.Query(ctx, `SELECT session_time, status, message FROM track_status
		WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("trackstatus: read %s: %w", k, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var c Change
		return c, r.Scan(&c.Time, &c.Status, &c.Message)
	})
	if err != nil {
		return nil, fmt.Errorf("trackstatus: read %s: %w", k, err)
	}
	return out, nil
}

// export writes a session's stored changes as FastF1's track_status.csv.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	cs, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	return len(cs), WriteCSV(w, cs)
}
