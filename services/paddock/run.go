package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

const usage = `paddock imports Formula 1 timing data into PostgreSQL.

Commands:
  import   plan and run an import, printing the gap report and the run summary
  gaps     print the gap report without planning anything (--json for machines)
  plan     send a plan command to running services (NATS_URL) and print the gap report
  export   write stored data as FastF1-compatible CSV (export weather ...)
  quota    print each upstream host's quota: calls made in the window, remaining, next reset
  migrate  apply the database schema (and the JetStream topology when NATS_URL is set)
  dev      run every service in this process until interrupted
  standin  serve a recorded upstream tree over HTTP

Environment:
  DATABASE_URL       PostgreSQL (default ` + store.DefaultURL + `)
  NATS_URL           NATS with JetStream; unset = an embedded server in this process
  PADDOCK_DATA_DIR   data directory of the embedded server (default .paddock)
  PADDOCK_LOG_LEVEL  debug, info, warn, error
  PADDOCK_LIVETIMING_URL, PADDOCK_MIRROR_URL, PADDOCK_JOLPICA_URL, PADDOCK_GITHUBRAW_URL,
  PADDOCK_MULTIVIEWER_URL  upstream base URLs; PADDOCK_HTTP_TIMEOUT, PADDOCK_HTTP_RETRIES
  SLACK_WEBHOOK_URL        where runs planned with --notify post (embedded default)
  PADDOCK_QUOTA_WINDOW     the quota window (default 1h)
  PADDOCK_QUOTA_LIVETIMING, _MIRROR, _JOLPICA, _MULTIVIEWER, _GITHUBRAW
                           calls per window[/minimum interval], e.g. 500/250ms

Run 'paddock <command> -h' for a command's flags.
`

// config is the CLI's configuration from the environment.
type config struct {
	DatabaseURL string
	NATSURL     string
	DataDir     string
	LogLevel    slog.Level
	Upstream    upstream.Config
	Quota       governor.Config
	SlackURL    string // secret: never printed
	// Kinds is the default of --kinds (PADDOCK_KINDS): the kinds a plan
	// covers when it names none; "" = every kind.
	Kinds string
}

func loadConfig() (config, error) {
	r := envconf.New()
	c := config{
		DatabaseURL: r.String("DATABASE_URL", store.DefaultURL),
		NATSURL:     r.String("NATS_URL", ""),
		DataDir:     r.String("PADDOCK_DATA_DIR", ".paddock"),
		LogLevel:    logging.Level(r.String("PADDOCK_LOG_LEVEL", ""), slog.LevelError),
		Upstream:    r.Upstream(),
		Quota:       r.Quota(),
		SlackURL:    r.String("SLACK_WEBHOOK_URL", ""),
		Kinds:       r.String("PADDOCK_KINDS", ""),
	}
	if err := r.Err(); err != nil {
		return c, usageError("configuration: %v", err)
	}
	return c, nil
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		if len(args) == 0 {
			return &exitError{code: 2}
		}
		return nil
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, "paddock", cfg.LogLevel)
	switch args[0] {
	case "import":
		return cmdImport(ctx, cfg, log, args[1:])
	case "gaps":
		return cmdGaps(ctx, cfg, log, args[1:])
	case "plan":
		return cmdPlan(ctx, cfg, log, args[1:])
	case "export":
		return cmdExport(ctx, cfg, args[1:])
	case "migrate":
		return cmdMigrate(ctx, cfg, log, args[1:])
	case "dev":
		return cmdDev(ctx, cfg, log, args[1:])
	case "quota":
		return cmdQuota(ctx, cfg, log, args[1:])
	case "standin":
		return cmdStandin(ctx, args[1:])
	}
	return usageError("unknown command %q; run 'paddock help'", args[0])
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// shutdownTimeout bounds draining at exit.
const shutdownTimeout = 30 * time.Second
