package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/streams"
)

// replayHelp is what 'paddock replay -h' says after the flags.
func replayHelp() string {
	return "KIND is one of " + strings.Join(kinds.Names(), ", ") + `.
Replay runs that kind's extractor again over the sessions whose feeds it needs
are in the raw archive, and asks the upstream for nothing: a feed the archive
lacks is not fetched, and a session without its required feeds there is listed
as not archived and left alone. Use it after changing a kind, or to rebuild a
kind's tables. Without --year it replays every season the extraction ledger
(PostgreSQL, DATABASE_URL) has the kind for. The embedded default reads the
archive under --data-dir: use the one the import used.
`
}

// setupReplay is 'paddock replay KIND': a plan of one kind, forced, and
// archive-only, followed like an import.
func setupReplay(fs *flag.FlagSet, cl *cli) runFunc {
	f := &planFlags{fs: fs}
	fs.IntVar(&f.year, "year", 0, "season to replay (default: every season the ledger has the kind for)")
	fs.IntVar(&f.round, "round", 0, "only this round")
	fs.StringVar(&f.session, "session", "", `only this session: "Qualifying", "Practice 2", ... or Q, FP2, SQ, SS, S, R`)
	fs.BoolVar(&f.notify, "notify", false, "post the run's summary to Slack (SLACK_WEBHOOK_URL)")
	fs.BoolVar(&f.asJSON, "json", false, "print the gap report and the summary as JSON")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "how long to wait for the planner's answer")
	fs.StringVar(&f.dataDir, "data-dir", cl.cfg.DataDir, "data directory of the embedded JetStream server, where the raw archive is (PADDOCK_DATA_DIR)")
	return func(ctx context.Context, rest []string) error {
		if len(rest) == 0 {
			return usageError("replay needs a kind: paddock replay KIND [--year Y [--round R [--session S]]]; KIND is one of %s", strings.Join(kinds.Names(), ", "))
		}
		if len(rest) > 1 {
			return usageError("unexpected argument %q: replay takes one kind", rest[1])
		}
		kind, err := kinds.Parse(rest[:1])
		if err != nil {
			return usageError("%v", err)
		}
		cmd := streams.PlanCommand{V: streams.SchemaVersion, Year: f.year, Session: f.session,
			Kinds: kind, Force: true, ArchiveOnly: true, Notify: f.notify}
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name == "round" {
				r := f.round
				cmd.Round = &r
			}
		})
		if f.year == 0 && (cmd.Round != nil || f.session != "") {
			return usageError("--round and --session need --year")
		}
		return cmdReplay(ctx, cl, f, cmd)
	}
}

func cmdReplay(ctx context.Context, cl *cli, f *planFlags, cmd streams.PlanCommand) error {
	years := []int{cmd.Year}
	if cmd.Year == 0 {
		var err error
		if years, err = ledgerYears(ctx, cl.cfg.DatabaseURL, cmd.Kinds[0]); err != nil {
			return err
		}
		if len(years) == 0 {
			return &exitError{code: 1, msg: fmt.Sprintf("nothing to replay: the extraction ledger has no %s of any season; import a season first, or give --year to replay from an archive the database does not know yet", cmd.Kinds[0])}
		}
	}
	if cl.cfg.NATSURL != "" {
		nc, err := natsrv.Connect(cl.cfg.NATSURL, "paddock-cli", cl.log, cl.cfg.NATSAuth)
		if err != nil {
			return err
		}
		defer nc.Close()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := natsrv.WaitConnected(wctx, nc, cl.cfg.NATSURL); err != nil {
			return err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		return replayYears(ctx, cl, nc, js, f, cmd, years)
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: absDir(f.dataDir), DatabaseURL: cl.cfg.DatabaseURL, Upstream: cl.cfg.Upstream, Quota: cl.cfg.Quota, SlackWebhookURL: cl.cfg.SlackURL,
	}, cl.log)
	if err != nil {
		return err
	}
	runErr := replayYears(ctx, cl, st.NC, st.JS, f, cmd, years)
	if err := st.Close(); err != nil {
		cl.log.Warn("shutdown", "err", err)
	}
	return runErr
}

// replayYears runs cmd for each year in turn, following each run, and
// ends with one line: the sessions replayed and the upstream calls made.
func replayYears(ctx context.Context, cl *cli, nc *nats.Conn, js jetstream.JetStream, f *planFlags, cmd streams.PlanCommand, years []int) error {
	sessions, calls := 0, 0
	var failed error
	for _, y := range years {
		cmd.Year = y
		sum, err := follow(ctx, nc, js, f, cmd, cl.out)
		if err != nil {
			return err
		}
		sessions += sum.SessionsProcessed
		calls += sum.APICallsMade
		if err := runFailed(sum); err != nil && failed == nil {
			failed = err
		}
	}
	if !f.asJSON {
		fmt.Fprintf(cl.out, "replayed %s: %s, %s\n", cmd.Kinds[0], plural(sessions, "session"), plural(calls, "upstream call"))
	}
	return failed
}

// ledgerYears lists the seasons the extraction ledger has kind for.
func ledgerYears(ctx context.Context, databaseURL, kind string) ([]int, error) {
	pool, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT DISTINCT year FROM extractions WHERE kind = $1 ORDER BY year`, kind)
	if err != nil {
		return nil, fmt.Errorf("replay: the seasons with %s in the extraction ledger: %w (run 'paddock migrate', or give --year)", kind, err)
	}
	defer rows.Close()
	var years []int
	for rows.Next() {
		var y int
		if err := rows.Scan(&y); err != nil {
			return nil, fmt.Errorf("replay: read the ledger: %w", err)
		}
		years = append(years, y)
	}
	return years, rows.Err()
}
