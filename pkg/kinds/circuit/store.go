package circuit

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

//go:embed schema/*.sql
var schema embed.FS

// Marker kinds as stored.
const (
	Corners        = "corner"
	MarshalLights  = "marshal_light"
	MarshalSectors = "marshal_sector"
)

// Kind is the circuit kind: MultiViewer's layout of the event's circuit,
// loaded once per event; SessionInfo gives the circuit key when the
// schedule lacks it.
func Kind() kind.Kind {
	return (&kind.Def[*Info]{
		Spec: kind.Spec{
			Name: "circuit", Version: 1, PerEvent: true,
			About: "the event's circuit layout: corners, marshal lights, marshal sectors, rotation",
			Feeds: []f1.FeedNeed{
				{MultiViewer: true},
				{File: "SessionInfo.jsonStream", Optional: true, KeyLookup: true},
			},
			Schema: kind.SchemaOf(schema),
			Exports: []kind.Export{
				markerExport("corners", "corners", Corners),
				markerExport("marshal-lights", "marshal_lights", MarshalLights),
				markerExport("marshal-sectors", "marshal_sectors", MarshalSectors),
			},
		},
		Parse: func(_ kind.Session, feeds kind.Feeds) (*Info, error) {
			info, err := Parse(feeds[f1.MultiViewerCircuit])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f1.MultiViewerCircuit, err)
			}
			return info, nil
		},
		Store: store,
	}).Kind()
}

// markerExport is the per-event export of one marker set as FastF1 writes
// it (CircuitInfo.<fastf1>).
func markerExport(name, fastf1, markerKind string) kind.Export {
	return kind.Export{Name: name, PerEvent: true, Header: strings.Join(csvHeader, ","), FastF1: fastf1,
		Write: func(ctx context.Context, db kind.Querier, q kind.Query, w io.Writer) (int, error) {
			k := q.SessionKey
			_, _, markers, err := Read(ctx, db, k.Year, k.Round, markerKind)
			if err != nil {
				return 0, err
			}
			return len(markers), WriteCSV(w, markers)
		}}
}

// store writes the layout (replacing that circuit and year's markers) and
// links the session's event to it; it returns the markers written.
func store(ctx context.Context, tx pgx.Tx, s kind.Session, info *Info) (int, error) {
	key := s.CircuitKey
	if key == 0 {
		key = info.CircuitKey
	}
	if _, err := tx.Exec(ctx, `INSERT INTO circuits (circuit_key, year, name, rotation) VALUES ($1, $2, $3, $4)
		ON CONFLICT (circuit_key, year) DO UPDATE SET name = EXCLUDED.name, rotation = EXCLUDED.rotation`,
		key, s.Year, info.Name, info.Rotation); err != nil {
		return 0, fmt.Errorf("circuit: circuit %d/%d: %w", key, s.Year, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM circuit_markers WHERE circuit_key = $1 AND year = $2`, key, s.Year); err != nil {
		return 0, fmt.Errorf("circuit: clear %d/%d: %w", key, s.Year, err)
	}
	var rows [][]any
	for _, set := range []struct {
		kind    string
		markers []Marker
	}{{Corners, info.Corners}, {MarshalLights, info.MarshalLights}, {MarshalSectors, info.MarshalSectors}} {
		for i, m := range set.markers {
			rows = append(rows, []any{key, s.Year, set.kind, i, m.X, m.Y, m.Number, m.Letter, m.Angle, m.Length, m.Distance})
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"circuit_markers"},
		[]string{"circuit_key", "year", "kind", "seq", "x", "y", "number", "letter", "angle", "length", "distance"}, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, fmt.Errorf("circuit: markers %d/%d: %w", key, s.Year, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO event_circuits (year, round, circuit_key) VALUES ($1, $2, $3)
		ON CONFLICT (year, round) DO UPDATE SET circuit_key = EXCLUDED.circuit_key`, s.Year, s.Round, key); err != nil {
		return 0, fmt.Errorf("circuit: link %d/%d: %w", s.Year, s.Round, err)
	}
	return int(n), nil
}

// ErrNoLayout reports an event without a stored layout.
var ErrNoLayout = errors.New("circuit: no circuit layout stored for this event: import it with --kinds circuit (MultiViewer may not have it)")

// Read returns the layout an event ran on, with its markers of kind.
func Read(ctx context.Context, db kind.Querier, year, round int, markerKind string) (key int, rotation float64, markers []Marker, err error) {
	err = db.QueryRow(ctx, `SELECT c.circuit_key, c.rotation FROM event_circuits e JOIN circuits c ON c.circuit_key = e.circuit_key AND c.year = e.year
		WHERE e.year = $1 AND e.round = $2`, year, round).Scan(&key, &rotation)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil, ErrNoLayout
	}
	if err != nil {
		return 0, 0, nil, fmt.Errorf("circuit: read %d/%d: %w", year, round, err)
	}
	rows, err := db.Query(ctx, `SELECT x, y, number, letter, angle, length, distance FROM circuit_markers
		WHERE circuit_key = $1 AND year = $2 AND kind = $3 ORDER BY seq`, key, year, markerKind)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("circuit: read markers %d/%d: %w", year, round, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Marker
		if err := rows.Scan(&m.X, &m.Y, &m.Number, &m.Letter, &m.Angle, &m.Length, &m.Distance); err != nil {
			return 0, 0, nil, fmt.Errorf("circuit: read markers %d/%d: %w", year, round, err)
		}
		markers = append(markers, m)
	}
	return key, rotation, markers, rows.Err()
}
