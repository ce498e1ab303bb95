package consume_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// harness is an in-process JetStream server with paddock's topology and
// the weather extractor's durable consumer, consumed by handler h.
type harness struct {
	js   jetstream.JetStream
	cons jetstream.Consumer
}

const consumerName = "extract-weather"

func newHarness(t *testing.T) *harness {
	t.Helper()
	js := testenv.JetStream(t)
	ctx := context.Background()
	c, err := streams.Consumer(ctx, js, consumerName)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{js: js, cons: c}
}

// run consumes with h and p until the test ends.
func (x *harness) run(t *testing.T, h consume.Handler, p consume.Policy) {
	t.Helper()
	x.runWith(t, h, consume.Options{Policy: p})
}

// runWith consumes with h and o (its name and dead letters set here)
// until the test ends.
func (x *harness) runWith(t *testing.T, h consume.Handler, o consume.Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o.Name, o.DeadLetters = consumerName, x.js
	go func() {
		done <- consume.Run(ctx, x.cons, h, slog.New(slog.NewTextHandler(io.Discard, nil)), o)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// publish sends a manifest-like message with a header and a message id.
func (x *harness) publish(t *testing.T) *jetstream.PubAck {
	t.Helper()
	m := nats.NewMsg("f1.session.loaded.2019.14.Q")
	m.Data = []byte(`{"v":1,"run_id":"r1","year":2019,"round":14,"session":"Qualifying","kinds":["weather"]}`)
	m.Header.Set("X-Trace", "abc")
	m.Header.Set(jetstream.MsgIDHeader, "original-id")
	ack, err := x.js.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

// deadLetter waits for the dead letter of consumerName (10 s).
func (x *harness) deadLetter(t *testing.T) *streams.DeadLetter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msg *jetstream.RawStreamMsg
	for {
		s, err := x.js.Stream(ctx, streams.DLQ)
		if err == nil {
			if msg, err = s.GetLastMsgForSubject(ctx, streams.DeadLetterSubject(consumerName)); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no dead letter on %s within 10s: %v", streams.DeadLetterSubject(consumerName), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d, err := streams.ParseDeadLetter(msg.Header, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// settled waits until the consumer has nothing pending or in hand.
func (x *harness) settled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := x.cons.Info(context.Background())
		if err == nil && info.NumAckPending == 0 && info.NumPending == 0 && info.NumRedelivered == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer still holds the message: %+v (%v)", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTransientFailuresOutlastDeliveryLimits: a dependency down for more
// deliveries than any fixed limit allowed (ten before) is retried with a
// growing, capped delay until it is back, and the message is then handled.
func TestTransientFailuresOutlastDeliveryLimits(t *testing.T) {
	x := newHarness(t)
	var deliveries atomic.Int64
	handled := make(chan struct{})
	x.run(t, func(ctx context.Context, msg jetstream.Msg) error {
		if deliveries.Add(1) <= 25 {
			return consume.Down("postgresql", errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
		}
		close(handled)
		return nil
	}, consume.Policy{First: time.Millisecond, Max: 8 * time.Millisecond, For: time.Minute})
	t0 := time.Now()
	x.publish(t)
	select {
	case <-handled:
	case <-time.After(20 * time.Second):
		t.Fatalf("handled after %d deliveries only: the message was dropped", deliveries.Load())
	}
	x.settled(t)
	// 1+2+4 ms, then 22 deliveries capped at 8 ms: at least 183 ms.
	if took := time.Since(t0); took < 180*time.Millisecond {
		t.Fatalf("26 deliveries in %s: the delays did not grow to their cap", took)
	}
}

// TestPermanentErrorIsDeadLettered: a message that can never be handled
// lands in DLQ, as it was and with why, before it is terminated.
func TestPermanentErrorIsDeadLettered(t *testing.T) {
	x := newHarness(t)
	x.run(t, func(ctx context.Context, msg jetstream.Msg) error {
		return consume.Permanent(errors.New("streams: decode: unexpected end of JSON input"))
	}, consume.Policy{})
	ack := x.publish(t)
	d := x.deadLetter(t)
	x.settled(t)
	if d.Stream != streams.Loaded || d.Subject != "f1.session.loaded.2019.14.Q" || d.Sequence != ack.Sequence ||
		d.Consumer != consumerName || d.Deliveries != 1 || time.Since(d.Time) > time.Minute {
		t.Fatalf("dead letter %+v", d)
	}
	if !strings.Contains(d.Reason, "permanent error: streams: decode") {
		t.Fatalf("reason %q does not say why", d.Reason)
	}
	if !strings.Contains(string(d.Data), `"run_id":"r1"`) || d.Header.Get("X-Trace") != "abc" || d.Header.Get(jetstream.MsgIDHeader) != "original-id" {
		t.Fatalf("the original is not kept whole: data %s, headers %v", d.Data, d.Header)
	}
}

// TestRetryBudgetAndPanicsEndInDLQ: a dependency that never comes back is
// given up once the budget is spent, and a handler that keeps panicking
// after its third delivery; both land in DLQ with why.
func TestRetryBudgetAndPanicsEndInDLQ(t *testing.T) {
	t.Run("budget", func(t *testing.T) {
		x := newHarness(t)
		x.run(t, func(ctx context.Context, msg jetstream.Msg) error {
			return consume.Down("postgresql", errors.New("connection refused"))
		}, consume.Policy{First: 5 * time.Millisecond, Max: 20 * time.Millisecond, For: 300 * time.Millisecond})
		x.publish(t)
		d := x.deadLetter(t)
		x.settled(t)
		if !strings.Contains(d.Reason, "retry budget spent") || !strings.Contains(d.Reason, "postgresql unreachable: connection refused") || d.Deliveries < 5 {
			t.Fatalf("dead letter after %d deliveries: %q", d.Deliveries, d.Reason)
		}
		t.Logf("reason: %s", d.Reason)
	})
	t.Run("panics", func(t *testing.T) {
		x := newHarness(t)
		x.run(t, func(ctx context.Context, msg jetstream.Msg) error {
			var m map[string]int
			m["boom"]++ // a nil map: panics every time
			return nil
		}, consume.Policy{First: 5 * time.Millisecond})
		x.publish(t)
		d := x.deadLetter(t)
		x.settled(t)
		if d.Deliveries != 3 || !strings.Contains(d.Reason, "panicked on 3 deliveries") || !strings.Contains(d.Reason, "assignment to entry in nil map") {
			t.Fatalf("dead letter after %d deliveries: %.200q", d.Deliveries, d.Reason)
		}
	})
}

// TestNothingIsTerminatedWithoutItsDeadLetter: while the DLQ stream cannot
// take a dead letter, the original is kept and retried; once DLQ is back
// the dead letter lands there.
func TestNothingIsTerminatedWithoutItsDeadLetter(t *testing.T) {
	x := newHarness(t)
	ctx := context.Background()
	if err := x.js.DeleteStream(ctx, streams.DLQ); err != nil {
		t.Fatal(err)
	}
	var deliveries atomic.Int64
	x.run(t, func(ctx context.Context, msg jetstream.Msg) error {
		deliveries.Add(1)
		return consume.Permanent(errors.New("cannot be handled"))
	}, consume.Policy{First: 5 * time.Millisecond, Max: 10 * time.Millisecond})
	x.publish(t)
	deadline := time.Now().Add(10 * time.Second)
	for deliveries.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries: a message given up without a DLQ was dropped", deliveries.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := streams.Apply(ctx, x.js, 0); err != nil {
		t.Fatal(err)
	}
	d := x.deadLetter(t)
	x.settled(t)
	if d.Deliveries < 3 || !strings.Contains(d.Reason, "cannot be handled") {
		t.Fatalf("dead letter %+v", d)
	}
}

// TestBatchesAreAllOrNothingInOrder: a batch handler takes the messages a
// worker has in hand at once, in stream order; when it fails, the same
// messages go one by one to the handler, so the message that cannot be
// handled is dead-lettered and every other is applied once, still in order.
func TestBatchesAreAllOrNothingInOrder(t *testing.T) {
	x := newHarness(t)
	ctx := context.Background()
	const n = 40
	for i := range n {
		body := fmt.Sprintf("m%02d", i)
		if i == 25 {
			body = "poison"
		}
		if _, err := x.js.Publish(ctx, "f1.session.loaded.2019.14.Q", []byte(body), jetstream.WithMsgID(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var applied []string // what either path applied, in order
	var batches []int    // the size of every batch offered
	x.runWith(t, func(ctx context.Context, msg jetstream.Msg) error {
		if string(msg.Data()) == "poison" {
			return consume.Permanent(errors.New("cannot be handled"))
		}
		mu.Lock()
		defer mu.Unlock()
		applied = append(applied, string(msg.Data()))
		return nil
	}, consume.Options{Batch: func(ctx context.Context, msgs []jetstream.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, len(msgs))
		for _, m := range msgs {
			if string(m.Data()) == "poison" {
				return errors.New("one message of the batch cannot be applied")
			}
		}
		for _, m := range msgs {
			applied = append(applied, string(m.Data()))
		}
		return nil
	}, BatchSize: 16, BatchLinger: 50 * time.Millisecond})
	d := x.deadLetter(t)
	x.settled(t)
	mu.Lock()
	defer mu.Unlock()
	var want []string
	for i := range n {
		if i != 25 {
			want = append(want, fmt.Sprintf("m%02d", i))
		}
	}
	if strings.Join(applied, " ") != strings.Join(want, " ") {
		t.Fatalf("applied %v, want every message but the poison once, in order", applied)
	}
	if string(d.Data) != "poison" || !strings.Contains(d.Reason, "cannot be handled") {
		t.Fatalf("dead letter %q: %q", d.Data, d.Reason)
	}
	most := 0
	for _, b := range batches {
		if b > 16 {
			t.Fatalf("a batch of %d messages: more than BatchSize", b)
		}
		most = max(most, b)
	}
	if most < 2 {
		t.Fatalf("batches %v: 40 messages in hand were never offered together", batches)
	}
	t.Logf("batches offered: %v", batches)
}
