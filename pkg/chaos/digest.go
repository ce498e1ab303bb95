package chaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Table is an order-independent digest of a table's rows.
type Table struct {
	Rows     int64
	Distinct int64  // distinct rows: Rows-Distinct rows are duplicated
	MD5      string // md5 of the rows' text, sorted
	Columns  []string
}

// Bookkeeping tables hold one row per run (runs, run_items, ...) or the
// schema's versions: they differ between two runs by design and are
// checked by RunState instead.
func bookkeeping(table string) bool {
	return table == "runs" || strings.HasPrefix(table, "run_") || strings.HasPrefix(table, "goose")
}

// Digest digests every table of the public schema but the bookkeeping
// ones. Columns that differ between two runs that wrote the same data are
// left out: run ids, identity and serial columns (and columns of the same
// name elsewhere, which refer to them) and columns defaulting to now().
// A partitioned table is digested whole, under its own name.
func Digest(ctx context.Context, c *pgx.Conn) (map[string]Table, error) {
	rows, err := c.Query(ctx, `
		SELECT t.relname, a.attname,
		       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') ~* '^(nextval|now\(\)|CURRENT_TIMESTAMP|statement_timestamp|clock_timestamp)'
		FROM pg_class t
		JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
		WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition
		ORDER BY t.relname, a.attnum`)
	if err != nil {
		return nil, fmt.Errorf("chaos: list tables: %w", err)
	}
	type col struct {
		table, name string
		generated   bool
	}
	var cols []col
	generatedNames := map[string]bool{"run_id": true}
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.name, &c.generated); err != nil {
			return nil, err
		}
		cols = append(cols, c)
		if c.generated && !strings.HasSuffix(c.name, "_at") {
			generatedNames[c.name] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chaos: list tables: %w", err)
	}
	keep := map[string][]string{}
	for _, c := range cols {
		if bookkeeping(c.table) {
			continue
		}
		if _, ok := keep[c.table]; !ok {
			keep[c.table] = nil
		}
		if c.generated || generatedNames[c.name] {
			continue
		}
		keep[c.table] = append(keep[c.table], c.name)
	}
	out := map[string]Table{}
	for table, names := range keep {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = pgx.Identifier{n}.Sanitize()
		}
		expr := "''"
		if len(quoted) > 0 {
			expr = "ROW(" + strings.Join(quoted, ", ") + ")::text"
		}
		q := fmt.Sprintf(`SELECT count(*), count(DISTINCT r), coalesce(md5(string_agg(r, E'\n' ORDER BY r COLLATE "C")), '')
			FROM (SELECT %s AS r FROM %s) s`, expr, pgx.Identifier{table}.Sanitize())
		var t Table
		if err := c.QueryRow(ctx, q).Scan(&t.Rows, &t.Distinct, &t.MD5); err != nil {
			return nil, fmt.Errorf("chaos: digest %s: %w", table, err)
		}
		t.Columns = names
		out[table] = t
	}
	return out, nil
}

// Differences lists, table by table, how got differs from want, and the
// tables holding duplicated rows; empty when they are equal.
func Differences(want, got map[string]Table) []string {
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var diffs []string
	for _, n := range sorted {
		w, wok := want[n]
		g, gok := got[n]
		switch {
		case !wok:
			diffs = append(diffs, fmt.Sprintf("%s: not in the clean run (%d rows)", n, g.Rows))
		case !gok:
			diffs = append(diffs, fmt.Sprintf("%s: missing (clean run: %d rows)", n, w.Rows))
		case !slices.Equal(w.Columns, g.Columns):
			diffs = append(diffs, fmt.Sprintf("%s: columns %v, clean run %v", n, g.Columns, w.Columns))
		case g.Rows != w.Rows:
			diffs = append(diffs, fmt.Sprintf("%s: %d rows, clean run %d", n, g.Rows, w.Rows))
		case g.MD5 != w.MD5:
			diffs = append(diffs, fmt.Sprintf("%s: %d rows as in the clean run but different content", n, g.Rows))
		}
		if gok && g.Distinct != g.Rows && (!wok || w.Distinct == w.Rows) {
			diffs = append(diffs, fmt.Sprintf("%s: %d duplicated rows", n, g.Rows-g.Distinct))
		}
	}
	return diffs
}

// RunState is how the runs recorded in a database ended.
type RunState struct {
	Runs       int    // runs recorded
	Unfinished int    // runs still 'running' or without finished_at
	Pending    int    // run items (session, kind) still pending
	Statuses   string // "completed:1 failed:0 ..." for the table
}

// Runs reads the state of every run.
func Runs(ctx context.Context, c *pgx.Conn) (RunState, error) {
	var s RunState
	err := c.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'running' OR finished_at IS NULL),
		coalesce(string_agg(status, ',' ORDER BY started_at), '') FROM runs`).Scan(&s.Runs, &s.Unfinished, &s.Statuses)
	if err != nil {
		return s, fmt.Errorf("chaos: runs: %w", err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM run_items WHERE status = 'pending'`).Scan(&s.Pending); err != nil {
		return s, fmt.Errorf("chaos: run items: %w", err)
	}
	return s, nil
}
