package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/runs"
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

// definePlanFlags defines on fs the flags of name (import, plan or gaps).
func definePlanFlags(fs *flag.FlagSet, name string, cfg config) *planFlags {
	f := &planFlags{fs: fs}
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

// command makes the plan command of the parsed flags; rest is what
// followed them. Bad values are usage errors.
func (f *planFlags) command(rest []string) (streams.PlanCommand, error) {
	if len(rest) > 0 {
		return streams.PlanCommand{}, usageError("unexpected argument %q", rest[0])
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

// setupImport is 'paddock import'.
func setupImport(fs *flag.FlagSet, cl *cli) runFunc {
	f := definePlanFlags(fs, "import", cl.cfg)
	return func(ctx context.Context, rest []string) error {
		cmd, err := f.command(rest)
		if err != nil {
			return err
		}
		return cmdImport(ctx, cl, f, cmd)
	}
}

func cmdImport(ctx context.Context, cl *cli, f *planFlags, cmd streams.PlanCommand) error {
	cfg, log := cl.cfg, cl.log
	if cfg.NATSURL != "" && f.recorded != "" {
		return usageError("--recorded applies to the embedded default; with NATS_URL set, point the loader at 'paddock standin' with PADDOCK_*_URL")
	}
	if cfg.NATSURL != "" {
		return remoteImport(ctx, cl, f, cmd, true)
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
	sum, runErr := follow(ctx, st.NC, st.JS, f, cmd, cl.out)
	if st.Standin != nil && !f.asJSON && runErr == nil {
		fmt.Fprintf(cl.out, "  stand-in requests:    %d\n", st.Standin.Requests())
	}
	if err := st.Close(); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if runErr != nil {
		return runErr
	}
	return runFailed(sum)
}

// runFailed is the exit of a run that ended with failures (code 1), or
// nil for one that did not.
func runFailed(s *streams.Summary) error {
	if s.Status == "completed" {
		return nil
	}
	if s.SessionsFailed == 0 && len(s.Failures) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("run %s failed: %s", s.RunID, s.Failures[0])}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("run %s: %d session(s) failed; 'paddock status --run %s' lists them with their reasons", s.RunID, s.SessionsFailed, s.RunID)}
}

// remoteImport publishes the plan to running services and, when wait is
// set, follows the run.
func remoteImport(ctx context.Context, cl *cli, f *planFlags, cmd streams.PlanCommand, wait bool) error {
	cfg, log := cl.cfg, cl.log
	nc, err := natsrv.Connect(cfg.NATSURL, "paddock-cli", log, cfg.NATSAuth)
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
		printReport(cl.out, reply, f.asJSON)
		return nil
	}
	sum, err := follow(ctx, nc, js, f, cmd, cl.out)
	if err != nil {
		return err
	}
	return runFailed(sum)
}

func planErr(err error) error {
	var pe *client.PlanError
	if errors.As(err, &pe) && pe.Code == "400" {
		return &exitError{code: 2, msg: pe.Message}
	}
	return err
}

// follow sends the plan, prints the gap report once a planner planned it,
// shows progress until the run's summary arrives and prints it. The plan
// is accepted before it is planned: if its planner dies, the next one
// carries it out, and follow says so while it waits (up to f.timeout
// without news).
func follow(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, f *planFlags, cmd streams.PlanCommand, out io.Writer) (*streams.Summary, error) {
	w, err := client.NewWatch(ctx, js)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd.RunID = streams.NewRunID(time.Now())
	if _, err := client.Submit(ctx, nc, cmd, f.timeout); err != nil {
		return nil, planErr(err)
	}
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newPlanWatchdog(nc, cmd.RunID, f.timeout, f.asJSON, cancel)
	defer wd.stop()

	var (
		report   *streams.GapReport
		early    []client.Event // outcomes that came before the plan
		progress *progress
		seen     outcomes
	)
	handle := func(ev client.Event) {
		switch {
		case ev.Extraction != nil:
			seen.add(*ev.Extraction)
			progress.outcome(ev.Extraction)
		case ev.Load != nil:
			progress.loaded(ev.Load)
		case ev.Paused != nil:
			progress.paused(ev.Paused)
		}
	}
	sum, err := w.Follow(fctx, cmd.RunID, func(ev client.Event) {
		switch {
		case ev.Planned != nil:
			wd.stop()
			if ev.Planned.Report == nil {
				return // refused: Follow returns the refusal
			}
			report = ev.Planned.Report
			printReport(out, ev.Planned, f.asJSON)
			total := 0
			for _, g := range report.SessionGaps {
				total += len(g.Kinds)
			}
			progress = newProgress(total, f.asJSON)
			for _, e := range early {
				handle(e)
			}
			early = nil
		case ev.Waiting != nil:
			wd.news()
			printWaiting(os.Stderr, ev.Waiting, f.asJSON)
		case report == nil:
			early = append(early, ev)
		default:
			handle(ev)
		}
	})
	if progress != nil {
		progress.stop()
	}
	if err != nil {
		if cause := context.Cause(fctx); cause != nil && fctx.Err() != nil && ctx.Err() == nil {
			return nil, cause
		}
		return nil, planErr(err)
	}
	if report == nil { // completed before its plan was seen (NATS reconnect)
		report = &streams.GapReport{Year: cmd.Year}
	}
	printSummary(out, runNoun(cmd), sum, report, seen.unavailable(), f.asJSON)
	return sum, nil
}

// planWatchdog ends a follow whose accepted run is not planned within
// timeout of the last news, and says early when no planner is running.
type planWatchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	probe   *time.Timer
	done    bool
	timeout time.Duration
}

func newPlanWatchdog(nc *nats.Conn, runID string, timeout time.Duration, quiet bool, cancel context.CancelCauseFunc) *planWatchdog {
	wd := &planWatchdog{timeout: timeout}
	wd.timer = time.AfterFunc(timeout, func() { cancel(client.NotPlanned(nc, runID, timeout)) })
	// A plan is usually announced within a second: after a few, find out
	// whether a planner is there at all, and say so once.
	wd.probe = time.AfterFunc(planProbe, func() {
		if !quiet && !client.PlannerRunning(nc) {
			fmt.Fprintf(os.Stderr, "  run %s is accepted, but no planner is running: it is planned as soon as one starts (waiting up to %s)\n", runID, timeout)
		}
	})
	return wd
}

// planProbe is how long follow waits for a plan before it checks that a
// planner is running.
const planProbe = 3 * time.Second

func (wd *planWatchdog) news() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if !wd.done {
		wd.timer.Reset(wd.timeout)
	}
}

func (wd *planWatchdog) stop() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.done = true
	wd.timer.Stop()
	wd.probe.Stop()
}

// printWaiting says what an accepted plan waits for.
func printWaiting(w io.Writer, wt *streams.Waiting, quiet bool) {
	if quiet {
		return
	}
	line := fmt.Sprintf("  waiting for %s: %d gap(s) ahead in the loader's queue", wt.For, wt.Ahead)
	if wt.PausedUntil != nil && wt.PausedUntil.After(time.Now()) {
		line += fmt.Sprintf("; %s is paused until %s (in %s)", wt.Host, wt.PausedUntil.UTC().Format("15:04:05 UTC"),
			time.Until(*wt.PausedUntil).Round(time.Second))
	}
	fmt.Fprintf(w, "%s; waiting since %s\n", line, wt.Since.UTC().Format("15:04:05 UTC"))
}

// progress shows a run as it goes: on a terminal a bar naming the session
// and kind last heard of, with a countdown while the upstream pauses the
// run; otherwise a line per outcome and per pause; nothing with --json.
type progress struct {
	quiet       bool
	w           io.Writer                // where lines go (standard error)
	bar         *progressbar.ProgressBar // nil off a terminal
	total, seen int

	mu        sync.Mutex
	pauseDone chan struct{} // closes the running countdown
}

func newProgress(total int, quiet bool) *progress {
	p := &progress{quiet: quiet || total == 0, total: total, w: os.Stderr}
	if !p.quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
	}
	return p
}

// outcome records one (session, kind) ending.
func (p *progress) outcome(e *streams.Extraction) {
	if p.quiet {
		return
	}
	p.endPause()
	p.seen++
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d/%02d %s %s %s", e.Year, e.Round, e.Session, e.Kind, e.Status))
		_ = p.bar.Add(1)
		return
	}
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
		if e.SkippedLines > 0 {
			line += fmt.Sprintf(": %s (%s)", runs.LinesSkipped(e.SkippedLines), e.Reason)
		}
		fmt.Fprintln(p.w, line)
	}
	if p.seen%25 == 0 || p.seen == p.total {
		fmt.Fprintf(p.w, "  progress: %d/%d\n", p.seen, p.total)
	}
}

// loaded names the session whose kinds are being extracted now.
func (p *progress) loaded(l *streams.LoadCost) {
	if p.quiet || p.bar == nil || strings.Contains(l.Subject, "schedule") {
		return
	}
	p.endPause()
	what, _, _ := strings.Cut(l.Subject, "#")
	p.bar.Describe("extracting " + what)
}

// paused announces a pause with the time the run resumes by itself; on a
// terminal the bar counts down to it.
func (p *progress) paused(ps *streams.Paused) {
	if p.quiet {
		return
	}
	until := ps.Until.UTC()
	why := "its quota window is full"
	if ps.Reason == "retry-after" {
		why = "it asked to wait (Retry-After)"
	}
	if p.bar == nil {
		fmt.Fprintf(p.w, "  paused %s: %s; resumes by itself at %s (in %s)\n",
			ps.Host, why, until.Format("15:04:05 UTC"), time.Until(until).Round(time.Second))
		return
	}
	p.endPause()
	done := make(chan struct{})
	p.mu.Lock()
	p.pauseDone = done
	p.mu.Unlock()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			left := time.Until(until).Round(time.Second)
			if left <= 0 {
				return
			}
			p.bar.Describe(fmt.Sprintf("paused: %s %s, resumes at %s (%s)", ps.Host, why, until.Format("15:04:05"), left))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
}

// endPause stops a running countdown.
func (p *progress) endPause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pauseDone != nil {
		close(p.pauseDone)
		p.pauseDone = nil
	}
}

// stop ends the progress display.
func (p *progress) stop() { p.endPause() }

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
	for _, st := range r.Stale {
		fmt.Fprintf(w, "  Stale: %s v%d -> v%d, %s\n", st.Kind, st.From, st.To, plural(st.Sessions, "session"))
	}
	const show = 12
	for i, g := range r.SessionGaps {
		if i == show {
			fmt.Fprintf(w, "    ... and %d more\n", len(r.SessionGaps)-show)
			break
		}
		fmt.Fprintf(w, "    %-3s %-28s %-17s %s\n", roundLabel(g.Round), g.Event, g.Session, strings.Join(g.Kinds, ","))
	}
	printSessions(w, "Already queued by another run (this run follows it)", r.Queued, show)
	printSessions(w, "Deferred to a later plan (over --max-calls or the quota)", r.Deferred, show)
	printSessions(w, "Not in the raw archive (left out: a replay asks no upstream)", r.NotArchived, show)
}

// printSessions writes title with the number of sessions, then each
// session (at most show); nothing when there are none.
func printSessions(w io.Writer, title string, refs []streams.SessionRef, show int) {
	if len(refs) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s: %s\n", title, plural(len(refs), "session"))
	for i, r := range refs {
		if i == show {
			fmt.Fprintf(w, "    ... and %d more\n", len(refs)-show)
			break
		}
		fmt.Fprintf(w, "    %-3s %-28s %s\n", roundLabel(r.Round), r.Event, r.Session)
	}
}

// Run states: how a run ended for the person who ran it. A run is
// complete when every (session, kind) it planned is done; partial when
// something it was asked for is unavailable, failed or deferred but
// something was done (or nothing failed); failed when something failed
// and nothing was done, or it could not be planned.
const (
	stateRunning  = "running"
	stateComplete = "complete"
	statePartial  = "partial"
	stateFailed   = "failed"
)

// runState is the state of a run whose accounting says status (running,
// completed or failed) with these (session, kind) outcomes and deferred
// sessions.
func runState(status string, done, unavailable, failed, deferred int) string {
	switch {
	case status == "running":
		return stateRunning
	case status == "failed" && done == 0:
		return stateFailed
	case status == "completed" && unavailable == 0 && failed == 0 && deferred == 0:
		return stateComplete
	}
	return statePartial
}

// summaryState is the state of the run s summarizes.
func summaryState(s *streams.Summary, report *streams.GapReport) string {
	deferred := 0
	if report != nil {
		deferred = len(report.Deferred)
	}
	return runState(s.Status, total(s.DataExtracted), total(s.KindsUnavailable), total(s.KindsFailed), deferred)
}

// runNoun names what a run of cmd does, for its summary's headline ('paddock
// dlq replay' names its own).
func runNoun(cmd streams.PlanCommand) string {
	if cmd.ArchiveOnly {
		return "Replay"
	}
	return "Import"
}

// headline is the first line of a run's summary (what is "Import",
// "Replay", ...): complete, partial or failed as the run really ended, and
// what kept it from complete.
func headline(what string, s *streams.Summary, report *streams.GapReport) string {
	var why []string
	if n := total(s.KindsUnavailable); n > 0 {
		why = append(why, plural(n, "kind")+" unavailable")
	}
	if n := total(s.KindsFailed); n > 0 {
		why = append(why, fmt.Sprintf("%d failed", n))
	}
	if report != nil && len(report.Deferred) > 0 {
		why = append(why, plural(len(report.Deferred), "session")+" deferred")
	}
	head := fmt.Sprintf("Season %d", s.Year)
	if len(why) > 0 {
		head += ": " + strings.Join(why, ", ")
	}
	switch summaryState(s, report) {
	case stateComplete:
		return "✅ " + what + " complete - " + head
	case stateFailed:
		return "❌ " + what + " failed - " + head
	}
	return "⚠️ " + what + " partial - " + head
}

// printSummary writes how the run ended: the headline (what names the
// run's work), the summary's fields, the kinds that ended unavailable per
// session with why, the sessions deferred or left to another run, and the
// failures.
// unavailable are the unavailable outcomes seen while following the run.
func printSummary(w io.Writer, what string, s *streams.Summary, report *streams.GapReport, unavailable []streams.Extraction, asJSON bool) {
	var deferred, queued []streams.SessionRef
	if report != nil {
		deferred, queued = report.Deferred, report.Queued
	}
	if asJSON {
		_ = json.NewEncoder(w).Encode(map[string]any{"summary": s, "state": summaryState(s, report),
			"unavailable": nonNil(unavailable), "deferred": nonNil(deferred), "already_queued": nonNil(queued)})
		return
	}
	fmt.Fprintln(w, headline(what, s, report))
	fmt.Fprintf(w, "  run_id:               %s\n", s.RunID)
	fmt.Fprintf(w, "  gaps_detected:        %d\n", s.GapsDetected)
	fmt.Fprintf(w, "  sessions_processed:   %d\n", s.SessionsProcessed)
	fmt.Fprintf(w, "  sessions_succeeded:   %d\n", s.SessionsSucceeded)
	fmt.Fprintf(w, "  sessions_failed:      %d (partial: %d)\n", s.SessionsFailed, s.SessionsPartial)
	fmt.Fprintf(w, "  sessions_unavailable: %d\n", s.SessionsUnavail)
	fmt.Fprintf(w, "  data_extracted:       %s\n", counts(s.DataExtracted))
	if len(s.KindsUnavailable) > 0 {
		fmt.Fprintf(w, "  kinds_unavailable:    %s\n", counts(s.KindsUnavailable))
	}
	if len(s.KindsFailed) > 0 {
		fmt.Fprintf(w, "  kinds_failed:         %s\n", counts(s.KindsFailed))
	}
	fmt.Fprintf(w, "  api_calls_made:       %d (schedule %d, sessions %d, estimated %d)\n", s.APICallsMade, s.ScheduleCalls, s.APICallsMade-s.ScheduleCalls, s.EstimatedCalls)
	fmt.Fprintf(w, "  archive_hits:         %d\n", s.ArchiveHits)
	fmt.Fprintf(w, "  rate_limit_pauses:    %d\n", s.RateLimitPauses)
	fmt.Fprintf(w, "  duration_seconds:     %.1f\n", s.DurationSeconds)
	printUnavailable(w, s, unavailable)
	const show = 12
	printSessions(w, "deferred to a later plan (run the same import again to load them)", deferred, show)
	printSessions(w, "already queued by another run (followed: its outcomes are counted here)", queued, show)
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failure: %s\n", f)
	}
	for _, k := range s.Skipped {
		fmt.Fprintf(w, "  skipped: %s\n", k)
	}
}

// printUnavailable lists the unavailable outcomes per session, the kinds
// that share a reason on one line. At most show sessions are listed; the
// rest, and any the follower did not see, are left to 'paddock status'.
func printUnavailable(w io.Writer, s *streams.Summary, unavailable []streams.Extraction) {
	n := max(total(s.KindsUnavailable), len(unavailable))
	if n == 0 {
		return
	}
	sessions := groupBySession(unavailable)
	title := "  unavailable: " + plural(n, "kind")
	if len(sessions) > 0 {
		title += " in " + plural(len(sessions), "session")
	}
	fmt.Fprintln(w, title)
	const show = 20
	listed := 0
	for i, g := range sessions {
		if i == show {
			break
		}
		for _, r := range g.reasons {
			fmt.Fprintf(w, "    %-22s %s: %s\n", sessionLabel(g.session), strings.Join(r.kinds, ", "), r.reason)
			listed += len(r.kinds)
		}
	}
	if rest := n - listed; rest > 0 {
		fmt.Fprintf(w, "    ... and %s more: 'paddock status --run %s' lists every one\n", plural(rest, "kind"), s.RunID)
	}
}

// sessionOutcomes are the outcomes of one session grouped by reason, in
// the order the reasons first appear.
type sessionOutcomes struct {
	session streams.SessionKey
	reasons []kindsReason
}

// kindsReason is the kinds of a session that ended for one reason.
type kindsReason struct {
	kinds  []string
	reason string
}

// groupBySession groups sorted outcomes by session, then by reason.
func groupBySession(es []streams.Extraction) []sessionOutcomes {
	var out []sessionOutcomes
	for _, e := range es {
		if len(out) == 0 || out[len(out)-1].session != e.SessionKey {
			out = append(out, sessionOutcomes{session: e.SessionKey})
		}
		g := &out[len(out)-1]
		reason := e.Reason
		if reason == "" {
			reason = "no reason recorded"
		}
		found := false
		for i := range g.reasons {
			if g.reasons[i].reason == reason {
				g.reasons[i].kinds = append(g.reasons[i].kinds, e.Kind)
				found = true
				break
			}
		}
		if !found {
			g.reasons = append(g.reasons, kindsReason{kinds: []string{e.Kind}, reason: reason})
		}
	}
	return out
}

// outcomes collects the extraction outcomes of a followed run, the last
// of each (session, kind) winning (a redelivered message may repeat one).
type outcomes struct {
	last map[[2]string]streams.Extraction
}

func (o *outcomes) add(e streams.Extraction) {
	if o.last == nil {
		o.last = map[[2]string]streams.Extraction{}
	}
	o.last[[2]string{e.SessionKey.String(), e.Kind}] = e
}

// unavailable returns the unavailable outcomes in weekend order: by
// year, round, session and kind.
func (o *outcomes) unavailable() []streams.Extraction {
	var out []streams.Extraction
	for _, e := range o.last {
		if e.Status == streams.StatusUnavailable {
			out = append(out, e)
		}
	}
	sortOutcomes(out)
	return out
}

// sortOutcomes orders outcomes by year, round, session (in weekend order)
// and kind.
func sortOutcomes(es []streams.Extraction) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Year != b.Year {
			return a.Year < b.Year
		}
		if a.Round != b.Round {
			return a.Round < b.Round
		}
		if a.Session != b.Session {
			return sessionOrder(a.Session) < sessionOrder(b.Session) ||
				sessionOrder(a.Session) == sessionOrder(b.Session) && a.Session < b.Session
		}
		return a.Kind < b.Kind
	})
}

// sessionOrder ranks a session name in weekend order; names without a
// code (testing days) come after.
func sessionOrder(name string) int {
	for i, n := range streams.SessionNames() {
		if n.Name == name {
			return i
		}
	}
	return len(streams.SessionNames())
}

// sessionLabel is a session as the outcomes print it: "2019/14 Qualifying",
// "2020/T1 Day 1" for a testing day.
func sessionLabel(k streams.SessionKey) string {
	if k.Round < 0 {
		return fmt.Sprintf("%d/T%d %s", k.Year, -k.Round, k.Session)
	}
	return fmt.Sprintf("%d/%02d %s", k.Year, k.Round, k.Session)
}

// plural is "1 kind", "3 kinds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// nonNil makes JSON say [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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

// setupPlan is 'paddock plan'.
func setupPlan(fs *flag.FlagSet, cl *cli) runFunc {
	f := definePlanFlags(fs, "plan", cl.cfg)
	follow := fs.Bool("follow", false, "follow the run until its summary")
	return func(ctx context.Context, rest []string) error {
		cmd, err := f.command(rest)
		if err != nil {
			return err
		}
		if cl.cfg.NATSURL == "" {
			return usageError("plan publishes to running services: set NATS_URL (or use 'paddock import' to run everything in this process)")
		}
		return remoteImport(ctx, cl, f, cmd, *follow)
	}
}

// setupGaps is 'paddock gaps': the gap report of a season (or round, or
// session) without planning anything: no run, no gap published. A season
// whose schedule is not known yet has its schedule loaded first.
func setupGaps(fs *flag.FlagSet, cl *cli) runFunc {
	f := definePlanFlags(fs, "gaps", cl.cfg)
	return func(ctx context.Context, rest []string) error {
		cmd, err := f.command(rest)
		if err != nil {
			return err
		}
		return cmdGaps(ctx, cl, f, cmd)
	}
}

func cmdGaps(ctx context.Context, cl *cli, f *planFlags, cmd streams.PlanCommand) error {
	cfg := cl.cfg
	cmd.DryRun = true
	if cfg.NATSURL != "" {
		if f.recorded != "" {
			return usageError("--recorded applies to the embedded default")
		}
		return remoteImport(ctx, cl, f, cmd, false)
	}
	st, err := stack.Start(ctx, stack.Config{
		DataDir: absDir(f.dataDir), DatabaseURL: cfg.DatabaseURL, Recorded: f.recorded, Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL,
	}, cl.log)
	if err != nil {
		return err
	}
	defer st.Close()
	reply, err := client.Plan(ctx, st.NC, cmd, f.timeout)
	if err != nil {
		return planErr(err)
	}
	printReport(cl.out, reply, f.asJSON)
	return nil
}

// roundLabel is "R05" for a championship round, "T1" for the first test.
func roundLabel(r int) string {
	if r < 0 {
		return fmt.Sprintf("T%d", -r)
	}
	return fmt.Sprintf("R%02d", r)
}
