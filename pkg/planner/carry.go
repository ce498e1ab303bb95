package planner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/pkg/season"
	"github.com/paddock-f1/paddock/streams"
)

// HandleAccepted carries out one accepted command (a PLANS message) whole:
// it is idempotent, so a command whose planner died part-way is finished
// by the next planner to take it. The steps, each safe to repeat:
//
//  1. the run is created; a run already refused or failed is announced
//     again as it is;
//  2. unless a plan is recorded: the schedule is loaded if unknown, the
//     scope checked, the gaps detected and budgeted, and the plan recorded
//     with the outcomes it waits for (one transaction). A refusal fails
//     the run and publishes nothing;
//  3. every gap of the recorded plan the run still waits for is published
//     (message ids make repeats no-ops); a session another run has queued
//     is followed: the run takes that run's outcomes for it;
//  4. the planned event announces the gap report; then the report is
//     recorded, after which the run may complete.
//
// stop is the planner's own lifetime: a plan waiting on the loader gives
// its command back when the planner stops, for another planner to carry on.
func (p *Planner) HandleAccepted(ctx, stop context.Context, msg jetstream.Msg) error {
	var cmd streams.PlanCommand
	if err := streams.Decode(msg.Data(), &cmd); err != nil {
		return consume.Permanent(err)
	}
	if cmd.RunID == "" {
		return consume.Permanent(errors.New("planner: accepted command without a run id"))
	}
	return p.carryOut(ctx, stop, cmd)
}

func (p *Planner) carryOut(ctx, stop context.Context, cmd streams.PlanCommand) error {
	log := p.log.With("run_id", cmd.RunID, "year", cmd.Year)
	if err := p.acc.Create(ctx, cmd.RunID, cmd); err != nil {
		return err
	}
	st, err := p.acc.State(ctx, cmd.RunID)
	if err != nil {
		return err
	}
	if st.Plan == nil && st.Status == "failed" {
		return p.announce(ctx, &streams.PlanReply{RunID: cmd.RunID, Refused: st.Error})
	}
	plan := st.Plan
	if plan == nil {
		plan, err = p.prepare(ctx, stop, cmd)
		var ce *CommandError
		var lf *loadFailure
		if errors.As(err, &ce) || errors.As(err, &lf) {
			log.Info("plan refused", "err", err)
			if ferr := p.acc.Fail(ctx, cmd.RunID, err); ferr != nil {
				return ferr
			}
			return p.announce(ctx, &streams.PlanReply{RunID: cmd.RunID, Refused: err.Error(), Invalid: ce != nil})
		}
		if err != nil {
			if stop.Err() != nil {
				return consume.Retry(0, fmt.Errorf("planner stopping: %w", err))
			}
			return err
		}
		if err := p.acc.Record(ctx, cmd.RunID, plan); err != nil {
			return err
		}
		// Another planner may have recorded first: carry on with the
		// plan that stands.
		if st, err = p.acc.State(ctx, cmd.RunID); err != nil {
			return err
		}
		plan = st.Plan
	}
	if st.Report != nil { // published before: announce again
		return p.announce(ctx, &streams.PlanReply{RunID: cmd.RunID, Report: st.Report})
	}
	report, err := p.publish(ctx, cmd.RunID, plan)
	if err != nil {
		return err
	}
	if err := p.announce(ctx, &streams.PlanReply{RunID: cmd.RunID, Report: report}); err != nil {
		return err
	}
	if err := p.acc.Published(ctx, cmd.RunID, report); err != nil {
		return err
	}
	log.Info("planned", "gaps", len(plan.Gaps), "followed", len(report.Queued), "estimated_calls", report.EstimatedCalls)
	return nil
}

// loadFailure is a season schedule that could not be loaded: the run
// fails with it.
type loadFailure struct{ msg string }

func (e *loadFailure) Error() string { return e.msg }

// prepare computes the plan of cmd: the schedule first when it is unknown
// (or with --refetch), then the scope, the gaps and the budget.
func (p *Planner) prepare(ctx, stop context.Context, cmd streams.PlanCommand) (*runs.Plan, error) {
	known, err := season.Known(ctx, p.pool, cmd.Year)
	if err != nil {
		return nil, err
	}
	if !known || cmd.Refetch {
		if err := p.loadSchedule(ctx, stop, cmd, true); err != nil {
			return nil, err
		}
	}
	plan, err := p.detect(ctx, cmd)
	if err != nil {
		return nil, err
	}
	publish, err := p.budget(ctx, cmd, plan)
	if err != nil {
		return nil, err
	}
	return &runs.Plan{Report: plan.Report, Gaps: publish}, nil
}

// publish publishes every gap of plan whose session runID still waits for
// and returns the gap report with the sessions followed from other runs.
func (p *Planner) publish(ctx context.Context, runID string, plan *runs.Plan) (*streams.GapReport, error) {
	pending, err := p.acc.Pending(ctx, runID)
	if err != nil {
		return nil, err
	}
	report := plan.Report
	for _, g := range plan.Gaps {
		if !pending[g.SessionKey] {
			continue // extracted already, or followed from another run
		}
		dropped, err := p.publishGap(ctx, runID, g)
		if err != nil {
			return nil, err
		}
		if len(dropped) > 0 {
			p.log.Warn("another run imports this session without some kinds: plan them again once it ends",
				"run_id", runID, "session", g.SessionKey, "kinds", dropped)
			report.Deferred = append(report.Deferred, streams.SessionRef{SessionKey: g.SessionKey})
			for i := range report.SessionGaps {
				if report.SessionGaps[i].SessionKey == g.SessionKey {
					report.SessionGaps[i].Kinds = slices.DeleteFunc(slices.Clone(report.SessionGaps[i].Kinds), func(k string) bool { return slices.Contains(dropped, k) })
				}
			}
		}
	}
	if report.Queued, err = p.acc.Followed(ctx, runID); err != nil {
		return nil, err
	}
	return &report, nil
}

// publishGap publishes g. When another run's gap for the session is
// queued (GAPS holds one per session), the run follows that run's outcomes
// for the kinds it imports; the kinds it does not are returned.
func (p *Planner) publishGap(ctx context.Context, runID string, g streams.Gap) (dropped []string, err error) {
	subj := streams.SessionGap(g.SessionKey)
	id := streams.MsgID(g.RunID, g.Year, g.Round, g.Session, strings.Join(g.Kinds, ","))
	for attempt := 0; ; attempt++ {
		_, err := p.js.Publish(ctx, subj, streams.Encode(g), jetstream.WithMsgID(id))
		if !isPerSubjectLimit(err) {
			if err != nil {
				return nil, fmt.Errorf("planner: publish gap %s: %w", g.SessionKey, err)
			}
			return nil, nil
		}
		owner, err := p.queuedGap(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) && attempt < 5 {
			continue // loaded meanwhile: publish again
		}
		if err != nil {
			return nil, fmt.Errorf("planner: read the gap queued for %s: %w", g.SessionKey, err)
		}
		if owner.RunID == runID {
			return nil, nil // this run's own, published before
		}
		return p.acc.Follow(ctx, runID, g.SessionKey, owner.RunID, owner.Kinds)
	}
}

// queuedGap reads the gap queued on subject.
func (p *Planner) queuedGap(ctx context.Context, subject string) (*streams.Gap, error) {
	s, err := p.js.Stream(ctx, streams.Gaps)
	if err != nil {
		return nil, err
	}
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return nil, err
	}
	var g streams.Gap
	if err := streams.Decode(m.Data, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// announce publishes a run's planned event.
func (p *Planner) announce(ctx context.Context, r *streams.PlanReply) error {
	r.V = streams.SchemaVersion
	if _, err := p.js.Publish(ctx, streams.RunEvent(r.RunID, streams.RunPlanned), streams.Encode(r),
		jetstream.WithMsgID(streams.MsgID(r.RunID, streams.RunPlanned))); err != nil {
		return fmt.Errorf("planner: announce the plan of %s: %w", r.RunID, err)
	}
	return nil
}
