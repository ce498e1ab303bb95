package position

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

// Kind is the position kind: every car's Position samples at full rate,
// FastF1's Session.pos_data, decoded line by line and written by COPY in
// batches inside the extraction's transaction. DriverList (and Jolpica's
// results) name the session's drivers and their order, as FastF1's
// Session.drivers; car numbers that are no driver are dropped.
func Kind() kind.Kind {
	return (&kind.Def[*telemetry.Feed]{
		Spec: kind.Spec{
			Name: "position", Version: 1,
			About:  "every car's position at full rate (about 4 Hz): X, Y, Z, on or off track",
			Feeds:  telemetry.Feeds(Feed),
			Schema: kind.SchemaOf(schema),
			Exports: []kind.Export{
				{Name: "position", Header: CSVHeader, FastF1: "pos_data", Driver: true, Write: export},
			},
		},
		Parse: func(s kind.Session, feeds kind.Feeds) (*telemetry.Feed, error) {
			return telemetry.Prepare(s, feeds, Feed)
		},
		Store: store,
	}).Kind()
}

// tables are the kind's tables: position_samples (by season) and
// position_streams.
var tables = telemetry.Tables{Streams: "position_streams", Samples: "position_samples",
	Columns: []string{"seq", "date", "on_track", "status", "x", "y", "z", "filled"}}

// store decodes the feed into the session's samples, replacing them.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, f *telemetry.Feed) (int, error) {
	return telemetry.Store(ctx, tx, s, tables, f, &format,
		func(r *Sample) string { return r.Driver },
		func(r *Sample, v []any) []any {
			on, other := statusCode(r.Status)
			return append(v, int32(r.Seq), r.Date, on, other, r.X, r.Y, r.Z, r.Source == SourceFill)
		})
}

// Read returns a session's stored samples of one driver ("" for every
// driver) in FastF1's order, with the drivers' abbreviations and the
// session clock (zero when unknown).
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey, driver string) ([]Sample, telemetry.Header, error) {
	var out []Sample
	h, err := telemetry.Read(ctx, db, k, driver, tables,
		"seq, date, on_track, status, x, y, z, filled", func(number string, rows pgx.Rows) error {
			var s Sample
			var seq int32
			var on *bool
			var other *string
			var filled bool
			if err := rows.Scan(&seq, &s.Date, &on, &other, &s.X, &s.Y, &s.Z, &filled); err != nil {
				return err
			}
			s.Driver, s.Seq, s.Status, s.Date = number, uint32(seq), statusOf(on, other), s.Date.UTC()
			if filled {
				s.Source = SourceFill
			}
			out = append(out, s)
			return nil
		})
	return out, h, err
}

// export writes the stored samples as FastF1's pos_data (every driver, or
// one), Driver and DriverNumber in front.
func export(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
	rows, h, err := Read(ctx, db, q.SessionKey, q.Driver)
	if err != nil {
		return 0, err
	}
	if len(rows) > 0 && h.T0.IsZero() {
		return 0, fmt.Errorf("position: %s has samples but no session clock", q.SessionKey)
	}
	return len(rows), WriteCSV(w, rows, h.Abbreviations, h.T0)
}

// statusCode stores a Status as on_track (true OnTrack, false OffTrack)
// or, for any other text, as status with on_track NULL; the text "None"
// (a sample without status) is both NULL.
func statusCode(s Status) (on *bool, other *string) {
	t, f := true, false
	switch s {
	case StatusOnTrack:
		return &t, nil
	case StatusOffTrack:
		return &f, nil
	case StatusNone:
		return nil, nil
	}
	text := string(s)
	return nil, &text
}

// statusOf reads on_track and status back.
func statusOf(on *bool, other *string) Status {
	switch {
	case on != nil && *on:
		return StatusOnTrack
	case on != nil:
		return StatusOffTrack
	case other != nil:
		return Status(*other)
	}
	return StatusNone
}
