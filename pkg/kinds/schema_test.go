package kinds

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestSchemaIsCommentedAndMigratesTwice applies the core schema and every
// kind's on an empty database, twice (the second run applies nothing),
// and finds a comment on every table, view and column an analyst sees.
func TestSchemaIsCommentedAndMigratesTwice(t *testing.T) {
	ctx := context.Background()
	pool, err := store.Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		if err := store.Migrate(ctx, pool, log, Schemas()...); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := pool.Query(ctx, `
		SELECT c.relname, '', obj_description(c.oid, 'pg_class') IS NOT NULL
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND c.relname NOT LIKE 'goose%'
		UNION ALL
		SELECT c.relname, a.attname, col_description(c.oid, a.attnum) IS NOT NULL
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'goose%'
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tables, columns := 0, 0
	for rows.Next() {
		var table, column string
		var commented bool
		if err := rows.Scan(&table, &column, &commented); err != nil {
			t.Fatal(err)
		}
		if column == "" {
			tables++
		} else {
			columns++
		}
		if !commented {
			t.Errorf("no COMMENT ON %s %s", table, column)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tables and views, %d columns, each commented", tables, columns)
	if tables < 10 {
		t.Fatalf("only %d tables found", tables)
	}
}
