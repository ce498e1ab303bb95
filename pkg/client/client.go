// Package client is how a user's process talks to a running paddock: it
// sends plan commands to the planner and follows a run's events until its
// summary arrives.
package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/paddock-f1/paddock/streams"
)

// PlanError is the planner's refusal of a command.
type PlanError struct {
	Code    string // "400": the command is wrong; "500": the planner failed
	Message string
}

func (e *PlanError) Error() string { return e.Message }

// Submit sends cmd to a planner. A dry run is answered with its gap
// report. Any other command is answered once it is accepted: recorded, so
// that it is carried out whole even if the planner that took it dies; the
// reply has its run id and no report yet (the run's planned event brings
// it: see Plan and Watch). timeout bounds the wait for the answer.
//
// Accepting takes a planner a moment, so a command whose answer does not
// come within acceptWait (its planner died holding the request) is sent
// again, under the same run id: a command accepted twice is recorded once.
func Submit(ctx context.Context, nc *nats.Conn, cmd streams.PlanCommand, timeout time.Duration) (*streams.PlanReply, error) {
	cmd.V = streams.SchemaVersion
	attempt := timeout
	if !cmd.DryRun { // a dry run may load a schedule before it answers
		if cmd.RunID == "" {
			cmd.RunID = streams.NewRunID(time.Now())
		}
		attempt = min(timeout, acceptWait)
	}
	deadline := time.Now().Add(timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, min(attempt, time.Until(deadline)))
		msg, err := nc.RequestWithContext(rctx, streams.PlanSubject, streams.Encode(cmd))
		cancel()
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("no planner is running on this NATS server: start services/planner, or unset NATS_URL to run everything in this process")
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && time.Until(deadline) > 0 {
			continue // the planner died holding it, or NATS reconnects: ask again
		}
		if err != nil {
			return nil, fmt.Errorf("plan request: no planner answered within %s: %w", timeout, err)
		}
		if desc := msg.Header.Get(micro.ErrorHeader); desc != "" {
			return nil, &PlanError{Code: msg.Header.Get(micro.ErrorCodeHeader), Message: desc}
		}
		var reply streams.PlanReply
		if err := streams.Decode(msg.Data, &reply); err != nil {
			return nil, err
		}
		return &reply, nil
	}
}

// acceptWait is how long Submit waits for a command's acceptance before it
// sends it again.
var acceptWait = 10 * time.Second

// Plan submits cmd and waits until a planner has planned it, returning
// the gap report. timeout bounds each wait without news: for the answer,
// then for the plan (a waiting event, sent while the plan waits for the
// loader or the quota, starts it anew). A refused plan is a *PlanError.
func Plan(ctx context.Context, nc *nats.Conn, cmd streams.PlanCommand, timeout time.Duration) (*streams.PlanReply, error) {
	if cmd.DryRun {
		return Submit(ctx, nc, cmd, timeout)
	}
	if cmd.RunID == "" {
		cmd.RunID = streams.NewRunID(time.Now())
	}
	sub, err := nc.SubscribeSync(streams.RunEvent(cmd.RunID, "*"))
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer sub.Unsubscribe()
	if _, err := Submit(ctx, nc, cmd, timeout); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		wctx, cancel := context.WithDeadline(ctx, deadline)
		msg, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("run %s: %w", cmd.RunID, ctx.Err())
			}
			return nil, NotPlanned(nc, cmd.RunID, timeout)
		}
		switch msg.Subject {
		case streams.RunEvent(cmd.RunID, streams.RunWaiting):
			deadline = time.Now().Add(timeout)
		case streams.RunEvent(cmd.RunID, streams.RunPlanned):
			var r streams.PlanReply
			if err := streams.Decode(msg.Data, &r); err != nil {
				return nil, err
			}
			if err := Refusal(&r); err != nil {
				return nil, err
			}
			return &r, nil
		}
	}
}

// Refusal is the error of a refused plan, nil for a planned one.
func Refusal(r *streams.PlanReply) error {
	switch {
	case r.Refused == "":
		return nil
	case r.Invalid:
		return &PlanError{Code: "400", Message: r.Refused}
	default:
		return &PlanError{Code: "500", Message: r.Refused}
	}
}

// PlannerRunning reports whether any planner answers on nc.
func PlannerRunning(nc *nats.Conn) bool {
	_, err := nc.Request("$SRV.PING."+streams.PlanService, nil, time.Second)
	return err == nil
}

// NotPlanned is the error of an accepted run whose plan did not come
// within waited: it says whether a planner is running at all.
func NotPlanned(nc *nats.Conn, runID string, waited time.Duration) error {
	if !PlannerRunning(nc) {
		return fmt.Errorf("run %s is accepted but no planner is running to plan it: start the planner (services/planner); the run is planned as soon as one runs ('paddock status --run %s' shows it)", runID, runID)
	}
	return fmt.Errorf("run %s is accepted but was not planned within %s: the planner may be overloaded or restarting; the run carries on by itself ('paddock status --run %s' shows it), or wait longer with --timeout", runID, waited, runID)
}

// Event is one thing that happened in a followed run.
type Event struct {
	// Planned: the run's gap report (or its refusal).
	Planned *streams.PlanReply
	// Waiting: the plan waits for the loader or the quota.
	Waiting    *streams.Waiting
	Extraction *streams.Extraction
	Load       *streams.LoadCost
	// Paused: the upstream makes the run wait until Paused.Until.
	Paused  *streams.Paused
	Summary *streams.Summary
}

// Watch follows EVENTS from now on; create it before sending the plan so
// nothing of the run is missed. Close it when done.
type Watch struct {
	cons jetstream.Consumer
	iter jetstream.MessagesContext
}

// NewWatch starts following EVENTS.
func NewWatch(ctx context.Context, js jetstream.JetStream) (*Watch, error) {
	// EVENTS holds only extraction outcomes and run events: no filter
	// needed (which also keeps nats-server 2.9 working).
	cons, err := js.OrderedConsumer(ctx, streams.Events, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("no paddock services have set up this NATS server yet (stream %s not found): start them (or run 'paddock migrate' with NATS_URL), or unset NATS_URL to run everything in this process", streams.Events)
	}
	if err != nil {
		return nil, fmt.Errorf("follow run: %w", err)
	}
	iter, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow run: %w", err)
	}
	return &Watch{cons: cons, iter: iter}, nil
}

// Follow calls on for every event of runID until its summary arrives,
// which it returns, or ctx ends. Once the run is planned, the outcomes of
// the sessions it follows from other runs are its events too. A refused
// plan ends the follow with a *PlanError after on saw it.
func (w *Watch) Follow(ctx context.Context, runID string, on func(Event)) (*streams.Summary, error) {
	followed := map[streams.SessionKey]string{} // session -> the run importing it
	go func() {
		<-ctx.Done()
		w.iter.Stop()
	}()
	for {
		msg, err := w.iter.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("run %s: %w", runID, ctx.Err())
			}
			return nil, fmt.Errorf("run %s: follow: %w", runID, err)
		}
		subj := msg.Subject()
		var ev Event
		switch {
		case strings.HasPrefix(subj, "f1.extracted.schedule."):
			continue
		case strings.HasPrefix(subj, "f1.extracted."):
			var e streams.Extraction
			if streams.Decode(msg.Data(), &e) != nil || e.RunID != runID && followed[e.SessionKey] != e.RunID {
				continue
			}
			ev.Extraction = &e
		case subj == streams.RunEvent(runID, streams.RunPlanned):
			var r streams.PlanReply
			if streams.Decode(msg.Data(), &r) != nil {
				continue
			}
			if r.Report != nil {
				for _, q := range r.Report.Queued {
					followed[q.SessionKey] = q.RunID
				}
			}
			ev.Planned = &r
		case subj == streams.RunEvent(runID, streams.RunWaiting):
			var wt streams.Waiting
			if streams.Decode(msg.Data(), &wt) != nil {
				continue
			}
			ev.Waiting = &wt
		case subj == streams.RunEvent(runID, streams.RunLoad):
			var l streams.LoadCost
			if streams.Decode(msg.Data(), &l) != nil {
				continue
			}
			ev.Load = &l
		case subj == streams.RunEvent(runID, streams.RunPaused):
			var p streams.Paused
			if streams.Decode(msg.Data(), &p) != nil {
				continue
			}
			ev.Paused = &p
		case subj == streams.RunEvent(runID, streams.RunCompleted):
			var s streams.Summary
			if err := streams.Decode(msg.Data(), &s); err != nil {
				return nil, err
			}
			ev.Summary = &s
		default:
			continue
		}
		if on != nil {
			on(ev)
		}
		if ev.Planned != nil {
			if err := Refusal(ev.Planned); err != nil {
				return nil, err
			}
		}
		if ev.Summary != nil {
			return ev.Summary, nil
		}
	}
}

// Close stops following.
func (w *Watch) Close() { w.iter.Stop() }
