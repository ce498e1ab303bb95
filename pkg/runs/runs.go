// Package runs is run accounting: a run is one accepted plan command; it
// expects an outcome for every (session, kind) it planned, counts what the
// loader spent, and completes with a summary when every outcome is in.
// State lives in PostgreSQL, so accounting survives restarts, and every
// update is idempotent under redelivery.
package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paddock-f1/paddock/pkg/ops"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/streams"
)

// Accountant keeps run accounts. Several instances may run; completion
// happens exactly once (a conditional update).
type Accountant struct {
	bound atomic.Bool // the durable consumer is bound (readiness)
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	log   *slog.Logger
	retry consume.Policy // how long a message is retried before it is dead-lettered (SetRetry)
}

// New returns an accountant.
func New(pool *pgxpool.Pool, js jetstream.JetStream, log *slog.Logger) *Accountant {
	return &Accountant{pool: pool, js: js, log: log}
}

// Create records a new run of cmd.
func (a *Accountant) Create(ctx context.Context, runID string, cmd streams.PlanCommand) error {
	b, _ := json.Marshal(cmd)
	_, err := a.pool.Exec(ctx, `INSERT INTO runs (run_id, year, command) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO NOTHING`, runID, cmd.Year, b)
	if err != nil {
		return fmt.Errorf("runs: create %s: %w", runID, err)
	}
	return nil
}

// Fail ends a run that could not be planned.
func (a *Accountant) Fail(ctx context.Context, runID string, reason error) error {
	_, err := a.pool.Exec(ctx, `UPDATE runs SET status='failed', error=$2, finished_at=now() WHERE run_id=$1 AND status='running'`, runID, reason.Error())
	if err != nil {
		return fmt.Errorf("runs: fail %s: %w", runID, err)
	}
	return nil
}

// Run consumes EVENTS until ctx ends. One worker keeps stream order, so a
// load's cost is always counted before the outcomes it made possible; it
// applies what it has in hand as one batch (HandleBatch), so a burst of
// events costs one commit, not one each.
func (a *Accountant) Run(ctx context.Context) error {
	c, err := streams.Consumer(ctx, a.js, streams.RunsConsumer)
	if err != nil {
		return err
	}
	a.bound.Store(true)
	defer a.bound.Store(false)
	return consume.Run(ctx, c, a.handleInOrder, a.log, consume.Options{Concurrency: 1, Heartbeat: 20 * time.Second,
		Name: streams.RunsConsumer, DeadLetters: a.js, Policy: a.retry, Batch: a.HandleBatch})
}

// Ready is run accounting's readiness: its consumer is bound.
func (a *Accountant) Ready() ops.Check { return ops.Bound("runs", &a.bound) }

// inOrderPatience bounds how long a message is retried in place.
const inOrderPatience = 2 * time.Minute

// handleInOrder applies a message, retrying a failing database in place
// rather than handing the message back: a message handed back would come
// after later ones, and a run could complete before a call it made is
// counted. A message that cannot be decoded is given up; after
// inOrderPatience of failures (a long outage) the message is handed back.
func (a *Accountant) handleInOrder(ctx context.Context, msg jetstream.Msg) error {
	wait := 100 * time.Millisecond
	deadline := time.Now().Add(inOrderPatience)
	for {
		err := a.Handle(ctx, msg)
		var perm *consume.PermanentError
		if err == nil || errors.As(err, &perm) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		a.log.Warn("runs: retrying", "subject", msg.Subject(), "after", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Handle applies one EVENTS message: a batch of one.
func (a *Accountant) Handle(ctx context.Context, msg jetstream.Msg) error {
	return a.HandleBatch(ctx, []jetstream.Msg{msg})
}

// HandleBatch applies consecutive EVENTS messages in one implicit
// transaction (one round trip, one commit), in their stream order, then
// completes the runs their outcomes may have finished. Any error leaves
// nothing applied; the messages are then handled one by one (consume).
func (a *Accountant) HandleBatch(ctx context.Context, msgs []jetstream.Msg) error {
	var b pgx.Batch
	var what []string
	var runs []string
	seen := map[string]bool{}
	for _, msg := range msgs {
		c, err := change(msg)
		if err != nil {
			return err
		}
		if c.sql == "" {
			continue
		}
		b.Queue(c.sql, c.args...)
		what = append(what, c.what)
		if c.completes != "" && !seen[c.completes] {
			seen[c.completes] = true
			runs = append(runs, c.completes)
		}
	}
	if b.Len() > 0 {
		br := a.pool.SendBatch(ctx, &b)
		for _, w := range what {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("runs: %s: %w", w, err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("runs: apply %d messages: %w", len(what), err)
		}
	}
	for _, run := range runs {
		if err := a.maybeComplete(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// A delta is what one EVENTS message changes in the accounts: one
// idempotent statement (none for a message accounting ignores), and the
// run whose completion it may bring.
type delta struct {
	what      string
	sql       string
	args      []any
	completes string
}

// change reads msg into its delta; a message that cannot be decoded is a
// permanent error.
func change(msg jetstream.Msg) (delta, error) {
	subj := msg.Subject()
	switch {
	case strings.HasPrefix(subj, "f1.extracted.schedule."):
		return delta{}, nil
	case strings.HasPrefix(subj, "f1.extracted."):
		var e streams.Extraction
		if err := streams.Decode(msg.Data(), &e); err != nil {
			return delta{}, consume.Permanent(err)
		}
		if e.RunID == "" {
			return delta{}, nil // a replay outside any run
		}
		// The runs that follow this one for the session take the outcome
		// too (their completion reads it through followJoin as well, for
		// an outcome that came before they followed).
		return delta{what: "outcome", completes: e.RunID,
			sql: `UPDATE run_items SET status=$6, rows=$7, reason=$8, skipped_lines=$9
			WHERE (run_id=$1 OR follows=$1) AND year=$2 AND round=$3 AND session=$4 AND kind=$5`,
			args: []any{e.RunID, e.Year, e.Round, e.Session, e.Kind, e.Status, e.Rows, e.Reason, e.SkippedLines}}, nil
	case strings.HasSuffix(subj, "."+streams.RunCall):
		var c streams.Call
		if err := streams.Decode(msg.Data(), &c); err != nil {
			return delta{}, consume.Permanent(err)
		}
		return count(c.RunID, fmt.Sprintf("call:%s.%d", c.Subject, c.Seq), 1, 0, 0), nil
	case strings.HasSuffix(subj, "."+streams.RunPaused):
		var p streams.Paused
		if err := streams.Decode(msg.Data(), &p); err != nil {
			return delta{}, consume.Permanent(err)
		}
		return count(p.RunID, fmt.Sprintf("pause:%s:%d:%s", p.Host, p.Until.UnixMilli(), p.Reason), 0, 0, 1), nil
	case strings.HasSuffix(subj, "."+streams.RunLoad):
		var l streams.LoadCost
		if err := streams.Decode(msg.Data(), &l); err != nil {
			return delta{}, consume.Permanent(err)
		}
		return count(l.RunID, "load:"+l.Subject, 0, l.ArchiveHits, 0), nil
	}
	return delta{}, nil
}

// count records one cost entry of a run, once (redeliveries change nothing).
func count(runID, key string, calls, hits, pauses int) delta {
	return delta{what: fmt.Sprintf("count %s of %s", key, runID),
		sql: `INSERT INTO run_loads (run_id, subject, calls, archive_hits, pauses)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = $1) ON CONFLICT DO NOTHING`,
		args: []any{runID, key, calls, hits, pauses}}
}

// followJoin joins a run's items (i) to the items they follow (o): an
// item's outcome is coalesce(o.status, i.status).
const followJoin = `LEFT JOIN run_items o ON o.run_id = i.follows AND o.year = i.year AND o.round = i.round AND o.session = i.session AND o.kind = i.kind`

// maybeComplete completes runID when it is planned and nothing is pending,
// then the running runs that follow any of its items.
func (a *Accountant) maybeComplete(ctx context.Context, runID string) error {
	if err := a.maybeCompleteOne(ctx, runID); err != nil {
		return err
	}
	rows, err := a.pool.Query(ctx, `SELECT DISTINCT i.run_id FROM run_items i JOIN runs r USING (run_id)
		WHERE i.follows = $1 AND r.status = 'running'`, runID)
	if err != nil {
		return fmt.Errorf("runs: followers of %s: %w", runID, err)
	}
	followers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("runs: followers of %s: %w", runID, err)
	}
	for _, f := range followers {
		if err := a.maybeCompleteOne(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (a *Accountant) maybeCompleteOne(ctx context.Context, runID string) error {
	var status string
	var planned bool
	err := a.pool.QueryRow(ctx, `SELECT status, report IS NOT NULL FROM runs WHERE run_id=$1`, runID).Scan(&status, &planned)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("runs: check %s: %w", runID, err)
	}
	if status != "running" || !planned {
		return nil
	}
	var pending int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM run_items i `+followJoin+`
		WHERE i.run_id=$1 AND coalesce(o.status, i.status)='pending'`, runID).Scan(&pending); err != nil {
		return fmt.Errorf("runs: check %s: %w", runID, err)
	}
	if pending > 0 {
		return nil
	}
	s, err := a.Summarize(ctx, runID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	tag, err := a.pool.Exec(ctx, `UPDATE runs SET status=$2, finished_at=$3, summary=$4 WHERE run_id=$1 AND status='running'`,
		runID, s.Status, s.FinishedAt, b)
	if err != nil {
		return fmt.Errorf("runs: complete %s: %w", runID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil // completed by another instance
	}
	metrics.Runs.WithLabelValues(s.Status).Inc()
	metrics.RunSeconds.Observe(s.DurationSeconds)
	return a.PublishSummary(ctx, s)
}

// PublishSummary announces a finished run on EVENTS.
func (a *Accountant) PublishSummary(ctx context.Context, s *streams.Summary) error {
	_, err := a.js.Publish(ctx, streams.RunEvent(s.RunID, streams.RunCompleted), streams.Encode(s),
		jetstream.WithMsgID(streams.MsgID(s.RunID, streams.RunCompleted)))
	if err != nil {
		return fmt.Errorf("runs: publish summary of %s: %w", s.RunID, err)
	}
	a.log.Info("run completed", "run_id", s.RunID, "status", s.Status, "sessions", s.SessionsProcessed,
		"succeeded", s.SessionsSucceeded, "failed", s.SessionsFailed, "unavailable", s.SessionsUnavail,
		"api_calls", s.APICallsMade, "archive_hits", s.ArchiveHits, "duration_s", s.DurationSeconds)
	return nil
}

// Summarize computes the summary of runID from its items and loads.
func (a *Accountant) Summarize(ctx context.Context, runID string) (*streams.Summary, error) {
	s := &streams.Summary{V: streams.SchemaVersion, RunID: runID,
		DataExtracted: map[string]int{}, KindsUnavailable: map[string]int{}, KindsFailed: map[string]int{}}
	var finished *time.Time
	var runStatus, runErr string
	if err := a.pool.QueryRow(ctx, `SELECT year, started_at, finished_at, status, error, coalesce((command->>'notify')::boolean, false)
		FROM runs WHERE run_id=$1`, runID).
		Scan(&s.Year, &s.StartedAt, &finished, &runStatus, &runErr, &s.Notify); err != nil {
		return nil, fmt.Errorf("runs: summarize %s: %w", runID, err)
	}
	if err := a.pool.QueryRow(ctx, `SELECT coalesce(sum(calls),0), coalesce(sum(archive_hits),0), coalesce(sum(pauses),0),
			coalesce(sum(calls) FILTER (WHERE subject LIKE 'call:%/schedule#%'),0),
			coalesce((SELECT (report->>'estimated_api_calls')::int FROM runs WHERE run_id=$1),0),
			coalesce((SELECT (report->>'estimated_min_api_calls')::int FROM runs WHERE run_id=$1),0)
		FROM run_loads WHERE run_id=$1`, runID).
		Scan(&s.APICallsMade, &s.ArchiveHits, &s.RateLimitPauses, &s.ScheduleCalls, &s.EstimatedCalls, &s.EstimatedMinCalls); err != nil {
		return nil, fmt.Errorf("runs: summarize %s: %w", runID, err)
	}
	rows, err := a.pool.Query(ctx, `SELECT i.round, i.session, i.kind, coalesce(o.status, i.status), coalesce(o.reason, i.reason)
		FROM run_items i `+followJoin+` WHERE i.run_id=$1 ORDER BY i.round, i.session, i.kind`, runID)
	if err != nil {
		return nil, fmt.Errorf("runs: summarize %s: %w", runID, err)
	}
	type tally struct{ done, failed, unavailable, pending int }
	sessions := map[string]*tally{}
	var order []string
	for rows.Next() {
		var round int
		var session, kind, status, reason string
		if err := rows.Scan(&round, &session, &kind, &status, &reason); err != nil {
			rows.Close()
			return nil, fmt.Errorf("runs: summarize %s: %w", runID, err)
		}
		key := streams.Key(s.Year, round, session).String()
		t := sessions[key]
		if t == nil {
			t = &tally{}
			sessions[key] = t
			order = append(order, key)
		}
		switch status {
		case streams.StatusDone:
			t.done++
			s.DataExtracted[kind]++
		case streams.StatusFailed:
			t.failed++
			s.KindsFailed[kind]++
			s.Failures = append(s.Failures, fmt.Sprintf("%s %s: %s", key, kind, reason))
		case streams.StatusUnavailable:
			t.unavailable++
			s.KindsUnavailable[kind]++
		default:
			t.pending++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("runs: summarize %s: %w", runID, err)
	}
	sort.Strings(s.Failures)
	if s.Skipped, err = a.skipped(ctx, s.Year, runID); err != nil {
		return nil, err
	}
	s.GapsDetected = len(order)
	for _, key := range order {
		t := sessions[key]
		if t.pending > 0 {
			continue
		}
		s.SessionsProcessed++
		switch {
		case t.failed > 0:
			s.SessionsFailed++
			if t.done > 0 {
				s.SessionsPartial++
			}
		case t.done > 0:
			s.SessionsSucceeded++
		default:
			s.SessionsUnavail++
		}
	}
	s.Status = "completed"
	if s.SessionsFailed > 0 || runStatus == "failed" {
		s.Status = "failed"
		if runErr != "" {
			s.Failures = append([]string{runErr}, s.Failures...)
		}
	}
	s.FinishedAt = time.Now().UTC()
	if finished != nil {
		s.FinishedAt = *finished
	}
	s.DurationSeconds = float64(s.FinishedAt.Sub(s.StartedAt).Milliseconds()) / 1000
	return s, nil
}
