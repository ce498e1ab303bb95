// Package weatherdb stores weather samples in PostgreSQL and reads them
// back, and defines the weather kind for the extractor: WeatherData gives
// the samples, RaceControlMessages (when published) their UTC clock.
package weatherdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/weather"
)

// Kind returns the weather kind for the extractor.
func Kind() extractor.Kind {
	k, _ := f1.LookupKind("weather")
	return extractor.Kind{Kind: k, Parse: Parse, Store: Store}
}

// Parse decodes WeatherData and, when RaceControlMessages is present,
// dates every sample in UTC.
func Parse(_ extractor.Session, feeds extractor.Feeds) (any, error) {
	samples, err := weather.Parse(feeds["WeatherData.jsonStream"])
	if err != nil {
		return nil, fmt.Errorf("WeatherData.jsonStream: %w", err)
	}
	if rcm, ok := feeds["RaceControlMessages.jsonStream"]; ok {
		// A clock we cannot read leaves UTC empty; the samples stand.
		if t0, ok, err := weather.Anchor(rcm); err == nil && ok {
			weather.WithUTC(samples, t0)
		}
	}
	return samples, nil
}

var columns = []string{"year", "round", "session", "seq", "session_time", "sampled_at",
	"air_temp", "humidity", "pressure", "rainfall", "track_temp", "wind_direction", "wind_speed"}

// Store replaces the weather samples of s inside tx by COPY.
func Store(ctx context.Context, tx pgx.Tx, s extractor.Session, parsed any) (int, error) {
	samples := parsed.([]weather.Sample)
	if _, err := tx.Exec(ctx, `DELETE FROM weather_samples WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Name); err != nil {
		return 0, fmt.Errorf("weatherdb: clear %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"weather_samples"}, columns, pgx.CopyFromSlice(len(samples), func(i int) ([]any, error) {
		w := samples[i]
		return []any{s.Year, s.Round, s.Name, i, w.Time, w.UTC, w.AirTemp, w.Humidity, w.Pressure, w.Rainfall, w.TrackTemp, w.WindDirection, w.WindSpeed}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("weatherdb: copy %d/%d/%s: %w", s.Year, s.Round, s.Name, err)
	}
	return int(n), nil
}

// Read returns the stored samples of a session in feed order; none when
// the session has no weather.
func Read(ctx context.Context, pool *pgxpool.Pool, year, round int, session string) ([]weather.Sample, error) {
	rows, err := pool.Query(ctx, `SELECT session_time, sampled_at, air_temp, humidity, pressure, rainfall, track_temp, wind_direction, wind_speed
		FROM weather_samples WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, year, round, session)
	if err != nil {
		return nil, fmt.Errorf("weatherdb: read %d/%d/%s: %w", year, round, session, err)
	}
	defer rows.Close()
	var out []weather.Sample
	for rows.Next() {
		var w weather.Sample
		var utc *time.Time
		if err := rows.Scan(&w.Time, &utc, &w.AirTemp, &w.Humidity, &w.Pressure, &w.Rainfall, &w.TrackTemp, &w.WindDirection, &w.WindSpeed); err != nil {
			return nil, fmt.Errorf("weatherdb: read %d/%d/%s: %w", year, round, session, err)
		}
		if utc != nil {
			u := utc.UTC()
			w.UTC = &u
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("weatherdb: read %d/%d/%s: %w", year, round, session, err)
	}
	return out, nil
}
