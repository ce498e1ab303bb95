// Package store opens paddock's PostgreSQL database and keeps its schema
// current with embedded, versioned migrations.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/paddock-f1/paddock/pkg/secret"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultURL is the database paddock uses when DATABASE_URL is unset: the
// local server, database "paddock" (created on first use).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/paddock?sslmode=disable"

// Open connects a pool to dsn, creating the database first when it does
// not exist (the server must let the user create databases). It fails
// with an error that says how to point paddock at a server.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's error quotes the string, password and all.
		return nil, secret.Err(fmt.Errorf("store: DATABASE_URL %q is not a PostgreSQL URL or key=value connection string: %w", MaskURL(dsn), err))
	}
	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect %s: %w", MaskURL(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect %s: %w (is PostgreSQL running? set DATABASE_URL)", MaskURL(dsn), err)
	}
	return pool, nil
}

// Wait opens the pool as Open does, waiting for PostgreSQL for as long as
// ctx allows while it cannot be reached (a service started during an
// outage, or before the database): it tries again every few seconds and
// logs each wait. A DATABASE_URL that does not parse, or a server that
// refuses the login, is not waited for.
func Wait(ctx context.Context, dsn string, log *slog.Logger) (*pgxpool.Pool, error) {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pool, err := Open(ctx, dsn)
		if err == nil {
			if attempt > 1 {
				log.Info("PostgreSQL is reachable", "attempts", attempt)
			}
			return pool, nil
		}
		if !unreachable(err) {
			return nil, err
		}
		log.Warn("PostgreSQL unreachable: waiting for it", "attempt", attempt, "retry_in", delay.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// unreachable reports whether err from Open is the server not being there
// (worth waiting for) rather than a setting or a login it refuses.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P03" // cannot_connect_now: starting up or shutting down
	}
	var perr *pgconn.ParseConfigError
	return !errors.As(err, &perr) && !strings.Contains(err.Error(), "is not a PostgreSQL URL")
}

// ensureDatabase creates cfg's database when the server says it does not exist.
func ensureDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("store: connect to %s@%s:%d/%s: %w (is PostgreSQL running? set DATABASE_URL)", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("store: database %q does not exist and the server's \"postgres\" database is unreachable to create it: %w", cfg.Database, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P04" { // created concurrently
			return nil
		}
		return fmt.Errorf("store: create database %q: %w", cfg.Database, err)
	}
	return nil
}

// Schema is a set of migrations with its own version history: a kind's
// tables (package kind), applied after paddock's core schema.
type Schema struct {
	Name string // the kind's name; its history is table goose_<name>
	FS   fs.FS  // goose SQL files at its root
}

// Migrate applies every pending migration of the core schema, then of
// each of schemas in order, under a session advisory lock, so concurrent
// starts are safe. It logs each applied version.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, schemas ...Schema) error {
	core, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	all := append([]Schema{{Name: "", FS: core}}, schemas...)
	if ok, err := current(ctx, pool, all); err == nil && ok {
		return nil
	}
	for _, sc := range all {
		if sc.FS == nil {
			continue
		}
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
		what := "core"
		if sc.Name != "" {
			what = sc.Name
			opts = append(opts, goose.WithTableName(historyTable(sc.Name)))
		}
		p, err := goose.NewProvider(goose.DialectPostgres, db, sc.FS, opts...)
		if err != nil {
			return fmt.Errorf("store: migrations of %s: %w", what, err)
		}
		res, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", what, err)
		}
		for _, r := range res {
			log.Info("migration applied", "schema", what, "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
		}
	}
	return nil
}

// current reports, in one query and without taking the migration lock,
// whether every schema's history holds exactly its migrations, each
// applied: then Migrate has nothing to do. Anything else (a history
// missing, a migration not applied, one the database has and the binary
// does not) is false, and Migrate takes goose's locked path, which decides.
func current(ctx context.Context, pool *pgxpool.Pool, schemas []Schema) (bool, error) {
	want := map[string]map[int64]bool{}
	var q strings.Builder
	for _, sc := range schemas {
		if sc.FS == nil {
			continue
		}
		table := historyTable(sc.Name)
		versions := map[int64]bool{}
		files, err := fs.Glob(sc.FS, "*.sql")
		if err != nil {
			return false, err
		}
		for _, f := range files {
			v, err := goose.NumericComponent(f)
			if err != nil {
				return false, err
			}
			versions[v] = true
		}
		want[table] = versions
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT '%s'::text, version_id FROM %s WHERE is_applied AND version_id > 0",
			strings.ReplaceAll(table, "'", "''"), pgx.Identifier{table}.Sanitize())
	}
	if q.Len() == 0 {
		return true, nil
	}
	rows, err := pool.Query(ctx, q.String())
	if err != nil {
		return false, err // a history table missing: not current
	}
	have := map[string]map[int64]bool{}
	for rows.Next() {
		var table string
		var v int64
		if err := rows.Scan(&table, &v); err != nil {
			rows.Close()
			return false, err
		}
		if have[table] == nil {
			have[table] = map[int64]bool{}
		}
		have[table][v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for table, versions := range want {
		if len(have[table]) != len(versions) {
			return false, nil
		}
		for v := range versions {
			if !have[table][v] {
				return false, nil
			}
		}
	}
	return true, nil
}

// historyTable is the goose version table of the schema named name.
func historyTable(name string) string {
	if name == "" {
		return goose.DefaultTablename
	}
	return "goose_" + strings.ReplaceAll(name, "-", "_")
}

// MaskURL hides the password of a connection string (URL or key=value,
// parseable or not) for logs and errors: secret.Mask.
func MaskURL(dsn string) string { return secret.Mask(dsn) }
