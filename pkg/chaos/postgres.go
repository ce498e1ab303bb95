package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a PostgreSQL cluster of its own (Debian's pg_createcluster),
// on its own port, that can be stopped and started without touching any
// other cluster of the machine.
type Postgres struct {
	Version string // major version, e.g. "15"
	Name    string // cluster name
	Port    int
}

// Usable reports why a cluster cannot be made here, or nil: it needs root
// and Debian's postgresql-common tools.
func (p *Postgres) Usable() error {
	if os.Geteuid() != 0 {
		return errors.New("a PostgreSQL cluster of its own needs root (pg_createcluster, pg_ctlcluster)")
	}
	for _, tool := range []string{"pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_lsclusters"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (Debian's postgresql-common): %w", tool, err)
		}
	}
	return nil
}

// Create makes the cluster (trust authentication) and starts it. A
// cluster of the same name left by an earlier run is dropped first.
func (p *Postgres) Create(ctx context.Context) error {
	if out, _ := exec.CommandContext(ctx, "pg_lsclusters", "-h").Output(); clusterListed(string(out), p.Version, p.Name) {
		if err := p.Drop(ctx); err != nil {
			return err
		}
	}
	if err := run(ctx, "pg_createcluster", p.Version, p.Name, "-p", fmt.Sprint(p.Port), "--", "--auth=trust"); err != nil {
		return err
	}
	return p.Start(ctx)
}

func clusterListed(list, version, name string) bool {
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == version && f[1] == name {
			return true
		}
	}
	return false
}

// Start starts the cluster and waits until it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	if err := run(ctx, "pg_ctlcluster", p.Version, p.Name, "start"); err != nil {
		return err
	}
	return poll(ctx, 30*time.Second, func() error {
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

// Stop stops the cluster in fast mode: open connections are cut, as in an
// outage.
func (p *Postgres) Stop(ctx context.Context) error {
	return run(ctx, "pg_ctlcluster", p.Version, p.Name, "stop", "-m", "fast")
}

// Drop stops and removes the cluster with its data.
func (p *Postgres) Drop(ctx context.Context) error {
	return run(ctx, "pg_dropcluster", "--stop", p.Version, p.Name)
}

// URL is the URL of database db on the cluster.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// CreateDatabase makes an empty database and returns its URL.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	c, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("chaos: connect to the cluster on port %d: %w", p.Port, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("chaos: drop database %s: %w", name, err)
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("chaos: create database %s: %w", name, err)
	}
	return p.URL(name), nil
}

// DropDatabase removes a database, cutting its connections.
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	c, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("chaos: connect to the cluster on port %d: %w", p.Port, err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// run runs a command and returns its output with the error.
func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chaos: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// poll calls f every 100 ms until it succeeds, ctx ends or timeout passes;
// it returns f's last error then.
func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
