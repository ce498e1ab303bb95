package results

import (
	"context"
	"embed"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// feedDriverList is the live-timing feed the results are built on.
const feedDriverList = "DriverList.jsonStream"

// Kind is the results kind: FastF1's session results, the DriverList
// merged with Jolpica's results, qualifying or sprint document (Build). A
// session whose DriverList is not published has no results here (FastF1
// would build them from Jolpica alone).
func Kind() kind.Kind {
	return (&kind.Def[[]Result]{
		Spec: kind.Spec{
			Name: "results", Version: 1,
			About: "FastF1's session results: drivers and teams, position, classification, grid, Q1-Q3, time, status, points, laps",
			Feeds: []f1.FeedNeed{
				{File: feedDriverList},
				{Jolpica: f1.JolpicaResults, Optional: true, When: f1.HasJolpicaResults},
			},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "results", Header: CSVHeader, FastF1: "results", Write: export}},
		},
		Parse: parseFeeds,
		Store: store,
	}).Kind()
}

// parseFeeds builds the results and checks that the positions, grid
// positions and laps are whole numbers, as stored.
func parseFeeds(s kind.Session, feeds kind.Feeds) ([]Result, error) {
	rs, err := Build(Input{Year: s.Year, Round: max(s.Round, 0), Session: s.Session,
		DriverList: feeds[feedDriverList], Jolpica: feeds[f1.JolpicaResults]})
	if err != nil {
		return nil, err
	}
	for i := range rs {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"Position", rs[i].Position}, {"GridPosition", rs[i].GridPosition}, {"Laps", rs[i].Laps}} {
			if f.v != nil && (*f.v != math.Trunc(*f.v) || math.Abs(*f.v) > math.MaxInt32) {
				return nil, fmt.Errorf("results: driver %s: %s %v is not a whole number", rs[i].DriverNumber, f.name, *f.v)
			}
		}
	}
	return rs, nil
}

var columns = []string{"year", "round", "session", "seq", "driver_number", "broadcast_name", "abbreviation", "driver_id",
	"team_name", "team_color", "team_id", "first_name", "last_name", "full_name", "headshot_url", "country_code",
	"position", "classified_position", "grid_position", "q1", "q2", "q3", "time", "status", "points", "laps", "missing_as"}

// store replaces the session's results inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, rs []Result) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM session_results WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("results: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"session_results"}, columns, pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
		r := &rs[i]
		return []any{s.Year, s.Round, s.Session, i, r.DriverNumber, r.BroadcastName, r.Abbreviation, r.DriverID,
			r.TeamName, r.TeamColor, r.TeamID, r.FirstName, r.LastName, r.FullName, r.HeadshotURL, r.CountryCode,
			whole(r.Position), r.ClassifiedPosition, whole(r.GridPosition), r.Q1, r.Q2, r.Q3, r.Time, r.Status, r.Points,
			whole(r.Laps), r.MissingAs()}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("results: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// whole is a whole float as an integer column's value (parseFeeds checked).
func whole(f *float64) *int32 {
	if f == nil {
		return nil
	}
	n := int32(*f)
	return &n
}

// Read returns a session's stored results in FastF1's order.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Result, error) {
	rows, err := db.Query(ctx, `SELECT driver_number, broadcast_name, abbreviation, driver_id, team_name, team_color, team_id,
			first_name, last_name, full_name, headshot_url, country_code, position, classified_position, grid_position,
			q1, q2, q3, time, status, points, laps, missing_as
		FROM session_results WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", k, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Result, error) {
		var r Result
		var pos, grid, laps *int32
		var q1, q2, q3, tm *time.Duration
		var missing map[string]string
		err := row.Scan(&r.DriverNumber, &r.BroadcastName, &r.Abbreviation, &r.DriverID, &r.TeamName, &r.TeamColor, &r.TeamID,
			&r.FirstName, &r.LastName, &r.FullName, &r.HeadshotURL, &r.CountryCode, &pos, &r.ClassifiedPosition, &grid,
			&q1, &q2, &q3, &tm, &r.Status, &r.Points, &laps, &missing)
		r.Position, r.GridPosition, r.Laps = float(pos), float(grid), float(laps)
		r.Q1, r.Q2, r.Q3, r.Time = q1, q2, q3, tm
		r.SetMissingAs(missing)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", k, err)
	}
	return out, nil
}

func float(n *int32) *float64 {
	if n == nil {
		return nil
	}
	f := float64(*n)
	return &f
}

// export writes a session's stored results as FastF1's results.csv.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	rs, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	return len(rs), WriteCSV(w, rs)
}
