// Package deadletter lists what the DLQ stream holds and sends it again
// ('paddock dlq ls' and 'paddock dlq replay').
//
// A dead letter is identified by its sequence in DLQ. Replaying one
// publishes the original again, changed so that only the consumer that
// gave it up acts on it anew, and removes it from DLQ once the stream the
// original came from has acknowledged it:
//
//   - an extractor's manifest goes back to LOADED with its kinds narrowed
//     to that extractor's kind (every extractor receives it; the others
//     find their kind not asked for and skip it);
//   - the loader's gap goes back to GAPS;
//   - run accounting's extraction outcome goes back to EVENTS;
//   - an accepted plan command goes back to PLANS and is planned anew.
//
// A dead letter that belongs to a run starts a new run, whose command is
// "dlq replay ID": the run it belonged to ended failed and stays as it
// ended (its failure names the dead letter); the replay's run waits for
// the outcomes of the re-sent message alone (one session, the kinds it
// held back) and completes with a summary like any import's, which is
// what 'paddock dlq replay' waits for and prints. A re-sent plan command
// gets a new run id, which the planner plans as it plans any command.
// Anything else (a season schedule, a run event for the notifier) is
// re-sent as it was, and no run follows it.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/runs"
	"github.com/paddock-f1/paddock/streams"
)

// Letter is one dead letter as DLQ holds it.
type Letter struct {
	ID uint64 // its sequence in DLQ: what a replay names
	*streams.DeadLetter
	// RunID, Session and Kinds are the run, session and kinds whose
	// outcomes it held back; RunID "" when it belongs to no run's items
	// (a plan command names its run in RunID, without a session).
	RunID   string
	Session *streams.SessionKey
	Kinds   []string
}

// ErrNoDeadLetter is the error of a replay of an ID DLQ does not hold.
var ErrNoDeadLetter = errors.New("no such dead letter")

// List returns the dead letters DLQ holds, oldest first; consumer, when
// not "", keeps those of that consumer only.
func List(ctx context.Context, js jetstream.JetStream, consumer string) ([]Letter, error) {
	s, err := js.Stream(ctx, streams.DLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil // nothing was ever dead-lettered here
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	filter := streams.DeadLetterSubject(">")
	if consumer != "" {
		filter = streams.DeadLetterSubject(consumer)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	want := 0
	for _, n := range info.State.Subjects {
		want += int(n)
	}
	if want == 0 {
		return nil, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	var out []Letter
	for len(out) < want {
		batch, err := cons.Fetch(min(want-len(out), 256), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("deadletter: list: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				continue
			}
			l, err := parse(md.Sequence.Stream, msg.Headers(), msg.Data())
			if err != nil {
				continue // not a dead letter: nothing to list or replay
			}
			out = append(out, *l)
			if md.NumPending == 0 {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("deadletter: list: %w", err)
		}
		if n == 0 {
			break // removed meanwhile (replayed, or aged out)
		}
	}
	return out, nil
}

// Get returns the dead letter id; ErrNoDeadLetter when DLQ does not hold
// it (never dead-lettered, already replayed, or older than the stream
// keeps).
func Get(ctx context.Context, js jetstream.JetStream, id uint64) (*Letter, error) {
	s, err := js.Stream(ctx, streams.DLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("dead letter %d: %w", id, ErrNoDeadLetter)
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: get %d: %w", id, err)
	}
	raw, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("dead letter %d: %w", id, ErrNoDeadLetter)
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: get %d: %w", id, err)
	}
	l, err := parse(id, raw.Header, raw.Data)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", id, err)
	}
	return l, nil
}

func parse(id uint64, h nats.Header, data []byte) (*Letter, error) {
	d, err := streams.ParseDeadLetter(h, data)
	if err != nil {
		return nil, err
	}
	l := &Letter{ID: id, DeadLetter: d}
	runID, key, kinds := d.Affected()
	if runID != "" && len(kinds) > 0 {
		l.RunID, l.Session, l.Kinds = runID, &key, kinds
	}
	if d.Consumer == streams.PlannerConsumer {
		var cmd streams.PlanCommand
		if streams.Decode(d.Data, &cmd) == nil {
			l.RunID = cmd.RunID
		}
	}
	return l, nil
}

// Replayed is what a replay re-sent.
type Replayed struct {
	Letter
	// To is the subject the original was published to again.
	To string
	// RunID is the run that follows the re-sent message ("" when it
	// belongs to no run), Report its plan: the session and kinds it waits
	// for (nil for a plan command, which its planner plans).
	RunID  string
	Report *streams.GapReport
}

// HeaderReplayOf names, on a re-sent message, the dead letter it replays.
const HeaderReplayOf = "Paddock-Replay-Of"

// Replay sends dead letter id again (see the package comment for where
// and to whom) and removes it from DLQ. acc records the replay's run; the
// caller follows Replayed.RunID from a watch it opened before calling.
func Replay(ctx context.Context, js jetstream.JetStream, acc *runs.Accountant, id uint64) (*Replayed, error) {
	l, err := Get(ctx, js, id)
	if err != nil {
		return nil, err
	}
	r := &Replayed{Letter: *l, To: l.Subject}
	data := l.Data
	runID := streams.NewRunID(time.Now())
	switch {
	case l.Session != nil && strings.HasPrefix(l.Consumer, streams.ExtractorConsumer("")):
		var m streams.Manifest
		if err := streams.Decode(l.Data, &m); err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", id, err)
		}
		m.RunID, m.Kinds = runID, l.Kinds // only the extractor that gave it up
		data, r.RunID = streams.Encode(m), runID
	case l.Session != nil && l.Consumer == streams.LoaderConsumer:
		var g streams.Gap
		if err := streams.Decode(l.Data, &g); err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", id, err)
		}
		g.RunID = runID
		data, r.RunID = streams.Encode(g), runID
	case l.Session != nil && l.Consumer == streams.RunsConsumer:
		var e streams.Extraction
		if err := streams.Decode(l.Data, &e); err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", id, err)
		}
		e.RunID = runID
		data, r.RunID = streams.Encode(e), runID
	case l.Consumer == streams.PlannerConsumer:
		var cmd streams.PlanCommand
		if err := streams.Decode(l.Data, &cmd); err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", id, err)
		}
		cmd.RunID = runID
		data, r.RunID, r.To = streams.Encode(cmd), runID, streams.PlanAccepted(runID)
	}
	if r.RunID != "" && l.Session != nil {
		if r.Report, err = record(ctx, js, acc, runID, id, *l.Session, l.Kinds); err != nil {
			return nil, err
		}
	}
	msg := &nats.Msg{Subject: r.To, Header: nats.Header{}, Data: data}
	for k, v := range l.Header {
		msg.Header[k] = append([]string(nil), v...)
	}
	// A replay is a new message (a repeated one re-sends nothing new: the
	// same run id, the same message id).
	msg.Header.Set(jetstream.MsgIDHeader, streams.MsgID("replay", id, r.RunID))
	msg.Header.Set(HeaderReplayOf, strconv.FormatUint(id, 10))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(pctx, msg); err != nil {
		err = sendErr(l, r.To, err)
		if r.RunID != "" && l.Session != nil {
			_ = acc.Fail(context.WithoutCancel(ctx), r.RunID, err)
		}
		return nil, err
	}
	if r.RunID != "" && l.Session != nil && l.RunID != "" {
		// The run it belonged to keeps its outcome; its failure now names
		// the run that follows (a note: the replay goes on without it).
		_ = acc.Replayed(ctx, l.RunID, *l.Session, l.Kinds, id, r.RunID)
	}
	s, err := js.Stream(ctx, streams.DLQ)
	if err == nil {
		err = s.DeleteMsg(ctx, id)
	}
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return r, fmt.Errorf("dead letter %d was sent again to %s but is still listed (removing it failed: %v): do not replay it again; remove it with 'nats stream rmm %s %d'",
			id, r.To, err, streams.DLQ, id)
	}
	return r, nil
}

// record records the replay's run: the one session and the kinds the
// dead letter held back, planned and published, so the outcomes of the
// re-sent message complete it. Its command says 'dlq replay ID'.
func record(ctx context.Context, js jetstream.JetStream, acc *runs.Accountant, runID string, id uint64, key streams.SessionKey, kinds []string) (*streams.GapReport, error) {
	round := key.Round
	cmd := streams.PlanCommand{V: streams.SchemaVersion, RunID: runID, Year: key.Year, Round: &round, Session: key.Session,
		Kinds: kinds, Replay: id}
	gap := streams.MissingKinds{SessionRef: streams.SessionRef{SessionKey: key}, Kinds: kinds}
	report := &streams.GapReport{Year: key.Year, Sessions: 1, SessionGaps: []streams.MissingKinds{gap}}
	plan := &runs.Plan{Report: *report, Gaps: []streams.Gap{{V: streams.SchemaVersion, RunID: runID, SessionKey: key, Kinds: kinds}}}
	if err := acc.Create(ctx, runID, cmd); err != nil {
		return nil, err
	}
	if err := acc.Record(ctx, runID, plan); err != nil {
		return nil, err
	}
	if err := acc.Published(ctx, runID, report); err != nil {
		return nil, err
	}
	reply := streams.PlanReply{V: streams.SchemaVersion, RunID: runID, Report: report}
	if _, err := js.Publish(ctx, streams.RunEvent(runID, streams.RunPlanned), streams.Encode(reply)); err != nil {
		return nil, fmt.Errorf("deadletter: announce the replay's run %s: %w", runID, err)
	}
	return report, nil
}

// sendErr says why the original could not be sent again, and what to do.
func sendErr(l *Letter, to string, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && l.Consumer == streams.LoaderConsumer &&
		strings.Contains(strings.ToLower(apiErr.Description), "maximum messages per subject") {
		return fmt.Errorf("dead letter %d not sent again: a gap of %s is already queued for the loader (%s), which will import it; it stays in DLQ: replay it once that gap is loaded if it is still needed",
			l.ID, l.Session, to)
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("dead letter %d not sent again: no stream captures %s (is the topology applied? 'paddock migrate' with NATS_URL applies it): %w; it stays in DLQ", l.ID, to, err)
	}
	return fmt.Errorf("dead letter %d not sent again to %s: %w; it stays in DLQ", l.ID, to, err)
}
