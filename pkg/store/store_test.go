package store

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestMigrateAppliesANewMigrationAfterTheQuickCheck migrates a database,
// then migrates it again with a schema that gained a migration: the quick
// check that finds every history complete must not hide the new one, and
// a third Migrate with nothing new must leave it as it is.
func TestMigrateAppliesANewMigrationAfterTheQuickCheck(t *testing.T) {
	ctx := context.Background()
	pool, err := Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	one := fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE quick_a (id int);\n")}}
	if err := Migrate(ctx, pool, log, Schema{Name: "quick-check", FS: one}); err != nil {
		t.Fatal(err)
	}
	if ok, err := current(ctx, pool, []Schema{{Name: "quick-check", FS: one}}); err != nil || !ok {
		t.Fatalf("after Migrate the quick check says current=%v (%v), want true", ok, err)
	}
	two := fstest.MapFS{
		"00001_a.sql": one["00001_a.sql"],
		"00002_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE quick_b (id int);\n")},
	}
	if ok, err := current(ctx, pool, []Schema{{Name: "quick-check", FS: two}}); err != nil || ok {
		t.Fatalf("with a new migration the quick check says current=%v (%v), want false", ok, err)
	}
	for range 2 {
		if err := Migrate(ctx, pool, log, Schema{Name: "quick-check", FS: two}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "INSERT INTO quick_b VALUES (1)"); err != nil {
		t.Fatalf("the new migration was not applied: %v", err)
	}
	if ok, _ := current(ctx, pool, []Schema{{Name: "absent", FS: one}}); ok {
		t.Fatal("a schema never migrated: current=true, want false")
	}
}
