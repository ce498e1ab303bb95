package weather

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

// Feed names the weather kind reads.
const (
	feedWeather = "WeatherData.jsonStream"
	feedRCM     = "RaceControlMessages.jsonStream"
)

// Kind is the weather kind: one row per WeatherData sample, dated in UTC
// by RaceControlMessages' clock when that feed is published.
func Kind() kind.Kind {
	return (&kind.Def[[]Sample]{
		Spec: kind.Spec{
			Name: "weather", Version: 1,
			About: "one row a minute: air and track temperature, humidity, pressure, rainfall, wind",
			Feeds: []f1.FeedNeed{
				{File: feedWeather},
				// RaceControlMessages pairs stream offsets with UTC: the clock of the samples.
				{File: feedRCM, Optional: true},
			},
			Schema:  kind.SchemaOf(schema),
			Exports: []kind.Export{{Name: "weather", Header: CSVHeader, FastF1: "weather", Write: export}},
		},
		Parse: parseFeeds,
		Store: store,
	}).Kind()
}

// parseFeeds decodes WeatherData and, when RaceControlMessages is
// present, dates every sample in UTC.
func parseFeeds(_ kind.Session, feeds kind.Feeds) ([]Sample, error) {
	samples, err := Parse(feeds[feedWeather])
	if err != nil {
		return nil, err
	}
	if rcm, ok := feeds[feedRCM]; ok {
		// A feed without a usable Utc leaves UTC empty; one that does not
		// decode whole fails the kind, as the clock would be read from
		// part of it.
		t0, ok, err := Anchor(rcm)
		if err != nil {
			return nil, err
		}
		if ok {
			WithUTC(samples, t0)
		}
	}
	return samples, nil
}

var columns = []string{"year", "round", "session", "seq", "session_time", "sampled_at",
	"air_temp", "humidity", "pressure", "rainfall", "track_temp", "wind_direction", "wind_speed"}

// store replaces the weather samples of s inside tx by COPY.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, samples []Sample) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM weather_samples WHERE year=$1 AND round=$2 AND session=$3`, s.Year, s.Round, s.Session); err != nil {
		return 0, fmt.Errorf("weather: clear %s: %w", s.SessionKey, err)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"weather_samples"}, columns, pgx.CopyFromSlice(len(samples), func(i int) ([]any, error) {
		w := samples[i]
		return []any{s.Year, s.Round, s.Session, i, w.Time, w.UTC, w.AirTemp, w.Humidity, w.Pressure, w.Rainfall, w.TrackTemp, w.WindDirection, w.WindSpeed}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("weather: copy %s: %w", s.SessionKey, err)
	}
	return int(n), nil
}

// Read returns the stored samples of a session in feed order; none when
// the session has no weather.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey) ([]Sample, error) {
	rows, err := db.Query(ctx, `SELECT session_time, sampled_at, air_temp, humidity, pressure, rainfall, track_temp, wind_direction, wind_speed
		FROM weather_samples WHERE year=$1 AND round=$2 AND session=$3 ORDER BY seq`, k.Year, k.Round, k.Session)
	if err != nil {
		return nil, fmt.Errorf("weather: read %s: %w", k, err)
	}
	defer rows.Close()
	var out []Sample
	for rows.Next() {
		var w Sample
		var utc *time.Time
		if err := rows.Scan(&w.Time, &utc, &w.AirTemp, &w.Humidity, &w.Pressure, &w.Rainfall, &w.TrackTemp, &w.WindDirection, &w.WindSpeed); err != nil {
			return nil, fmt.Errorf("weather: read %s: %w", k, err)
		}
		if utc != nil {
			u := utc.UTC()
			w.UTC = &u
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("weather: read %s: %w", k, err)
	}
	return out, nil
}

// export writes a session's stored samples as FastF1's weather.csv.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	k := q.SessionKey
	samples, err := Read(ctx, db, k)
	if err != nil {
		return 0, err
	}
	return len(samples), WriteCSV(w, samples)
}
