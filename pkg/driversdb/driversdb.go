// Package driversdb stores the drivers (and their teams) each session's
// DriverList declares, and defines the drivers kind.
package driversdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/drivers"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/f1"
)

// Kind returns the drivers kind for the extractor.
func Kind() extractor.Kind {
	k, _ := f1.LookupKind("drivers")
	return extractor.Kind{Kind: k, Parse: Parse, Store: Store}
}

// Parse reads the session's DriverList.
func Parse(_ extractor.Session, feeds extractor.Feeds) (any, error) {
	ds, err := drivers.Parse(feeds["DriverList.jsonStream"])
	if err != nil {
		return nil, fmt.Errorf("DriverList.jsonStream: %w", err)
	}
	return ds, nil
}

var columns = []string{"year", "round", "session", "driver_number", "abbreviation", "first_name", "last_name", "full_name",
	"broadcast_name", "team_name", "team_colour", "headshot_url", "country_code", "line"}

// Store replaces the session's drivers inside tx by COPY.
func Store(ctx context.Context, tx pgx.Tx, s extractor.Session, parsed any) (int, error) {
	ds := parsed.([]drivers.Driver)
	if _, err := tx.Exec(ctx, `DELETE FROM session_drivers WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Name); err != nil {
		return 0, fmt.Errorf("driversdb: clear %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"session_drivers"}, columns, pgx.CopyFromSlice(len(ds), func(i int) ([]any, error) {
		d := ds[i]
		return []any{s.Year, s.Round, s.Name, d.Number, d.Abbreviation, d.FirstName, d.LastName, d.FullName,
			d.BroadcastName, d.TeamName, d.TeamColour, d.HeadshotURL, d.CountryCode, d.Line}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("driversdb: copy %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	return int(n), nil
}

// Read returns a session's drivers by racing number.
func Read(ctx context.Context, pool *pgxpool.Pool, year, round int, session string) ([]drivers.Driver, error) {
	rows, err := pool.Query(ctx, `SELECT driver_number, abbreviation, first_name, last_name, full_name, broadcast_name,
			team_name, team_colour, headshot_url, country_code, line
		FROM session_drivers WHERE year=$1 AND round=$2 AND session=$3 ORDER BY driver_number::int`, year, round, session)
	if err != nil {
		return nil, fmt.Errorf("driversdb: read %d/%d/%s: %w", year, round, session, err)
	}
	defer rows.Close()
	var out []drivers.Driver
	for rows.Next() {
		var d drivers.Driver
		if err := rows.Scan(&d.Number, &d.Abbreviation, &d.FirstName, &d.LastName, &d.FullName, &d.BroadcastName,
			&d.TeamName, &d.TeamColour, &d.HeadshotURL, &d.CountryCode, &d.Line); err != nil {
			return nil, fmt.Errorf("driversdb: read %d/%d/%s: %w", year, round, session, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
