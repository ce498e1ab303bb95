package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/metrics"
	"github.com/paddock-f1/paddock/streams"
)

// SetRetry sets how long run accounting retries an event through an
// outage before it is dead-lettered; consume.DefaultPolicy() when never
// set. Call it before Run.
func (a *Accountant) SetRetry(p consume.Policy) { a.retry = p }

// RunDeadLetters consumes the DLQ stream until ctx ends: every dead letter
// that belongs to a run fails that run's affected (session, kind) items
// with the reason, so the run completes and says what was given up. It
// never gives up a dead letter itself: it waits out any outage.
func (a *Accountant) RunDeadLetters(ctx context.Context) error {
	c, err := streams.Consumer(ctx, a.js, streams.DeadLetterConsumer)
	if err != nil {
		return err
	}
	metrics.CountDeadLetters(func(ctx context.Context) (map[string]int, error) { return streams.CountDeadLetters(ctx, a.js) })
	return consume.Run(ctx, c, a.HandleDeadLetter, a.log, consume.Options{Concurrency: 1, Heartbeat: 20 * time.Second,
		Name: streams.DeadLetterConsumer, Policy: consume.Policy{First: a.retry.First, Max: a.retry.Max, For: -1}})
}

// HandleDeadLetter applies one message of the DLQ stream.
func (a *Accountant) HandleDeadLetter(ctx context.Context, msg jetstream.Msg) error {
	d, err := streams.ParseDeadLetter(msg.Headers(), msg.Data())
	if err != nil {
		a.log.Error("runs: a DLQ message without its dead-letter headers is left as it is", "subject", msg.Subject(), "err", err)
		return nil
	}
	seq := uint64(0)
	if md, err := msg.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	if d.Consumer == streams.PlannerConsumer {
		return a.planDeadLettered(ctx, d, seq)
	}
	runID, key, kinds := affected(d)
	if runID == "" || len(kinds) == 0 {
		a.log.Warn("dead letter outside any run's items", "consumer", d.Consumer, "subject", d.Subject, "reason", d.Reason, "dlq_seq", seq)
		return nil
	}
	reason := fmt.Sprintf("dead-lettered by %s: %s (paddock dlq replay %d sends it again)", d.Consumer, d.Reason, seq)
	if err := a.DeadLettered(ctx, runID, key, kinds, reason); err != nil {
		return consume.Down("postgresql", err)
	}
	return nil
}

// planDeadLettered fails the run of an accepted command no planner could
// carry out, and announces it as refused, so whoever follows the run hears
// why. A run that was planned keeps its outcomes: only its plan's
// announcement is missing, and its items complete it.
func (a *Accountant) planDeadLettered(ctx context.Context, d *streams.DeadLetter, seq uint64) error {
	// Read the run whatever the command's schema version: a command this
	// build cannot read is one reason it lands here.
	var cmd streams.PlanCommand
	if err := json.Unmarshal(d.Data, &cmd); err != nil || cmd.RunID == "" {
		a.log.Warn("dead letter of a plan command without a run", "subject", d.Subject, "reason", d.Reason, "dlq_seq", seq)
		return nil
	}
	reason := fmt.Sprintf("the plan was dead-lettered by %s: %s (paddock dlq replay %d sends it again)", d.Consumer, d.Reason, seq)
	var planned bool
	err := a.pool.QueryRow(ctx, `SELECT plan IS NOT NULL FROM runs WHERE run_id=$1`, cmd.RunID).Scan(&planned)
	if err != nil && !IsNoRun(err) {
		return consume.Down("postgresql", err)
	}
	if planned {
		a.log.Warn("plan dead-lettered after it was recorded: the run completes from its items", "run_id", cmd.RunID, "reason", reason)
		return nil
	}
	if err := a.Create(ctx, cmd.RunID, cmd); err != nil {
		return consume.Down("postgresql", err)
	}
	if err := a.Fail(ctx, cmd.RunID, errors.New(reason)); err != nil {
		return consume.Down("postgresql", err)
	}
	r := streams.PlanReply{V: streams.SchemaVersion, RunID: cmd.RunID, Refused: reason}
	if _, err := a.js.Publish(ctx, streams.RunEvent(cmd.RunID, streams.RunPlanned), streams.Encode(r)); err != nil {
		return fmt.Errorf("runs: announce the dead-lettered plan of %s: %w", cmd.RunID, err)
	}
	a.log.Warn("run failed: its plan was dead-lettered", "run_id", cmd.RunID, "reason", reason)
	return nil
}

// DeadLettered fails the pending items of runID for the session at key and
// kinds with reason, then completes the run if nothing else is pending.
// Items that already have an outcome keep it.
func (a *Accountant) DeadLettered(ctx context.Context, runID string, key streams.SessionKey, kinds []string, reason string) error {
	tag, err := a.pool.Exec(ctx, `UPDATE run_items SET status='failed', rows=0, reason=$6
		WHERE run_id=$1 AND year=$2 AND round=$3 AND session=$4 AND kind = ANY($5) AND status='pending'`,
		runID, key.Year, key.Round, key.Session, kinds, reason)
	if err != nil {
		return fmt.Errorf("runs: dead-lettered items of %s: %w", runID, err)
	}
	a.log.Warn("run items failed: dead-lettered", "run_id", runID, "session", key, "kinds", strings.Join(kinds, ","),
		"items", tag.RowsAffected(), "reason", reason)
	return a.maybeComplete(ctx, runID)
}

// affected names the run, session and kinds a dead letter leaves without
// an outcome (streams.DeadLetter.Affected).
func affected(d *streams.DeadLetter) (runID string, key streams.SessionKey, kinds []string) {
	return d.Affected()
}

// Replayed notes on the items of runID that dead letter id failed (session
// key, kinds) that 'paddock dlq replay' sent it again as run replay: the
// run stays as it ended, and its failures point to the run that follows.
func (a *Accountant) Replayed(ctx context.Context, runID string, key streams.SessionKey, kinds []string, id uint64, replay string) error {
	_, err := a.pool.Exec(ctx, `UPDATE run_items SET reason = reason || $7
		WHERE run_id=$1 AND year=$2 AND round=$3 AND session=$4 AND kind = ANY($5) AND status='failed'
		AND reason LIKE 'dead-lettered by %' AND reason LIKE '%(paddock dlq replay ' || $6 || ' sends it again)'`,
		runID, key.Year, key.Round, key.Session, kinds, strconv.FormatUint(id, 10), "; replayed as run "+replay)
	if err != nil {
		return fmt.Errorf("runs: note the replay of %s: %w", runID, err)
	}
	return nil
}
