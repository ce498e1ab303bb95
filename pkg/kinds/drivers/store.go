package drivers

import (
	"context"
	"embed"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// Kind is the drivers kind: each session's drivers and teams from its
// DriverList.
func Kind() kind.Kind {
	return (&kind.Def[[]Driver]{
		Spec: kind.Spec{
			Name: "drivers", Version: 1,
			About:   "each session's drivers: number, abbreviation, names, team, colour, headshot, country",
			Feeds:   []f1.FeedNeed{{File: "DriverList.jsonStream"}},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "drivers", Header: strings.Join(csvHeader, ","), Write: export}},
		},
		Parse: func(_ kind.Session, feeds kind.Feeds) ([]Driver, error) {
			ds, err := Parse(feeds["DriverList.jsonStream"])
			if err != nil {
				return nil, fmt.Errorf("DriverList.jsonStream: %w", err)
			}
			return ds, nil
		},
		Store: store,
	}).Kind()
}

var columns = []string{"year", "round", "session", "driver_number", "abbreviation", "first_name", "last_name", "full_name",
	"broadcast_name", "team_name", "team_colour", "headshot_url", "country_code", "line"}

// store replaces the session's drivers inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, ds []Driver) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM session_drivers WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("drivers: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"session_drivers"}, columns, pgx.CopyFromSlice(len(ds), func(i int) ([]any, error) {
		d := ds[i]
		return []any{s.Year, s.Round, s.Session, d.Number, d.Abbreviation, d.FirstName, d.LastName, d.FullName,
			d.BroadcastName, d.TeamName, d.TeamColour, d.HeadshotURL, d.CountryCode, d.Line}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("drivers: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// Read returns a session's drivers by racing number.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Driver, error) {
	rows, err := db.Query(ctx, `SELECT driver_number, abbreviation, first_name, last_name, full_name, broadcast_name,
			team_name, team_colour, headshot_url, country_code, line
		FROM session_drivers WHERE year=$1 AND round=$2 AND session=$3 ORDER BY driver_number::int`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("drivers: read %s: %w", k, err)
	}
	defer rows.Close()
	var out []Driver
	for rows.Next() {
		var d Driver
		if err := rows.Scan(&d.Number, &d.Abbreviation, &d.FirstName, &d.LastName, &d.FullName, &d.BroadcastName,
			&d.TeamName, &d.TeamColour, &d.HeadshotURL, &d.CountryCode, &d.Line); err != nil {
			return nil, fmt.Errorf("drivers: read %s: %w", k, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// export writes a session's stored drivers as CSV.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	ds, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	return len(ds), WriteCSV(w, ds)
}
