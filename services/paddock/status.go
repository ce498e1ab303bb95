package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/streams"
)

// setupStatus is 'paddock status': the recent runs, or one run in detail,
// read from PostgreSQL.
func setupStatus(fs *flag.FlagSet, cl *cli) runFunc {
	runID := fs.String("run", "", "show this run per kind: sessions done, failed, unavailable and pending, its pauses and deferred sessions")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 20, "how many of the recent runs to list")
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("unexpected argument %q (a run is shown with --run ID)", rest[0])
		}
		if *limit < 1 {
			return usageError("--limit must be at least 1")
		}
		return cmdStatus(ctx, cl, *runID, *limit, *asJSON)
	}
}

func cmdStatus(ctx context.Context, cl *cli, runID string, limit int, asJSON bool) error {
	health := readNATSHealth(ctx, cl)
	if !asJSON {
		printNATSHealth(cl.out, health)
	}
	conn, err := openRuns(ctx, cl.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if runID == "" {
		runs, err := recentRuns(ctx, conn, limit)
		if err != nil {
			return statusErr(err, cl.cfg.DatabaseURL)
		}
		if asJSON {
			v := map[string]any{"runs": nonNil(runs)}
			if health != nil {
				v["nats"] = health
			}
			return writeJSON(cl.out, v)
		}
		printRuns(cl.out, runs)
		return nil
	}
	d, err := runStatus(ctx, conn, runID)
	if err != nil {
		return statusErr(err, cl.cfg.DatabaseURL)
	}
	if asJSON {
		return writeJSON(cl.out, struct {
			*runDetail
			NATS *natsHealth `json:"nats,omitempty"`
		}{d, health})
	}
	printRun(cl.out, d)
	return nil
}

// openRuns connects to the database that records the runs; it does not
// create one.
func openRuns(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // fail fast when PostgreSQL is down
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "3D000": // invalid_catalog_name
		return nil, &exitError{code: 1, msg: fmt.Sprintf("status: database %s does not exist, so no run is recorded there (paddock import creates it; set DATABASE_URL for another)", store.MaskURL(dsn))}
	case err != nil:
		return nil, secret.Err(fmt.Errorf("status: connect %s: %w (is PostgreSQL running? set DATABASE_URL)", store.MaskURL(dsn), err))
	}
	return conn, nil
}

// statusErr says what a failed status query means for the user.
func statusErr(err error, dsn string) error {
	var pgErr *pgconn.PgError
	var noRun *noRunError
	switch {
	case errors.As(err, &noRun):
		return &exitError{code: 1, msg: fmt.Sprintf("status: run %q not found in %s: 'paddock status' lists the recent runs", noRun.id, store.MaskURL(dsn))}
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return &exitError{code: 1, msg: fmt.Sprintf("status: %s has no run tables: nothing was imported there yet ('paddock migrate' applies the schema)", store.MaskURL(dsn))}
	}
	return fmt.Errorf("status: %w", err)
}

// noRunError is a run id the database does not have.
type noRunError struct{ id string }

func (e *noRunError) Error() string { return fmt.Sprintf("no run %q", e.id) }

// runRow is one run as 'paddock status' lists it.
type runRow struct {
	RunID   string `json:"run_id"`
	Command string `json:"command"` // as the user would type it
	Year    int    `json:"year"`
	// Status is the run's accounting status: running, completed or failed.
	Status string `json:"status"`
	// State is how it ended for the user (running, complete, partial or
	// failed), as the import's headline says it.
	State      string     `json:"state"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// DurationSeconds is until the end, or until now for a running run.
	DurationSeconds float64 `json:"duration_seconds"`
}

// recentRuns returns the limit newest runs, newest first.
func recentRuns(ctx context.Context, conn *pgx.Conn, limit int) ([]runRow, error) {
	rows, err := conn.Query(ctx, `
		SELECT r.run_id, r.year, r.command, r.status, r.report IS NULL, r.error, r.started_at, r.finished_at, i.done, i.unavailable, i.failed,
			CASE WHEN jsonb_typeof(r.report->'deferred') = 'array' THEN jsonb_array_length(r.report->'deferred') ELSE 0 END
		FROM (SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT $1) r
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE status = 'done') AS done,
				count(*) FILTER (WHERE status = 'unavailable') AS unavailable,
				count(*) FILTER (WHERE status = 'failed') AS failed
			FROM run_items WHERE run_id = r.run_id) i
		ORDER BY r.started_at DESC, r.run_id DESC`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := time.Now()
	var out []runRow
	for rows.Next() {
		var r runRow
		var cmd []byte
		var done, unavailable, failed, deferred int
		var unplanned bool
		if err := rows.Scan(&r.RunID, &r.Year, &cmd, &r.Status, &unplanned, &r.Error, &r.StartedAt, &r.FinishedAt, &done, &unavailable, &failed, &deferred); err != nil {
			return nil, err
		}
		r.fill(cmd, now)
		r.State = runState(r.Status, done, unavailable, failed, deferred)
		if r.Status == "running" && unplanned {
			r.State = statePlanning
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fill sets the command line and duration of r from its stored command.
func (r *runRow) fill(cmd []byte, now time.Time) {
	var pc streams.PlanCommand
	if err := json.Unmarshal(cmd, &pc); err != nil {
		r.Command = string(cmd)
	} else {
		r.Command = commandLine(pc)
	}
	end := now
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	r.StartedAt, end = r.StartedAt.UTC(), end.UTC()
	if r.FinishedAt != nil {
		r.FinishedAt = &end
	}
	r.DurationSeconds = float64(end.Sub(r.StartedAt).Milliseconds()) / 1000
}

// commandLine is a plan command as the user would type it. The planner
// stores the kinds it resolved: every kind reads as no --kinds.
func commandLine(c streams.PlanCommand) string {
	if c.Replay > 0 {
		return "dlq replay " + strconv.FormatUint(c.Replay, 10)
	}
	parts := []string{"import", "--year", strconv.Itoa(c.Year)}
	if c.Round != nil {
		parts = append(parts, "--round", strconv.Itoa(*c.Round))
	}
	if c.Session != "" {
		s := c.Session
		if strings.ContainsAny(s, " \"'") {
			s = strconv.Quote(s)
		}
		parts = append(parts, "--session", s)
	}
	if len(c.Kinds) > 0 && !everyKind(c.Kinds) {
		parts = append(parts, "--kinds", strings.Join(c.Kinds, ","))
	}
	if c.Force {
		parts = append(parts, "--force")
	}
	if c.Refetch {
		parts = append(parts, "--refetch")
	}
	if c.MaxCalls > 0 {
		parts = append(parts, "--max-calls", strconv.Itoa(c.MaxCalls))
	}
	if c.Notify {
		parts = append(parts, "--notify")
	}
	return strings.Join(parts, " ")
}

// everyKind reports whether list names every kind of the registry.
func everyKind(list []string) bool {
	parsed, err := kinds.Parse(list)
	if err != nil {
		return false
	}
	all := kinds.Names()
	if len(parsed) != len(all) {
		return false
	}
	for i := range all {
		if parsed[i] != all[i] {
			return false
		}
	}
	return true
}

// runDetail is one run as 'paddock status --run' shows it.
type runDetail struct {
	runRow
	planned bool         // the gap report is published
	Kinds   []kindStatus `json:"kinds"`
	// RateLimitPauses counts the pauses: the summary's count once the run
	// ended, else those recorded so far.
	RateLimitPauses int                  `json:"rate_limit_pauses"`
	Pauses          []pause              `json:"pauses"`
	Deferred        []streams.SessionRef `json:"deferred"`       // left for a later plan
	Queued          []streams.SessionRef `json:"already_queued"` // pending from another run
	APICallsMade    int                  `json:"api_calls_made"`
	ArchiveHits     int                  `json:"archive_hits"`
}

// kindStatus is one kind of a run: its sessions done, failed (with the
// reason), unavailable (with why) and pending.
type kindStatus struct {
	Kind        string        `json:"kind"`
	Done        int           `json:"done"`
	Rows        int64         `json:"rows"`
	Failed      []sessionItem `json:"failed"`
	Unavailable []sessionItem `json:"unavailable"`
	Pending     []sessionItem `json:"pending"`
	// Skipped are done sessions whose feeds had lines skipped (blank).
	Skipped []sessionItem `json:"skipped,omitempty"`
}

// sessionItem is one session of a kind, with why it ended as it did.
type sessionItem struct {
	streams.SessionKey
	Reason string `json:"reason,omitempty"`
}

// pause is one pause the rate governor imposed on the run.
type pause struct {
	Host   string    `json:"host"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"` // quota | retry-after
}

// runStatus reads one run; a run id the database does not have is a
// *noRunError.
func runStatus(ctx context.Context, conn *pgx.Conn, runID string) (*runDetail, error) {
	d := &runDetail{runRow: runRow{RunID: runID}}
	var cmd, report, summary []byte
	err := conn.QueryRow(ctx, `SELECT year, command, report, summary, status, error, started_at, finished_at FROM runs WHERE run_id = $1`, runID).
		Scan(&d.Year, &cmd, &report, &summary, &d.Status, &d.Error, &d.StartedAt, &d.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &noRunError{id: runID}
	}
	if err != nil {
		return nil, err
	}
	d.fill(cmd, time.Now())
	if report != nil {
		var r streams.GapReport
		if err := json.Unmarshal(report, &r); err != nil {
			return nil, fmt.Errorf("run %s: its gap report: %w", runID, err)
		}
		d.Deferred, d.Queued = r.Deferred, r.Queued
		d.planned = true
	}
	d.Deferred, d.Queued = nonNil(d.Deferred), nonNil(d.Queued)

	if err := d.readItems(ctx, conn); err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(calls), 0), coalesce(sum(archive_hits), 0), coalesce(sum(pauses), 0) FROM run_loads WHERE run_id = $1`, runID).
		Scan(&d.APICallsMade, &d.ArchiveHits, &d.RateLimitPauses); err != nil {
		return nil, err
	}
	if summary != nil {
		var s streams.Summary
		if err := json.Unmarshal(summary, &s); err != nil {
			return nil, fmt.Errorf("run %s: its summary: %w", runID, err)
		}
		d.RateLimitPauses = s.RateLimitPauses
	}
	rows, err := conn.Query(ctx, `SELECT subject FROM run_loads WHERE run_id = $1 AND pauses > 0 ORDER BY subject`, runID)
	if err != nil {
		return nil, err
	}
	subjects, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	d.Pauses = []pause{}
	for _, s := range subjects {
		if p, ok := parsePause(s); ok {
			d.Pauses = append(d.Pauses, p)
		}
	}
	sort.SliceStable(d.Pauses, func(i, j int) bool { return d.Pauses[i].Until.Before(d.Pauses[j].Until) })
	return d, nil
}

// readItems reads the run's (session, kind) outcomes into d.Kinds and
// sets d.State from them.
func (d *runDetail) readItems(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT year, round, session, kind, status, rows, reason, skipped_lines FROM run_items WHERE run_id = $1`, d.RunID)
	if err != nil {
		return err
	}
	var items []streams.Extraction
	for rows.Next() {
		var e streams.Extraction
		if err := rows.Scan(&e.Year, &e.Round, &e.Session, &e.Kind, &e.Status, &e.Rows, &e.Reason, &e.SkippedLines); err != nil {
			rows.Close()
			return err
		}
		items = append(items, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sortOutcomes(items)
	byKind := map[string]*kindStatus{}
	var done, unavailable, failed int
	for _, e := range items {
		k := byKind[e.Kind]
		if k == nil {
			k = &kindStatus{Kind: e.Kind, Failed: []sessionItem{}, Unavailable: []sessionItem{}, Pending: []sessionItem{}}
			byKind[e.Kind] = k
		}
		item := sessionItem{SessionKey: e.SessionKey, Reason: e.Reason}
		switch e.Status {
		case streams.StatusDone:
			k.Done++
			k.Rows += int64(e.Rows)
			done++
			if e.SkippedLines > 0 {
				item.Reason = fmt.Sprintf("%s (%s)", runs.LinesSkipped(e.SkippedLines), e.Reason)
				k.Skipped = append(k.Skipped, item)
			}
		case streams.StatusFailed:
			k.Failed = append(k.Failed, item)
			failed++
		case streams.StatusUnavailable:
			k.Unavailable = append(k.Unavailable, item)
			unavailable++
		default:
			item.Reason = ""
			k.Pending = append(k.Pending, item)
		}
	}
	d.Kinds = []kindStatus{}
	for _, k := range byKind {
		d.Kinds = append(d.Kinds, *k)
	}
	sort.Slice(d.Kinds, func(i, j int) bool { return d.Kinds[i].Kind < d.Kinds[j].Kind })
	d.State = runState(d.Status, done, unavailable, failed, len(d.Deferred))
	if d.Status == "running" && !d.planned {
		d.State = statePlanning
	}
	return nil
}

// statePlanning is a running run whose plan is not published yet: a
// planner is loading its schedule or publishing its gaps, or a planner
// died and another takes the command over.
const statePlanning = "planning"

// parsePause reads a pause from its run_loads subject,
// "pause:<host>:<until, Unix ms>:<reason>" (pkg/runs).
func parsePause(subject string) (pause, bool) {
	rest, ok := strings.CutPrefix(subject, "pause:")
	if !ok {
		return pause{}, false
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return pause{}, false
	}
	rest, reason := rest[:i], rest[i+1:]
	j := strings.LastIndex(rest, ":")
	if j < 0 {
		return pause{}, false
	}
	ms, err := strconv.ParseInt(rest[j+1:], 10, 64)
	if err != nil {
		return pause{}, false
	}
	return pause{Host: rest[:j], Until: time.UnixMilli(ms).UTC(), Reason: reason}, true
}

// printRuns writes the recent runs, a line each.
func printRuns(w io.Writer, runs []runRow) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet: 'paddock import --year Y' starts one")
		return
	}
	fmt.Fprintf(w, "%-26s  %-20s  %-8s  %8s  %s\n", "RUN", "STARTED", "STATE", "DURATION", "COMMAND")
	for _, r := range runs {
		fmt.Fprintf(w, "%-26s  %-20s  %-8s  %8s  %s\n", r.RunID, r.StartedAt.Format(time.RFC3339), r.State, formatSeconds(r.DurationSeconds), r.Command)
	}
}

// printRun writes one run: what it was, how it ended, each kind's
// sessions, the sessions that did not end done with why, the pauses and
// the deferred and queued sessions.
func printRun(w io.Writer, d *runDetail) {
	fmt.Fprintf(w, "Run %s: %s\n", d.RunID, d.State)
	fmt.Fprintf(w, "  command:  %s\n", d.Command)
	fmt.Fprintf(w, "  status:   %s\n", d.Status)
	if d.Error != "" {
		fmt.Fprintf(w, "  error:    %s\n", d.Error)
	}
	fmt.Fprintf(w, "  started:  %s\n", d.StartedAt.Format(time.RFC3339))
	if d.FinishedAt != nil {
		fmt.Fprintf(w, "  finished: %s (%s)\n", d.FinishedAt.Format(time.RFC3339), formatSeconds(d.DurationSeconds))
	} else {
		fmt.Fprintf(w, "  running for %s\n", formatSeconds(d.DurationSeconds))
	}
	fmt.Fprintf(w, "  api_calls_made: %d, archive_hits: %d, rate_limit_pauses: %d\n", d.APICallsMade, d.ArchiveHits, d.RateLimitPauses)

	if len(d.Kinds) > 0 {
		fmt.Fprintf(w, "\n  %-16s %6s %7s %12s %8s %10s\n", "KIND", "DONE", "FAILED", "UNAVAILABLE", "PENDING", "ROWS")
		for _, k := range d.Kinds {
			fmt.Fprintf(w, "  %-16s %6d %7d %12d %8d %10d\n", k.Kind, k.Done, len(k.Failed), len(k.Unavailable), len(k.Pending), k.Rows)
		}
	} else if d.State == statePlanning {
		fmt.Fprintln(w, "\n  not planned yet: a planner is loading the season schedule or publishing the gaps (if one died, another takes the run over)")
	} else {
		fmt.Fprintln(w, "\n  nothing planned")
	}
	var more strings.Builder
	for _, k := range d.Kinds {
		printItems(&more, k.Kind+" failed", k.Failed)
		printItems(&more, k.Kind+" unavailable", k.Unavailable)
		printItems(&more, k.Kind+" pending", k.Pending)
		printItems(&more, k.Kind+" done with lines skipped", k.Skipped)
	}
	if len(d.Pauses) > 0 || d.RateLimitPauses > 0 {
		fmt.Fprintf(&more, "  rate-limit pauses: %d\n", d.RateLimitPauses)
		for _, p := range d.Pauses {
			fmt.Fprintf(&more, "    %s until %s (%s)\n", p.Host, p.Until.Format(time.RFC3339), p.Reason)
		}
	}
	const show = 50
	printSessions(&more, "deferred to a later plan (over --max-calls or the quota)", d.Deferred, show)
	printSessions(&more, "already queued by another run (followed: its outcomes are counted here)", d.Queued, show)
	if more.Len() > 0 {
		fmt.Fprint(w, "\n"+more.String())
	}
}

// printItems writes title with the number of sessions, then the sessions
// that share a reason on one line (at most show of them per line).
func printItems(w io.Writer, title string, items []sessionItem) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s: %s\n", title, plural(len(items), "session"))
	type group struct {
		reason   string
		sessions []string
	}
	var groups []*group
	byReason := map[string]*group{}
	for _, it := range items {
		g := byReason[it.Reason]
		if g == nil {
			g = &group{reason: it.Reason}
			byReason[it.Reason] = g
			groups = append(groups, g)
		}
		g.sessions = append(g.sessions, sessionLabel(it.SessionKey))
	}
	const show = 10
	for _, g := range groups {
		names := g.sessions
		more := ""
		if len(names) > show {
			more = fmt.Sprintf(" and %d more (--json lists every one)", len(names)-show)
			names = names[:show]
		}
		line := "    " + strings.Join(names, ", ") + more
		if g.reason != "" {
			line += ": " + g.reason
		}
		fmt.Fprintln(w, line)
	}
}

// formatSeconds is a duration as people read it: "4.3s", "2m14s".
func formatSeconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
