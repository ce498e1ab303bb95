package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// EnsureYearPartition creates table's partition for one season when it is
// missing: table_y<year>, FOR VALUES IN (year), for a table declared
// PARTITION BY LIST (year). It runs inside tx under a transaction-scoped
// advisory lock, so concurrent extractions of one season create it once;
// the parent's indexes are created on it by PostgreSQL.
func EnsureYearPartition(ctx context.Context, tx pgx.Tx, table string, year int) error {
	part := fmt.Sprintf("%s_y%d", table, year)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, part); err != nil {
		return fmt.Errorf("store: lock partition %s: %w", part, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, part).Scan(&exists); err != nil {
		return fmt.Errorf("store: partition %s: %w", part, err)
	}
	if exists {
		return nil
	}
	id := pgx.Identifier{part}.Sanitize()
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s PARTITION OF %s FOR VALUES IN (%d)`, id, pgx.Identifier{table}.Sanitize(), year)); err != nil {
		return fmt.Errorf("store: create partition %s: %w", part, err)
	}
	return nil
}
