package laps

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// Kind is the laps kind: FastF1's Laps derived from TimingData and the
// feeds around it (see Derive).
func Kind() kind.Kind {
	return (&kind.Def[[]Lap]{
		Spec: kind.Spec{
			Name: "laps", Version: 1,
			About: "FastF1's Laps: lap and sector times, speeds, tyres, stints, pit times, track status, position, deletions",
			Feeds: []f1.FeedNeed{
				{File: "TimingData.jsonStream"},
				{File: "TimingAppData.jsonStream", Optional: true},
				{File: "SessionInfo.jsonStream", Optional: true},
				{File: "DriverList.jsonStream", Optional: true},
				{File: "TrackStatus.jsonStream", Optional: true},
				{File: "SessionStatus.jsonStream", Optional: true},
				{File: "RaceControlMessages.jsonStream", Optional: true},
				{File: "LapCount.jsonStream", Optional: true, When: f1.RaceLike},
				{Jolpica: f1.JolpicaLap1, Optional: true, When: func(_ int, s string) bool { return s == "Race" }},
				{Jolpica: f1.JolpicaResults, Optional: true, When: f1.HasJolpicaResults},
			},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "laps", Header: strings.Join(CSVHeader(), ","), FastF1: "laps", Write: export}},
		},
		Parse: parseFeeds,
		Store: store,
	}).Kind()
}

// parseFeeds derives the laps of a session from its feeds.
func parseFeeds(s kind.Session, feeds kind.Feeds) ([]Lap, error) {
	in := Input{
		Year: s.Year, Session: s.Session,
		TimingData:          feeds["TimingData.jsonStream"],
		TimingAppData:       feeds["TimingAppData.jsonStream"],
		SessionInfo:         feeds["SessionInfo.jsonStream"],
		DriverList:          feeds["DriverList.jsonStream"],
		TrackStatus:         feeds["TrackStatus.jsonStream"],
		SessionStatus:       feeds["SessionStatus.jsonStream"],
		RaceControlMessages: feeds["RaceControlMessages.jsonStream"],
		LapCount:            feeds["LapCount.jsonStream"],
		JolpicaLap1:         feeds[f1.JolpicaLap1],
		JolpicaResults:      feeds[f1.JolpicaResults],
	}
	res, err := Derive(in)
	if err != nil {
		return nil, err
	}
	return res.Laps, nil
}

var columns = []string{"year", "round", "session", "seq", "driver_number", "driver", "team", "lap_number",
	"time", "lap_time", "stint", "pit_out_time", "pit_in_time",
	"sector1_time", "sector2_time", "sector3_time", "sector1_session_time", "sector2_session_time", "sector3_session_time",
	"speed_i1", "speed_i2", "speed_fl", "speed_st", "is_personal_best", "compound", "tyre_life", "fresh_tyre",
	"lap_start_time", "track_status", "position", "deleted", "deleted_reason", "fastf1_generated", "is_accurate"}

// store replaces the laps of s inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, rows []Lap) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM laps WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("laps: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"laps"}, columns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		l := &rows[i]
		return []any{s.Year, s.Round, s.Session, i, l.DriverNumber, l.Driver, l.Team, l.LapNumber,
			l.Time, l.LapTime, l.Stint, l.PitOutTime, l.PitInTime,
			l.Sector1Time, l.Sector2Time, l.Sector3Time, l.Sector1SessionTime, l.Sector2SessionTime, l.Sector3SessionTime,
			l.SpeedI1, l.SpeedI2, l.SpeedFL, l.SpeedST, l.IsPersonalBest, l.Compound, l.TyreLife, l.FreshTyre,
			l.LapStartTime, l.TrackStatus, l.Position, l.Deleted, l.DeletedReason, l.FastF1Generated, l.IsAccurate}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("laps: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// Read returns the stored laps of a session in FastF1's row order.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Lap, error) {
	rows, err := db.Query(ctx, `SELECT driver_number, driver, team, lap_number,
			time, lap_time, stint, pit_out_time, pit_in_time,
			sector1_time, sector2_time, sector3_time, sector1_session_time, sector2_session_time, sector3_session_time,
			speed_i1, speed_i2, speed_fl, speed_st, is_personal_best, compound, tyre_life, fresh_tyre,
			lap_start_time, track_status, position, deleted, deleted_reason, fastf1_generated, is_accurate
		FROM laps WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("laps: read %s: %w", k, err)
	}
	defer rows.Close()
	var out []Lap
	for rows.Next() {
		var l Lap
		if err := rows.Scan(&l.DriverNumber, &l.Driver, &l.Team, &l.LapNumber,
			&l.Time, &l.LapTime, &l.Stint, &l.PitOutTime, &l.PitInTime,
			&l.Sector1Time, &l.Sector2Time, &l.Sector3Time, &l.Sector1SessionTime, &l.Sector2SessionTime, &l.Sector3SessionTime,
			&l.SpeedI1, &l.SpeedI2, &l.SpeedFL, &l.SpeedST, &l.IsPersonalBest, &l.Compound, &l.TyreLife, &l.FreshTyre,
			&l.LapStartTime, &l.TrackStatus, &l.Position, &l.Deleted, &l.DeletedReason, &l.FastF1Generated, &l.IsAccurate); err != nil {
			return nil, fmt.Errorf("laps: read %s: %w", k, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("laps: read %s: %w", k, err)
	}
	return out, nil
}

// export writes a session's stored laps as FastF1's laps.csv, with
// LapStartDate when the session clock is known from its telemetry (as
// FastF1's laps with telemetry loaded).
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	rows, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	var t0 *time.Time
	if err := db.QueryRow(ctx, `SELECT t0_date FROM session_t0 WHERE year=$1 AND round=$2 AND session=$3`,
		k.Year, k.Round, k.Session).Scan(&t0); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("laps: clock of %s: %w", k, err)
	}
	if t0 != nil {
		return len(rows), WriteCSVDated(w, rows, *t0)
	}
	return len(rows), WriteCSV(w, rows)
}
