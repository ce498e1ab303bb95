// Package testenv gives tests the real things they run against: a fresh
// PostgreSQL database per call (on the server PADDOCK_TEST_DATABASE_URL
// names, the local one by default), dropped when the test ends, and the
// paths of the recorded upstream shipped in testdata/.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("PADDOCK_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Database creates an empty database and returns its URL; it is dropped
// at the end of the test. A server that cannot be reached fails the test
// with how to point tests at one.
func Database(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		t.Fatalf("testenv: PADDOCK_TEST_DATABASE_URL: %v", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL at %s is unreachable (start it, or set PADDOCK_TEST_DATABASE_URL): %v", cfg.Host, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "paddock_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("testenv: PADDOCK_TEST_DATABASE_URL must be a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Root is the project root (the directory holding go.work).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.work above the test's directory")
		}
		dir = parent
	}
}

// Recorded is the recorded upstream tree (testdata/f1/recorded).
func Recorded(t testing.TB) string { return filepath.Join(Root(t), "testdata", "f1", "recorded") }

// Reference is FastF1's reference output tree (testdata/f1/reference).
func Reference(t testing.TB) string { return filepath.Join(Root(t), "testdata", "f1", "reference") }
