package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/streams"
)

// Plan is a run's plan as first computed: the gap report and the gaps to
// publish, in order. It is recorded before the first gap is published, so
// whichever planner carries the run on publishes the same plan.
type Plan struct {
	Report streams.GapReport `json:"report"`
	Gaps   []streams.Gap     `json:"gaps"`
}

// State is what run accounting knows of a run while it is planned.
type State struct {
	Status string // running, completed or failed
	Error  string // why a failed run failed
	// Plan is the recorded plan; nil until Record.
	Plan *Plan
	// Report is the published gap report; nil until Published.
	Report *streams.GapReport
}

// State reads the state of runID; pgx.ErrNoRows when there is no such run.
func (a *Accountant) State(ctx context.Context, runID string) (*State, error) {
	var s State
	var plan, report []byte
	err := a.pool.QueryRow(ctx, `SELECT status, error, plan, report FROM runs WHERE run_id=$1`, runID).Scan(&s.Status, &s.Error, &plan, &report)
	if err != nil {
		return nil, fmt.Errorf("runs: state of %s: %w", runID, err)
	}
	if plan != nil {
		s.Plan = &Plan{}
		if err := json.Unmarshal(plan, s.Plan); err != nil {
			return nil, fmt.Errorf("runs: plan of %s: %w", runID, err)
		}
	}
	if report != nil {
		s.Report = &streams.GapReport{}
		if err := json.Unmarshal(report, s.Report); err != nil {
			return nil, fmt.Errorf("runs: report of %s: %w", runID, err)
		}
	}
	return &s, nil
}

// Record records the plan of runID and the (session, kind) outcomes it
// waits for, in one transaction, unless a plan is recorded already (the
// first recorded plan stands). The run cannot complete before Published.
func (a *Accountant) Record(ctx context.Context, runID string, p *Plan) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("runs: record %s: %w", runID, err)
	}
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE runs SET plan = $2 WHERE run_id = $1 AND plan IS NULL`, runID, b)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		for _, g := range p.Gaps {
			for _, k := range g.Kinds {
				if _, err := tx.Exec(ctx, `INSERT INTO run_items (run_id, year, round, session, kind) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
					runID, g.Year, g.Round, g.Session, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("runs: record %s: %w", runID, err)
	}
	return nil
}

// Pending reports the sessions of runID that still wait for an outcome of
// the run's own (not followed from another run).
func (a *Accountant) Pending(ctx context.Context, runID string) (map[streams.SessionKey]bool, error) {
	rows, err := a.pool.Query(ctx, `SELECT DISTINCT year, round, session FROM run_items
		WHERE run_id=$1 AND follows IS NULL AND status='pending'`, runID)
	if err != nil {
		return nil, fmt.Errorf("runs: pending of %s: %w", runID, err)
	}
	out := map[streams.SessionKey]bool{}
	for rows.Next() {
		var k streams.SessionKey
		if err := rows.Scan(&k.Year, &k.Round, &k.Session); err != nil {
			rows.Close()
			return nil, fmt.Errorf("runs: pending of %s: %w", runID, err)
		}
		out[k] = true
	}
	rows.Close()
	return out, rows.Err()
}

// Follow makes runID take owner's outcomes for session k, where owner is
// the run whose gap for k is already queued: the items of kinds owner
// imports follow it; the others are dropped (owner does not import them;
// a later plan will) and returned.
func (a *Accountant) Follow(ctx context.Context, runID string, k streams.SessionKey, owner string, ownerKinds []string) (dropped []string, err error) {
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE run_items SET follows=$5 WHERE run_id=$1 AND year=$2 AND round=$3 AND session=$4
			AND follows IS NULL AND status='pending' AND kind = ANY($6)`, runID, k.Year, k.Round, k.Session, owner, ownerKinds); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM run_items WHERE run_id=$1 AND year=$2 AND round=$3 AND session=$4
			AND follows IS NULL AND status='pending' RETURNING kind`, runID, k.Year, k.Round, k.Session)
		if err != nil {
			return err
		}
		dropped, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("runs: follow %s of %s in %s: %w", k, owner, runID, err)
	}
	return dropped, nil
}

// Followed lists the sessions runID follows, each with the run it follows.
func (a *Accountant) Followed(ctx context.Context, runID string) ([]streams.SessionRef, error) {
	rows, err := a.pool.Query(ctx, `SELECT DISTINCT year, round, session, follows FROM run_items
		WHERE run_id=$1 AND follows IS NOT NULL ORDER BY year, round, session`, runID)
	if err != nil {
		return nil, fmt.Errorf("runs: followed by %s: %w", runID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (streams.SessionRef, error) {
		var s streams.SessionRef
		err := r.Scan(&s.Year, &s.Round, &s.Session, &s.RunID)
		return s, err
	})
}

// Published records that every gap of runID is published, with the final
// gap report, and completes the run if it waits for nothing.
func (a *Accountant) Published(ctx context.Context, runID string, report *streams.GapReport) error {
	b, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("runs: published %s: %w", runID, err)
	}
	if _, err := a.pool.Exec(ctx, `UPDATE runs SET report = $2 WHERE run_id = $1`, runID, b); err != nil {
		return fmt.Errorf("runs: published %s: %w", runID, err)
	}
	return a.maybeComplete(ctx, runID)
}

// IsNoRun reports the error of State for a run that does not exist.
func IsNoRun(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
