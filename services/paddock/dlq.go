package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/client"
	"github.com/paddock-f1/paddock/pkg/deadletter"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/stack"
	"github.com/paddock-f1/paddock/pkg/store"
)

// dlqFlags are the flags of 'paddock dlq'.
type dlqFlags struct {
	fs       *flag.FlagSet
	asJSON   bool
	consumer string
	all      bool
	dataDir  string
	recorded string
	timeout  time.Duration
}

// setupDLQ is 'paddock dlq ls' and 'paddock dlq replay ID...|--all'.
func setupDLQ(fs *flag.FlagSet, cl *cli) runFunc {
	f := &dlqFlags{fs: fs}
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	fs.StringVar(&f.consumer, "consumer", "", "only the dead letters of this consumer, e.g. extract-weather, loader, runs, planner")
	fs.BoolVar(&f.all, "all", false, "replay: every dead letter (of --consumer, when given)")
	fs.StringVar(&f.dataDir, "data-dir", cl.cfg.DataDir, "data directory of the embedded JetStream server (without NATS_URL)")
	fs.StringVar(&f.recorded, "recorded", "", "replay in the embedded default: serve this recorded upstream tree instead of the network")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "replay: how long to wait for each replayed message's outcome")
	return func(ctx context.Context, rest []string) error {
		if len(rest) == 0 {
			return usageError("dlq needs ls or replay: 'paddock dlq ls' lists the dead letters, 'paddock dlq replay ID|--all' sends them again")
		}
		args, err := f.reparse(rest[1:])
		if err != nil {
			return err
		}
		switch rest[0] {
		case "ls", "list":
			if len(args) > 0 {
				return usageError("dlq ls takes no argument (%q): --consumer narrows the list", args[0])
			}
			if f.all || f.recorded != "" {
				return usageError("--all and --recorded apply to 'paddock dlq replay'")
			}
			return cmdDLQList(ctx, cl, f)
		case "replay":
			var ids []uint64
			for _, a := range args {
				id, err := strconv.ParseUint(a, 10, 64)
				if err != nil || id == 0 {
					return usageError("dlq replay %q: want a dead letter's ID (a number 'paddock dlq ls' shows) or --all", a)
				}
				ids = append(ids, id)
			}
			switch {
			case len(ids) == 0 && !f.all:
				return usageError("dlq replay needs an ID ('paddock dlq ls' lists them) or --all")
			case len(ids) > 0 && f.all:
				return usageError("dlq replay takes IDs or --all, not both")
			case len(ids) > 0 && f.consumer != "":
				return usageError("--consumer goes with --all (an ID names one dead letter already)")
			case f.timeout <= 0:
				return usageError("--timeout %s: want a duration over 0, e.g. 10m", f.timeout)
			}
			return cmdDLQReplay(ctx, cl, f, ids)
		}
		if near := nearest(rest[0], []string{"ls", "replay"}); near != "" {
			return usageError("unknown dlq command %q: did you mean %q?", rest[0], near)
		}
		return usageError("unknown dlq command %q: 'paddock dlq ls' or 'paddock dlq replay ID|--all'", rest[0])
	}
}

// reparse parses the flags that follow the subcommand and its IDs
// (the flag package stops at the first argument that is not a flag) and
// returns the other arguments.
func (f *dlqFlags) reparse(args []string) ([]string, error) {
	var rest []string
	for len(args) > 0 {
		if !strings.HasPrefix(args[0], "-") || args[0] == "-" {
			rest, args = append(rest, args[0]), args[1:]
			continue
		}
		if err := f.fs.Parse(args); err != nil {
			return nil, usageError("%v: run 'paddock dlq -h' for its flags", err)
		}
		args = f.fs.Args()
	}
	return rest, nil
}

// dlqJetStream connects to NATS_URL, or starts the embedded server on the
// data directory (no services), and returns JetStream and what closes it.
func dlqJetStream(ctx context.Context, cl *cli, dataDir string) (jetstream.JetStream, func(), error) {
	if cl.cfg.NATSURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when NATS is down
		defer cancel()
		nc, err := natsrv.Connect(cl.cfg.NATSURL, "paddock-dlq", cl.log, cl.cfg.NATSAuth)
		if err != nil {
			return nil, nil, err
		}
		if err := natsrv.WaitConnected(cctx, nc, cl.cfg.NATSURL); err != nil {
			nc.Close()
			return nil, nil, err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		return js, nc.Close, nil
	}
	srv, err := natsrv.Start(natsrv.Options{StoreDir: filepath.Join(absDir(dataDir), "jetstream")})
	if err != nil {
		return nil, nil, err
	}
	nc, err := srv.Connect("paddock-dlq")
	if err != nil {
		srv.Shutdown()
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return nil, nil, err
	}
	return js, func() { nc.Close(); srv.Shutdown() }, nil
}

// dlqRow is one dead letter as 'paddock dlq ls' shows it.
type dlqRow struct {
	ID         uint64    `json:"id"` // its DLQ sequence: what 'paddock dlq replay' takes
	Time       time.Time `json:"time"`
	Consumer   string    `json:"consumer"`
	Stream     string    `json:"stream"`
	Subject    string    `json:"subject"`
	Sequence   uint64    `json:"sequence"`
	Deliveries uint64    `json:"deliveries"`
	Reason     string    `json:"reason"`
	RunID      string    `json:"run_id,omitempty"`
	Session    string    `json:"session,omitempty"` // "2019/14 Qualifying"
	Kinds      []string  `json:"kinds,omitempty"`
}

func rowOf(l deadletter.Letter) dlqRow {
	r := dlqRow{ID: l.ID, Time: l.Time, Consumer: l.Consumer, Stream: l.Stream, Subject: l.Subject, Sequence: l.Sequence,
		Deliveries: l.Deliveries, Reason: l.Reason, RunID: l.RunID, Kinds: l.Kinds}
	if l.Session != nil {
		r.Session = sessionLabel(*l.Session)
	}
	return r
}

func cmdDLQList(ctx context.Context, cl *cli, f *dlqFlags) error {
	js, closeJS, err := dlqJetStream(ctx, cl, f.dataDir)
	if err != nil {
		return err
	}
	defer closeJS()
	list, err := deadletter.List(ctx, js, f.consumer)
	if err != nil {
		return err
	}
	rows := make([]dlqRow, 0, len(list))
	for _, l := range list {
		rows = append(rows, rowOf(l))
	}
	if f.asJSON {
		return writeJSON(cl.out, map[string]any{"dead_letters": rows})
	}
	printDeadLetters(cl.out, rows, f.consumer)
	return nil
}

// printDeadLetters writes one block per dead letter: its ID, when, the
// consumer, deliveries and the original subject; the run and session it
// held back; why it was given up.
func printDeadLetters(w io.Writer, rows []dlqRow, consumer string) {
	if len(rows) == 0 {
		if consumer != "" {
			fmt.Fprintf(w, "no dead letters of %s\n", consumer)
		} else {
			fmt.Fprintln(w, "no dead letters")
		}
		return
	}
	fmt.Fprintf(w, "%s ('paddock dlq replay ID' sends one again once its cause is fixed, --all every one)\n", plural(len(rows), "dead letter"))
	fmt.Fprintf(w, "%6s  %-20s  %-22s %10s  %s\n", "ID", "time", "consumer", "deliveries", "original subject")
	for _, r := range rows {
		fmt.Fprintf(w, "%6d  %-20s  %-22s %10d  %s (%s #%d)\n", r.ID, r.Time.UTC().Format(time.RFC3339), r.Consumer, r.Deliveries,
			r.Subject, r.Stream, r.Sequence)
		if r.RunID != "" {
			line := "run " + r.RunID
			if r.Session != "" {
				line += ", " + r.Session
				if len(r.Kinds) > 0 {
					line += " " + strings.Join(r.Kinds, ",")
				}
			}
			fmt.Fprintf(w, "        %s\n", line)
		}
		fmt.Fprintf(w, "        reason: %s\n", oneLine(r.Reason, 300))
	}
}

// oneLine is s on one line, cut to n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func cmdDLQReplay(ctx context.Context, cl *cli, f *dlqFlags, ids []uint64) error {
	var (
		js  jetstream.JetStream
		acc *runs.Accountant
	)
	if cl.cfg.NATSURL != "" {
		if f.recorded != "" {
			return usageError("--recorded applies to the embedded default; with NATS_URL set, the running loader's upstream is used")
		}
		j, closeJS, err := dlqJetStream(ctx, cl, "")
		if err != nil {
			return err
		}
		defer closeJS()
		pool, err := store.Open(ctx, cl.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		js, acc = j, runs.New(pool, j, cl.log)
	} else {
		if f.recorded != "" {
			if st, err := os.Stat(f.recorded); err != nil || !st.IsDir() {
				return usageError("--recorded %s: not a directory of recorded responses", f.recorded)
			}
		}
		cfg := cl.cfg
		st, err := stack.Start(ctx, stack.Config{DataDir: absDir(f.dataDir), DatabaseURL: cfg.DatabaseURL, Recorded: f.recorded,
			Upstream: cfg.Upstream, Quota: cfg.Quota, SlackWebhookURL: cfg.SlackURL}, cl.log)
		if err != nil {
			return err
		}
		defer func() {
			if err := st.Close(); err != nil {
				cl.log.Warn("shutdown", "err", err)
			}
		}()
		js, acc = st.JS, runs.New(st.Pool, st.JS, cl.log)
	}
	if f.all {
		list, err := deadletter.List(ctx, js, f.consumer)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			printDeadLetters(cl.out, nil, f.consumer)
			return nil
		}
		for _, l := range list {
			ids = append(ids, l.ID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var failed []string
	for _, id := range ids {
		if err := replayOne(ctx, cl, f, js, acc, id); err != nil {
			if len(ids) == 1 {
				return err
			}
			fmt.Fprintf(os.Stderr, "paddock: %v\n", err)
			failed = append(failed, strconv.FormatUint(id, 10))
		}
	}
	if len(failed) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d replays did not end complete (dead letters %s): 'paddock dlq ls' lists what is still held",
			len(failed), len(ids), strings.Join(failed, ", "))}
	}
	return nil
}

// replayOne sends dead letter id again and, when a run follows it, waits
// for that run and prints its summary; the error of a run that did not
// complete.
func replayOne(ctx context.Context, cl *cli, f *dlqFlags, js jetstream.JetStream, acc *runs.Accountant, id uint64) error {
	w, err := client.NewWatch(ctx, js) // before the replay: nothing of its run is missed
	if err != nil {
		return err
	}
	defer w.Close()
	r, err := deadletter.Replay(ctx, js, acc, id)
	if errors.Is(err, deadletter.ErrNoDeadLetter) {
		return &exitError{code: 1, msg: fmt.Sprintf("dead letter %d is not in the DLQ (already replayed, never dead-lettered, or older than its 90 days): 'paddock dlq ls' lists those it holds", id)}
	}
	if err != nil {
		return err
	}
	said := cl.out
	if f.asJSON {
		said = os.Stderr
	}
	what := r.Consumer
	if r.Session != nil {
		what += ", " + sessionLabel(*r.Session) + " " + strings.Join(r.Kinds, ",")
	}
	if r.RunID == "" {
		fmt.Fprintf(said, "dead letter %d (%s) sent again to %s; no run follows it\n", id, what, r.To)
		return nil
	}
	fmt.Fprintf(said, "dead letter %d (%s) sent again to %s as run %s\n", id, what, r.To, r.RunID)
	report := r.Report
	var seen outcomes
	var prog *progress
	if report != nil {
		prog = newProgress(len(r.Kinds), f.asJSON)
	}
	fctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	sum, err := w.Follow(fctx, r.RunID, func(ev client.Event) {
		switch {
		case ev.Planned != nil && ev.Planned.Report != nil && report == nil: // a re-sent plan command
			report = ev.Planned.Report
			printReport(said, ev.Planned, f.asJSON)
		case ev.Extraction != nil:
			seen.add(*ev.Extraction)
			if prog != nil {
				prog.outcome(ev.Extraction)
			}
		}
	})
	if prog != nil {
		prog.stop()
	}
	if err != nil {
		if fctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("dead letter %d: its run %s did not end within --timeout %s; it carries on by itself ('paddock status --run %s' shows it)",
				id, r.RunID, f.timeout, r.RunID)
		}
		return planErr(err)
	}
	printSummary(cl.out, "Dead-letter replay", sum, report, seen.unavailable(), f.asJSON)
	return runFailed(sum)
}

// dlqHelp is what 'paddock dlq -h' says after the flags.
func dlqHelp() string {
	return `A message a service gives up on (a permanent error, a repeated panic, or failing longer than
PADDOCK_RETRY_FOR) is kept in the DLQ stream with why, and the run it belonged to ends failed
naming it. Fix the cause, then send it again:

  paddock dlq ls [--consumer extract-weather] [--json]   # ID, when, consumer, deliveries, original subject, run, session, reason
  paddock dlq replay 12                                   # send dead letter 12 again and wait for its outcome
  paddock dlq replay --all [--consumer loader]            # every one, oldest first

A replay re-sends the original so that only the service that gave it up acts on it anew (a
manifest goes to that extractor alone, a gap to the loader, an outcome to run accounting, a plan
command to a planner) and removes it from the DLQ. One that belonged to a run starts a new run,
'dlq replay ID', which waits for its outcomes and ends with a summary as an import does (exit 1
when it fails again, and the message is back in the DLQ with the new reason); the failed run
stays as it ended, its failure naming the replay's run. Without NATS_URL the embedded default is
used: its data directory's DLQ, and the services run in this process for the replay.
`
}
