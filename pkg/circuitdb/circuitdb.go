// Package circuitdb stores circuit layouts (MultiViewer's corners, marshal
// lights and marshal sectors, and the rotation) once per circuit and year,
// links each event to the layout it ran on, and defines the circuit kind.
package circuitdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/circuit"
	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/f1"
)

// Marker kinds as stored.
const (
	Corners        = "corner"
	MarshalLights  = "marshal_light"
	MarshalSectors = "marshal_sector"
)

// Kind returns the circuit kind for the extractor.
func Kind() extractor.Kind {
	k, _ := f1.LookupKind("circuit")
	return extractor.Kind{Kind: k, Parse: Parse, Store: Store}
}

// Parse reads the MultiViewer layout of the event's circuit.
func Parse(_ extractor.Session, feeds extractor.Feeds) (any, error) {
	info, err := circuit.Parse(feeds[f1.MultiViewerCircuit])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f1.MultiViewerCircuit, err)
	}
	return info, nil
}

// Store writes the layout (replacing that circuit and year's markers) and
// links the session's event to it; it returns the markers written.
func Store(ctx context.Context, tx pgx.Tx, s extractor.Session, parsed any) (int, error) {
	info := parsed.(*circuit.Info)
	key := s.CircuitKey
	if key == 0 {
		key = info.CircuitKey
	}
	if _, err := tx.Exec(ctx, `INSERT INTO circuits (circuit_key, year, name, rotation) VALUES ($1, $2, $3, $4)
		ON CONFLICT (circuit_key, year) DO UPDATE SET name = EXCLUDED.name, rotation = EXCLUDED.rotation`,
		key, s.Year, info.Name, info.Rotation); err != nil {
		return 0, fmt.Errorf("circuitdb: circuit %d/%d: %w", key, s.Year, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM circuit_markers WHERE circuit_key = $1 AND year = $2`, key, s.Year); err != nil {
		return 0, fmt.Errorf("circuitdb: clear %d/%d: %w", key, s.Year, err)
	}
	var rows [][]any
	for _, set := range []struct {
		kind    string
		markers []circuit.Marker
	}{{Corners, info.Corners}, {MarshalLights, info.MarshalLights}, {MarshalSectors, info.MarshalSectors}} {
		for i, m := range set.markers {
			rows = append(rows, []any{key, s.Year, set.kind, i, m.X, m.Y, m.Number, m.Letter, m.Angle, m.Length, m.Distance})
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"circuit_markers"},
		[]string{"circuit_key", "year", "kind", "seq", "x", "y", "number", "letter", "angle", "length", "distance"}, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, fmt.Errorf("circuitdb: markers %d/%d: %w", key, s.Year, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO event_circuits (year, round, circuit_key) VALUES ($1, $2, $3)
		ON CONFLICT (year, round) DO UPDATE SET circuit_key = EXCLUDED.circuit_key`, s.Year, s.Round, key); err != nil {
		return 0, fmt.Errorf("circuitdb: link %d/%d: %w", s.Year, s.Round, err)
	}
	return int(n), nil
}

// ErrNoLayout reports an event without a stored layout.
var ErrNoLayout = errors.New("circuitdb: no circuit layout stored for this event")

// Read returns the layout an event ran on, with its markers of kind.
func Read(ctx context.Context, pool *pgxpool.Pool, year, round int, kind string) (key int, rotation float64, markers []circuit.Marker, err error) {
	err = pool.QueryRow(ctx, `SELECT c.circuit_key, c.rotation FROM event_circuits e JOIN circuits c ON c.circuit_key = e.circuit_key AND c.year = e.year
		WHERE e.year = $1 AND e.round = $2`, year, round).Scan(&key, &rotation)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil, ErrNoLayout
	}
	if err != nil {
		return 0, 0, nil, fmt.Errorf("circuitdb: read %d/%d: %w", year, round, err)
	}
	rows, err := pool.Query(ctx, `SELECT x, y, number, letter, angle, length, distance FROM circuit_markers
		WHERE circuit_key = $1 AND year = $2 AND kind = $3 ORDER BY seq`, key, year, kind)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("circuitdb: read markers %d/%d: %w", year, round, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m circuit.Marker
		if err := rows.Scan(&m.X, &m.Y, &m.Number, &m.Letter, &m.Angle, &m.Length, &m.Distance); err != nil {
			return 0, 0, nil, fmt.Errorf("circuitdb: read markers %d/%d: %w", year, round, err)
		}
		markers = append(markers, m)
	}
	return key, rotation, markers, rows.Err()
}
