// Package lapsdb stores laps in PostgreSQL and reads them back, and
// defines the laps kind for the extractor: TimingData and the feeds
// around it, derived into FastF1's Laps by package laps.
package lapsdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/laps"
)

// Kind returns the laps kind for the extractor.
func Kind() extractor.Kind {
	k, _ := f1.LookupKind("laps")
	return extractor.Kind{Kind: k, Parse: Parse, Store: Store}
}

// Parse derives the laps of a session from its feeds.
func Parse(s extractor.Session, feeds extractor.Feeds) (any, error) {
	in := laps.Input{
		Year: s.Year, Session: s.Name,
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
	res, err := laps.Derive(in)
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

// Store replaces the laps of s inside tx by COPY.
func Store(ctx context.Context, tx pgx.Tx, s extractor.Session, parsed any) (int, error) {
	rows := parsed.([]laps.Lap)
	if _, err := tx.Exec(ctx, `DELETE FROM laps WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Name); err != nil {
		return 0, fmt.Errorf("lapsdb: clear %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"laps"}, columns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		l := &rows[i]
		return []any{s.Year, s.Round, s.Name, i, l.DriverNumber, l.Driver, l.Team, l.LapNumber,
			l.Time, l.LapTime, l.Stint, l.PitOutTime, l.PitInTime,
			l.Sector1Time, l.Sector2Time, l.Sector3Time, l.Sector1SessionTime, l.Sector2SessionTime, l.Sector3SessionTime,
			l.SpeedI1, l.SpeedI2, l.SpeedFL, l.SpeedST, l.IsPersonalBest, l.Compound, l.TyreLife, l.FreshTyre,
			l.LapStartTime, l.TrackStatus, l.Position, l.Deleted, l.DeletedReason, l.FastF1Generated, l.IsAccurate}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("lapsdb: copy %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	return int(n), nil
}

// Read returns the stored laps of a session in FastF1's row order.
func Read(ctx context.Context, pool *pgxpool.Pool, year, round int, session string) ([]laps.Lap, error) {
	rows, err := pool.Query(ctx, `SELECT driver_number, driver, team, lap_number,
			time, lap_time, stint, pit_out_time, pit_in_time,
			sector1_time, sector2_time, sector3_time, sector1_session_time, sector2_session_time, sector3_session_time,
			speed_i1, speed_i2, speed_fl, speed_st, is_personal_best, compound, tyre_life, fresh_tyre,
			lap_start_time, track_status, position, deleted, deleted_reason, fastf1_generated, is_accurate
		FROM laps WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, year, round, session)
	if err != nil {
		return nil, fmt.Errorf("lapsdb: read %d/%d/%s: %w", year, round, session, err)
	}
	defer rows.Close()
	var out []laps.Lap
	for rows.Next() {
		var l laps.Lap
		if err := rows.Scan(&l.DriverNumber, &l.Driver, &l.Team, &l.LapNumber,
			&l.Time, &l.LapTime, &l.Stint, &l.PitOutTime, &l.PitInTime,
			&l.Sector1Time, &l.Sector2Time, &l.Sector3Time, &l.Sector1SessionTime, &l.Sector2SessionTime, &l.Sector3SessionTime,
			&l.SpeedI1, &l.SpeedI2, &l.SpeedFL, &l.SpeedST, &l.IsPersonalBest, &l.Compound, &l.TyreLife, &l.FreshTyre,
			&l.LapStartTime, &l.TrackStatus, &l.Position, &l.Deleted, &l.DeletedReason, &l.FastF1Generated, &l.IsAccurate); err != nil {
			return nil, fmt.Errorf("lapsdb: read %d/%d/%s: %w", year, round, session, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lapsdb: read %d/%d/%s: %w", year, round, session, err)
	}
	return out, nil
}
