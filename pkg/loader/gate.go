package loader

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/streams"
)

// Acquirer spends one slot of a host's quota; *governor.Governor
// implements it.
type Acquirer interface {
	Acquire(ctx context.Context, host string) error
}

// Gate is the upstream client's gate in the loader: every request spends
// a governor slot, then is recorded as a call of the run being loaded —
// before it is made, so a loader killed mid-load has its requests counted.
type Gate struct {
	gov Acquirer
	js  jetstream.JetStream
}

// NewGate returns the gate for an upstream client.
func NewGate(gov Acquirer, js jetstream.JetStream) *Gate { return &Gate{gov: gov, js: js} }

// Acquire implements upstream.Gate.
func (g *Gate) Acquire(ctx context.Context, host string) error {
	if err := g.gov.Acquire(ctx, host); err != nil {
		return err
	}
	j := jobFrom(ctx)
	if j == nil {
		return nil
	}
	j.seq++
	c := streams.Call{V: streams.SchemaVersion, RunID: j.runID, Subject: j.subject, Seq: j.seq, Host: host}
	if _, err := g.js.Publish(ctx, streams.RunEvent(j.runID, streams.RunCall), streams.Encode(c),
		jetstream.WithMsgID(streams.MsgID(j.runID, j.subject, j.seq))); err != nil {
		return fmt.Errorf("loader: record call to %s: %w", host, err)
	}
	return nil
}

// PauseAnnouncer returns the governor's pause callback: it publishes the
// pause for the run whose job is in the context.
func PauseAnnouncer(js jetstream.JetStream, log *slog.Logger) func(ctx context.Context, host string, until time.Time, reason string) {
	return func(ctx context.Context, host string, until time.Time, reason string) {
		Announce(ctx, js, log, jobFrom(ctx), host, until, reason)
	}
}
