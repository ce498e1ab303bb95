package cardata

import (
	"context"
	"embed"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds/telemetry"
)

//go:embed schema/*.sql
var schema embed.FS

// Kind is the car-data kind: every car's CarData samples at full rate,
// FastF1's Session.car_data, decoded line by line and written by COPY in
// batches inside the extraction's transaction. DriverList (and Jolpica's
// results) name the session's drivers and their order, as FastF1's
// Session.drivers; car numbers that are no driver are dropped.
func Kind() kind.Kind {
	return (&kind.Def[*telemetry.Feed]{
		Spec: kind.Spec{
			Name: "car-data", Version: 1,
			About:  "every car's telemetry at full rate (about 4 Hz): RPM, speed, gear, throttle, brake, DRS",
			Feeds:  telemetry.Feeds(Feed),
			Schema: kind.SchemaOf(schema),
			Exports: []kind.Export{
				{Name: "car-data", Header: CSVHeader, FastF1: "car_data", Driver: true, Write: export},
				lapTelemetry,
			},
		},
		Parse: func(s kind.Session, feeds kind.Feeds) (*telemetry.Feed, error) {
			return telemetry.Prepare(s, feeds, Feed)
		},
		Store: store,
	}).Kind()
}

// tables are the kind's tables: car_samples (by season) and car_streams.
var tables = telemetry.Tables{Streams: "car_streams", Samples: "car_samples",
	Columns: []string{"seq", "date", "rpm", "speed", "throttle", "n_gear", "drs", "brake", "filled"}}

// store decodes the feed into the session's samples, replacing them.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, f *telemetry.Feed) (int, error) {
	return telemetry.Store(ctx, tx, s, tables, f, &format,
		func(r *Sample) string { return r.Driver },
		func(r *Sample, v []any) []any {
			return append(v, int32(r.Seq), r.Date, r.RPM, r.Speed, r.Throttle, int16(r.NGear), int16(r.DRS), r.Brake, r.Source == SourceFill)
		})
}

// Read returns a session's stored samples of one driver ("" for every
// driver) in FastF1's order, with the drivers' abbreviations and the
// session clock (zero when unknown).
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey, driver string) ([]Sample, telemetry.Header, error) {
	var out []Sample
	h, err := telemetry.Read(ctx, db, k, driver, tables,
		"seq, date, rpm, speed, throttle, n_gear, drs, brake, filled", func(number string, rows pgx.Rows) error {
			var s Sample
			var seq int32
			var gear, drs int16
			var filled bool
			if err := rows.Scan(&seq, &s.Date, &s.RPM, &s.Speed, &s.Throttle, &gear, &drs, &s.Brake, &filled); err != nil {
				return err
			}
			s.Driver, s.Seq, s.NGear, s.DRS, s.Date = number, uint32(seq), int8(gear), int8(drs), s.Date.UTC()
			if filled {
				s.Source = SourceFill
			}
			out = append(out, s)
			return nil
		})
	return out, h, err
}

// export writes the stored samples as FastF1's car_data (every driver, or
// one), Driver and DriverNumber in front.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	rows, h, err := Read(ctx, db, q.SessionKey, q.Driver)
	if err != nil {
		return 0, err
	}
	if len(rows) > 0 && h.T0.IsZero() {
		return 0, fmt.Errorf("cardata: %s has samples but no session clock", q.SessionKey)
	}
	return len(rows), WriteCSV(w, rows, h.Abbreviations, h.T0)
}
