package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/envconf"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/logging"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

const environment = `Environment:
  DATABASE_URL       PostgreSQL (default ` + store.DefaultURL + `)
  NATS_URL           NATS with JetStream; unset = an embedded server in this process
  NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT, NATS_KEY
                     NATS credentials file, nkey seed file, server CA, TLS client certificate and key
  PADDOCK_DATA_DIR   data directory of the embedded server (default .paddock)
  PADDOCK_KINDS      the kinds import, plan and gaps cover without --kinds (default every kind)
  PADDOCK_LOG_LEVEL  debug, info, warn, error
  PADDOCK_LIVETIMING_URL, PADDOCK_MIRROR_URL, PADDOCK_JOLPICA_URL, PADDOCK_GITHUBRAW_URL,
  PADDOCK_MULTIVIEWER_URL  upstream base URLs; PADDOCK_HTTP_TIMEOUT, PADDOCK_HTTP_RETRIES
  SLACK_WEBHOOK_URL        where runs planned with --notify post (embedded default)
  PADDOCK_QUOTA_WINDOW     the quota window (default 1h)
  PADDOCK_QUOTA_LIVETIMING, _MIRROR, _JOLPICA, _MULTIVIEWER, _GITHUBRAW
                           calls per window[/minimum interval], e.g. 500/250ms; a host's ledger
                           keeps the first process's limits ('paddock quota --set' changes them)
Every value given is checked at start; a bad one stops the command with exit code 2.
`

// usage is 'paddock help': every command with one line, then the
// environment.
func usage() string {
	var b strings.Builder
	b.WriteString("paddock imports Formula 1 timing data into PostgreSQL.\n\nUsage: paddock <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\n" + environment + "\nRun 'paddock help <command>' or 'paddock <command> -h' for a command's flags.\n")
	return b.String()
}

// config is the CLI's configuration from the environment.
type config struct {
	DatabaseURL string
	NATSURL     string
	NATSAuth    natsrv.Auth // NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY
	DataDir     string
	LogLevel    slog.Level
	Upstream    upstream.Config
	Quota       governor.Config
	SlackURL    string // secret: never printed
	// Kinds is the default of --kinds (PADDOCK_KINDS): the kinds a plan
	// covers when it names none; "" = every kind.
	Kinds string
}

// loadConfig reads the environment. On an error the returned config still
// holds every value that could be read (and the defaults of the rest), so
// help can show the defaults.
func loadConfig() (config, error) {
	r := envconf.New()
	c := config{
		DatabaseURL: r.String("DATABASE_URL", store.DefaultURL),
		NATSURL:     r.String("NATS_URL", ""),
		NATSAuth:    r.NATSAuth(),
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

// run runs the command args name, writing what it prints to out (progress
// and diagnostics go to standard error).
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage())
		return &exitError{code: 2}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(out, usage())
		return nil
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	c, err := lookupCommand(args[0])
	if err != nil {
		return err
	}
	cfg, cfgErr := loadConfig()
	cl := &cli{cfg: cfg, log: logging.New(os.Stderr, "paddock", cfg.LogLevel), out: out}
	fs := newFlagSet(c.name)
	runCmd := c.setup(fs, cl)
	rest, err := parseFlags(c, fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printHelp(out, c, fs)
		return nil
	}
	if err != nil {
		return err
	}
	if cfgErr != nil && !c.bare {
		return cfgErr
	}
	return runCmd(ctx, rest)
}

// cli is what every command runs with.
type cli struct {
	cfg config
	log *slog.Logger
	out io.Writer // standard output
}

// commands lists every command of the CLI in the order help shows them.
func commands() []command {
	return []command{
		{name: "import", args: "--year Y [--round R] [--session NAME] [--kinds K,...] [flags]",
			summary: "plan and run an import, printing the gap report, each kind as it ends and the run summary",
			setup:   setupImport},
		{name: "gaps", args: "--year Y [--round R] [--session NAME] [--kinds K,...] [--json]",
			summary: "print the gap report without planning anything (--json for machines)",
			setup:   setupGaps},
		{name: "replay", args: "KIND [--year Y [--round R [--session NAME]]] [--json]",
			summary: "re-run one kind's extractor over the archived sessions, asking the upstream for nothing",
			operand: true, more: replayHelp, setup: setupReplay},
		{name: "plan", args: "--year Y [--round R] [--session NAME] [--kinds K,...] [--follow] [flags]",
			summary: "send a plan command to running services (NATS_URL) and print the gap report",
			setup:   setupPlan},
		{name: "status", args: "[--run ID] [--json] [--limit N]",
			summary: "list the recent runs, or show one run per kind: done, failed, unavailable, pending, pauses, deferred",
			setup:   setupStatus},
		{name: "export", args: "WHAT --year Y --round R [--session NAME] [--driver N] [--lap N|fastest] [--out FILE]",
			summary: "write stored data as FastF1-compatible CSV (export weather ...)",
			operand: true, more: exportHelp, setup: setupExport},
		{name: "quota", args: "[--json] [--data-dir DIR] [--set HOST=CALLS[/MIN_INTERVAL]]... [--window D]",
			summary: "print each upstream host's quota: calls made in the window, remaining, next reset, the ledger's limits (--set changes them)",
			more:    quotaHelp, setup: setupQuota},
		{name: "dlq", args: "ls [--consumer C] [--json] | replay ID...|--all [--consumer C] [--timeout D]",
			summary: "list the dead letters (messages the services gave up on, with why), or send them again after a fix",
			operand: true, more: dlqHelp, setup: setupDLQ},
		{name: "migrate", args: "",
			summary: "apply the database schema (and the JetStream topology when NATS_URL is set)",
			setup:   setupMigrate},
		{name: "dev", args: "[--listen PORT] [--recorded DIR] [--data-dir DIR] [--http-addr ADDR]",
			summary: "run every service in this process until interrupted",
			setup:   setupDev},
		{name: "watch", args: "[--year Y] [--every 1m] [--notify] [--kinds K,...] [--recorded DIR] [--data-dir DIR] [flags]",
			summary: "keep the current season complete: plan each session from 30 minutes after it ends, hourly for a week, until interrupted",
			setup:   setupWatch},
		{name: "standin", args: "[--dir DIR] [--addr HOST:PORT]",
			summary: "serve a recorded upstream tree over HTTP",
			bare:    true, setup: setupStandin},
		{name: "probe", args: "URL [--timeout 3s]",
			summary: "exit 0 when URL answers 200 (a health check for containers without a shell)",
			operand: true, bare: true, setup: setupProbe},
		{name: "version", args: "",
			summary: "print paddock's version and build: module version, VCS revision and time, Go version",
			bare:    true, setup: setupVersion},
		{name: "help", args: "[COMMAND]",
			summary: "list the commands, or show one command's usage and flags",
			operand: true, bare: true, setup: setupHelp},
	}
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// shutdownTimeout bounds draining at exit.
const shutdownTimeout = 30 * time.Second
