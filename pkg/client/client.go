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

// Plan sends cmd to the planner and returns its reply. timeout bounds the
// wait (planning a year whose schedule is unknown loads it first).
func Plan(ctx context.Context, nc *nats.Conn, cmd streams.PlanCommand, timeout time.Duration) (*streams.PlanReply, error) {
	cmd.V = streams.SchemaVersion
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, streams.PlanSubject, streams.Encode(cmd))
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("no planner is running on this NATS server: start services/planner, or unset NATS_URL to run everything in this process")
	}
	if err != nil {
		return nil, fmt.Errorf("plan request: %w", err)
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

// Event is one thing that happened in a followed run.
type Event struct {
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
// which it returns, or ctx ends.
func (w *Watch) Follow(ctx context.Context, runID string, on func(Event)) (*streams.Summary, error) {
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
			if streams.Decode(msg.Data(), &e) != nil || e.RunID != runID {
				continue
			}
			ev.Extraction = &e
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
		if ev.Summary != nil {
			return ev.Summary, nil
		}
	}
}

// Close stops following.
func (w *Watch) Close() { w.iter.Stop() }
