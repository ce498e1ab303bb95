package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/streams"
)

// planFlags are the flags import and plan share.
type planFlags struct {
	fs       *flag.FlagSet
	year     int
	round    int
	session  string
	kinds    string
	force    bool
	refetch  bool
	asJSON   bool
	timeout  time.Duration
	maxCalls int
	notify   bool
	recorded string
	dataDir  string
}

func newPlanFlags(name string, cfg config) *planFlags {
	f := &planFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.IntVar(&f.year, "year", 0, "season to import (required)")
	f.fs.IntVar(&f.round, "round", 0, "only this round")
	f.fs.StringVar(&f.session, "session", "", `only this session: "Qualifying", "Practice 2", ... or Q, FP2, SQ, SS, S, R`)
	f.fs.StringVar(&f.kinds, "kinds", cfg.Kinds, "only these data kinds, comma separated: "+strings.Join(kinds.Names(), ", ")+" (default: PADDOCK_KINDS, else every kind)")
	f.fs.BoolVar(&f.force, "force", false, "re-extract what is already done (from the archive: no upstream call)")
	f.fs.BoolVar(&f.refetch, "refetch", false, "ask the upstream again even for what the raw archive holds")
	f.fs.BoolVar(&f.notify, "notify", false, "post the run's pauses and summary to Slack (SLACK_WEBHOOK_URL)")
	f.fs.IntVar(&f.maxCalls, "max-calls", 0, "spend at most this many upstream calls (and no more than the quota has left); defer the rest")
	f.fs.BoolVar(&f.asJSON, "json", false, "print the gap report and the summary as JSON")
	f.fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "how long to wait for the planner's answer")
	if name == "import" || name == "gaps" {
		f.fs.StringVar(&f.recorded, "recorded", "", "serve this recorded upstream tree locally instead of the network (embedded default only)")
		f.fs.StringVar(&f.dataDir, "data-dir", cfg.DataDir, "data directory of the embedded JetStream server (PADDOCK_DATA_DIR)")
	}
	return f
}

// command parses args into a plan command; bad flags are usage errors.
func (f *planFlags) command(args []string) (streams.PlanCommand, error) {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return streams.PlanCommand{}, &exitError{code: 0}
		}
		return streams.PlanCommand{}, usageError("%v", err)
	}
	if f.fs.NArg() > 0 {
		return streams.PlanCommand{}, usageError("unexpected argument %q", f.fs.Arg(0))
	}
	if f.year == 0 {
		return streams.PlanCommand{}, usageError("--year is required, e.g. --year 2024")
	}
	if f.maxCalls < 0 {
		return streams.PlanCommand{}, usageError("--max-calls must be positive")
	}
	cmd := streams.PlanCommand{V: streams.SchemaVersion, Year: f.year, Session: f.session, Force: f.force, Refetch: f.refetch, MaxCalls: f.maxCalls, Notify: f.notify}
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "round" {
			r := f.round
			cmd.Round = &r
		}
	})
	if f.kinds != "" {
		cmd.Kinds = strings.Split(f.kinds, ",")
		if _, err := kinds.Parse(cmd.Kinds); err != nil {
			return streams.PlanCommand{}, usageError("--kinds (or PADDOCK_KINDS): %v", err)
		}
	}
	return cmd, nil
}

func cmdImport(ctx context.Context, cfg config, log *slog.Logger, args []string) error {
	f := newPlanFlags("import", cfg)
	cmd, err := f.command(args)
	if err != nil {
		return err
	}
	if cfg.NATSURL != "" && f.recorded != "" {
		return usageError("--recorded applies to the embedded default; with NATS_URL set, point the loader at 'paddock standin' with PADDOCK_*_URL")
	}
	if cfg.NATSURL != "" {
		return remoteImport(ctx, cfg, log, f, cmd, true)
	}
	if f.recorded != "" {
		if st, err := os.Stat(f.recorded); err != nil || !st.IsDir() {
			return usageError("--recorded %s: not a directory of recorded responses", f.recorded)
		}
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: absDir(f.dataDir), DatabaseURL: cfg.DatabaseURL, Recorded: f.recorded, Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL,
	}, log)
	if err != nil {
		return err
	}
	sum, runErr := follow(ctx, st.NC, st.JS, f, cmd, os.Stdout)
	if st.Standin != nil && !f.asJSON && runErr == nil {
		fmt.Printf("  stand-in requests:    %d\n", st.Standin.Requests())
	}
	if err := st.Close(); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if runErr != nil {
		return runErr
	}
	if sum.Status != "completed" {
		return &exitError{code: 1, msg: fmt.Sprintf("run %s failed: %d session(s) failed", sum.RunID, sum.SessionsFailed)}
	}
	return nil
}

// remoteImport publishes the plan to running services and, when wait is
// set, follows the run.
func remoteImport(ctx context.Context, cfg config, log *slog.Logger, f *planFlags, cmd streams.PlanCommand, wait bool) error {
	nc, err := natsrv.Connect(cfg.NATSURL, "paddock-cli", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := natsrv.WaitConnected(wctx, nc, cfg.NATSURL); err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if !wait {
		reply, err := client.Plan(ctx, nc, cmd, f.timeout)
		if err != nil {
			return planErr(err)
		}
		printReport(os.Stdout, reply, f.asJSON)
		return nil
	}
	sum, err := follow(ctx, nc, js, f, cmd, os.Stdout)
	if err != nil {
		return err
	}
	if sum.Status != "completed" {
		return &exitError{code: 1, msg: fmt.Sprintf("run %s failed", sum.RunID)}
	}
	return nil
}

func planErr(err error) error {
	var pe *client.PlanError
	if errors.As(err, &pe) && pe.Code == "400" {
		return &exitError{code: 2, msg: pe.Message}
	}
	return err
}

// follow sends the plan, prints the gap report, shows progress until the
// run's summary arrives and prints it.
func follow(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, f *planFlags, cmd streams.PlanCommand, out io.Writer) (*streams.Summary, error) {
	w, err := client.NewWatch(ctx, js)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	reply, err := client.Plan(ctx, nc, cmd, f.timeout)
	if err != nil {
		return nil, planErr(err)
	}
	printReport(out, reply, f.asJSON)
	total := 0
	for _, g := range reply.Report.SessionGaps {
		total += len(g.Kinds)
	}
	progress := newProgress(total, f.asJSON)
	sum, err := w.Follow(ctx, reply.RunID, func(ev client.Event) {
		if e := ev.Extraction; e != nil {
			progress(e)
		}
	})
	if err != nil {
		return nil, err
	}
	printSummary(out, sum, f.asJSON)
	return sum, nil
}

// newProgress returns the outcome printer: a bar on a terminal, a line per
// outcome otherwise, nothing with --json.
func newProgress(total int, quiet bool) func(*streams.Extraction) {
	if quiet || total == 0 {
		return func(*streams.Extraction) {}
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
		return func(*streams.Extraction) { _ = bar.Add(1) }
	}
	seen := 0
	return func(e *streams.Extraction) {
		seen++
		// Sessions without data are the common case of a backfill: count
		// them, name the ones that matter.
		if e.Status != streams.StatusUnavailable {
			line := fmt.Sprintf("  %-6s %d/%02d %-17s %s", e.Status, e.Year, e.Round, e.Session, e.Kind)
			if e.Rows > 0 {
				line += fmt.Sprintf(" (%d rows)", e.Rows)
			}
			if e.Reason != "" && e.Status != streams.StatusDone {
				line += ": " + e.Reason
			}
			fmt.Fprintln(os.Stderr, line)
		}
		if seen%25 == 0 || seen == total {
			fmt.Fprintf(os.Stderr, "  progress: %d/%d\n", seen, total)
		}
	}
}

func printReport(w io.Writer, reply *streams.PlanReply, asJSON bool) {
	r := reply.Report
	if asJSON {
		_ = json.NewEncoder(w).Encode(map[string]any{"run_id": reply.RunID, "gap_report": r})
		return
	}
	if reply.RunID == "" {
		fmt.Fprintf(w, "Gap Report for %d Season (nothing planned)\n", r.Year)
	} else {
		fmt.Fprintf(w, "Gap Report for %d Season (run %s)\n", r.Year, reply.RunID)
	}
	fmt.Fprintf(w, "  Missing Races: %d\n", len(r.MissingRaces))
	fmt.Fprintf(w, "  Missing Sessions: %d\n", len(r.MissingSessions))
	fmt.Fprintf(w, "  Sessions with gaps: %d\n", len(r.SessionGaps))
	if r.EstimatedMinCalls != r.EstimatedCalls {
		fmt.Fprintf(w, "  Estimated API calls: %d (%d if no session has data)", r.EstimatedCalls, r.EstimatedMinCalls)
	} else {
		fmt.Fprintf(w, "  Estimated API calls: %d", r.EstimatedCalls)
	}
	if r.ArchivedFeeds > 0 {
		fmt.Fprintf(w, " (%d feeds already in the raw archive)", r.ArchivedFeeds)
	}
	fmt.Fprintln(w)
	for _, q := range r.Quota {
		fmt.Fprintf(w, "  Quota: %s %d of %d calls left in the window\n", q.Host, q.Remaining, q.MaxCalls)
	}
	if len(r.Queued) > 0 {
		fmt.Fprintf(w, "  Already queued by another run: %d\n", len(r.Queued))
	}
	if len(r.Deferred) > 0 {
		fmt.Fprintf(w, "  Deferred to a later plan (over --max-calls or the quota): %d sessions\n", len(r.Deferred))
	}
	const show = 12
	for i, g := range r.SessionGaps {
		if i == show {
			fmt.Fprintf(w, "    ... and %d more\n", len(r.SessionGaps)-show)
			break
		}
		fmt.Fprintf(w, "    %-3s %-28s %-17s %s\n", roundLabel(g.Round), g.Event, g.Session, strings.Join(g.Kinds, ","))
	}
}

func printSummary(w io.Writer, s *streams.Summary, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(map[string]any{"summary": s})
		return
	}
	head := "✅ Import complete"
	if s.Status != "completed" {
		head = "❌ Import failed"
	}
	fmt.Fprintf(w, "%s - Season %d\n", head, s.Year)
	fmt.Fprintf(w, "  run_id:               %s\n", s.RunID)
	fmt.Fprintf(w, "  gaps_detected:        %d\n", s.GapsDetected)
	fmt.Fprintf(w, "  sessions_processed:   %d\n", s.SessionsProcessed)
	fmt.Fprintf(w, "  sessions_succeeded:   %d\n", s.SessionsSucceeded)
	fmt.Fprintf(w, "  sessions_failed:      %d (partial: %d)\n", s.SessionsFailed, s.SessionsPartial)
	fmt.Fprintf(w, "  sessions_unavailable: %d\n", s.SessionsUnavail)
	fmt.Fprintf(w, "  data_extracted:       %s\n", counts(s.DataExtracted))
	fmt.Fprintf(w, "  api_calls_made:       %d (schedule %d, sessions %d, estimated %d)\n", s.APICallsMade, s.ScheduleCalls, s.APICallsMade-s.ScheduleCalls, s.EstimatedCalls)
	fmt.Fprintf(w, "  archive_hits:         %d\n", s.ArchiveHits)
	fmt.Fprintf(w, "  rate_limit_pauses:    %d\n", s.RateLimitPauses)
	fmt.Fprintf(w, "  duration_seconds:     %.1f\n", s.DurationSeconds)
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failure: %s\n", f)
	}
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func cmdPlan(ctx context.Context, cfg config, log *slog.Logger, args []string) error {
	f := newPlanFlags("plan", cfg)
	follow := f.fs.Bool("follow", false, "follow the run until its summary")
	cmd, err := f.command(args)
	if err != nil {
		return err
	}
	if cfg.NATSURL == "" {
		return usageError("plan publishes to running services: set NATS_URL (or use 'paddock import' to run everything in this process)")
	}
	return remoteImport(ctx, cfg, log, f, cmd, *follow)
}

// cmdGaps prints the gap report of a season (or round, or session)
// without planning anything: no run, no gap published. A season whose
// schedule is not known yet has its schedule loaded first.
func cmdGaps(ctx context.Context, cfg config, log *slog.Logger, args []string) error {
	f := newPlanFlags("gaps", cfg)
	cmd, err := f.command(args)
	if err != nil {
		return err
	}
	cmd.DryRun = true
	if cfg.NATSURL != "" {
		if f.recorded != "" {
			return usageError("--recorded applies to the embedded default")
		}
		return remoteImport(ctx, cfg, log, f, cmd, false)
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: absDir(f.dataDir), DatabaseURL: cfg.DatabaseURL, Recorded: f.recorded, Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL,
	}, log)
	if err != nil {
		return err
	}
	defer st.Close()
	reply, err := client.Plan(ctx, st.NC, cmd, f.timeout)
	if err != nil {
		return planErr(err)
	}
	printReport(os.Stdout, reply, f.asJSON)
	return nil
}

// roundLabel is "R05" for a championship round, "T1" for the first test.
func roundLabel(r int) string {
	if r < 0 {
		return fmt.Sprintf("T%d", -r)
	}
	return fmt.Sprintf("R%02d", r)
}
