// Package consume maps a pure handler's result to JetStream delivery
// semantics, in one place: nil acks; a *PermanentError, a panic that
// repeats, or a message whose retry budget is spent is dead-lettered (a
// copy with the reason lands in the DLQ stream) and then terminated; a
// *RetryError naks with its delay; a *DownError (a dependency is
// unreachable) and any other error nak with a growing, capped delay
// (Policy). Transient failures are never dropped by delivery counts:
// paddock's consumers have no MaxDeliver, the handler's Policy alone
// decides when to give up. Long handlers keep their message alive with
// InProgress heartbeats.
package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Handler processes one message. It must be idempotent: delivery is at
// least once.
type Handler func(ctx context.Context, msg jetstream.Msg) error

// BatchHandler applies consecutive messages of one worker at once, all or
// none: nil acknowledges every one; an error hands them, in order, to the
// Handler one at a time, which settles each as a single delivery would
// (so a batch is only ever a faster way to the same outcome). It must be
// idempotent, as Handler.
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) error

// RetryError asks for redelivery after After (the handler knows when,
// e.g. an upstream's Retry-After).
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return fmt.Sprintf("retry in %s: %v", e.After, e.Err) }
func (e *RetryError) Unwrap() error { return e.Err }

// Retry wraps err so the message is redelivered after d.
func Retry(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }

// DownError says a dependency the handler needs is unreachable: the
// message is retried with the Policy's growing delay, and Dependency
// names the outage in logs, metrics and 'paddock status'.
type DownError struct {
	Dependency string // "postgresql", "nats", "archive", ...
	Err        error
}

func (e *DownError) Error() string { return fmt.Sprintf("%s unreachable: %v", e.Dependency, e.Err) }
func (e *DownError) Unwrap() error { return e.Err }

// Down wraps err, a failure to reach dependency, so the message backs off
// until the dependency is back (within the retry budget).
func Down(dependency string, err error) error { return &DownError{Dependency: dependency, Err: err} }

// PermanentError means the message can never be processed; it is
// dead-lettered with the reason and terminated.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the message is dead-lettered and terminated.
func Permanent(err error) error { return &PermanentError{Err: err} }

// Options tune Run.
type Options struct {
	// Concurrency is the number of messages handled at once; 1 by default.
	Concurrency int
	// Heartbeat is the InProgress interval; 0 = none.
	Heartbeat time.Duration
	// Name is the durable consumer's name, as dead letters, metrics and
	// logs name it.
	Name string
	// DeadLetters publishes given-up messages to the DLQ stream; nil
	// terminates them with a log line only.
	DeadLetters jetstream.JetStream
	// Policy is how failures are retried and when they are given up.
	Policy Policy
	// Batch, when set, takes every message a worker has in hand (up to
	// BatchSize, and what arrives within BatchLinger of the first) at
	// once; see BatchHandler.
	Batch BatchHandler
	// BatchSize bounds a batch; 64 by default. It is also how many
	// messages a worker pulls ahead.
	BatchSize int
	// BatchLinger is how long a worker waits for more messages once it
	// has one; 1 ms by default.
	BatchLinger time.Duration
}

// Run consumes c with h until ctx ends, then drains: messages in hand are
// finished, nothing new is taken. It returns when every worker stopped.
func Run(ctx context.Context, c jetstream.Consumer, h Handler, log *slog.Logger, o Options) error {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	s := &settler{name: o.Name, js: o.DeadLetters, policy: o.Policy.withDefaults(), log: log, heartbeat: o.Heartbeat,
		backoff: newBackoffs(o.Name, o.DeadLetters, log)}
	if s.name == "" {
		if info := c.CachedInfo(); info != nil {
			s.name = info.Name
			s.backoff.consumer = info.Name
		}
	}
	pull := 1
	if o.Batch != nil {
		if o.BatchSize < 1 {
			o.BatchSize = 64
		}
		if o.BatchLinger <= 0 {
			o.BatchLinger = time.Millisecond
		}
		pull = o.BatchSize
	}
	var wg sync.WaitGroup
	for i := 0; i < o.Concurrency; i++ {
		iter, err := c.Messages(jetstream.PullMaxMessages(pull))
		if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-ctx.Done()
			iter.Drain()
		}()
		go func() {
			defer wg.Done()
			for {
				msg, err := iter.Next()
				if err != nil {
					if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
						return
					}
					if ctx.Err() != nil {
						return
					}
					// Heartbeat gaps and reconnects surface here; the iterator
					// recovers by itself. Do not spin while it does.
					log.Warn("consume: next message", "err", err)
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
					continue
				}
				if o.Batch == nil {
					s.handle(ctx, msg, h)
					continue
				}
				s.handleBatch(ctx, gather(iter, msg, o.BatchSize, o.BatchLinger), o.Batch, h)
			}
		}()
	}
	wg.Wait()
	s.backoff.clear(context.WithoutCancel(ctx))
	return nil
}

// settler settles the messages of one consumer.
type settler struct {
	name      string
	js        jetstream.JetStream
	policy    Policy
	log       *slog.Logger
	heartbeat time.Duration
	backoff   *backoffs
}

// gather returns first and the messages that follow it in iter, up to max,
// waiting at most linger for each.
func gather(iter jetstream.MessagesContext, first jetstream.Msg, max int, linger time.Duration) []jetstream.Msg {
	msgs := []jetstream.Msg{first}
	for len(msgs) < max {
		msg, err := iter.Next(jetstream.NextMaxWait(linger))
		if err != nil {
			break // nothing more now (or the iterator closed: the caller sees it next)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// handleBatch runs b on msgs and acknowledges them all, or, when b fails,
// runs h on each in order and settles each on its own.
func (s *settler) handleBatch(ctx context.Context, msgs []jetstream.Msg, b BatchHandler, h Handler) {
	if len(msgs) == 1 {
		s.handle(ctx, msgs[0], h)
		return
	}
	hctx, cancel := s.inHand(ctx, msgs...)
	defer cancel()
	if err := safeBatch(hctx, msgs, b); err != nil {
		s.log.Debug("batch failed, settling its messages one by one", "consumer", s.name, "messages", len(msgs), "err", err)
		cancel()
		for _, m := range msgs {
			s.handle(ctx, m, h)
		}
		return
	}
	for _, m := range msgs {
		if aerr := m.DoubleAck(hctx); aerr != nil {
			s.log.Warn("consume: ack", "subject", m.Subject(), "err", aerr)
		}
		if md, err := m.Metadata(); err == nil {
			s.backoff.done(hctx, md.Sequence.Stream)
		}
	}
}

// inHand returns the context work on msgs runs in, and its cancel: it
// outlives shutdown so that work in hand finishes (drain waits for it),
// and until cancelled it keeps msgs alive with InProgress heartbeats.
func (s *settler) inHand(ctx context.Context, msgs ...jetstream.Msg) (context.Context, context.CancelFunc) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if s.heartbeat > 0 {
		go func() {
			t := time.NewTicker(s.heartbeat)
			defer t.Stop()
			for {
				select {
				case <-hctx.Done():
					return
				case <-t.C:
					for _, m := range msgs {
						_ = m.InProgress()
					}
				}
			}
		}()
	}
	return hctx, cancel
}

// handle runs h on msg and settles the message.
func (s *settler) handle(ctx context.Context, msg jetstream.Msg, h Handler) {
	hctx, cancel := s.inHand(ctx, msg)
	defer cancel()
	err := safe(hctx, msg, h)
	md, merr := msg.Metadata()
	var seq, delivery uint64 = 0, 1
	if merr == nil {
		seq, delivery = md.Sequence.Stream, md.NumDelivered
	}
	if err == nil {
		if aerr := msg.DoubleAck(hctx); aerr != nil {
			s.log.Warn("consume: ack", "subject", msg.Subject(), "err", aerr)
		}
		s.backoff.done(hctx, seq)
		return
	}
	d := s.decide(err, delivery, s.backoff.since(seq))
	if d.giveUp != "" {
		s.deadLetter(hctx, msg, md, seq, delivery, d, err)
		return
	}
	s.backoff.failed(hctx, seq, d.reason, err)
	countRetry(s.name, d.reason)
	if delivery&(delivery-1) == 0 {
		// The first failure, then every power of two: a long outage logs
		// a few lines per message, and the consumer's summary each minute
		// (backoffs).
		s.log.Warn("message failed, will retry", "consumer", s.name, "subject", msg.Subject(), "delivery", delivery,
			"after", d.after, "reason", d.reason, "err", err)
	} else {
		s.log.Debug("message failed, will retry", "consumer", s.name, "subject", msg.Subject(), "delivery", delivery,
			"after", d.after, "reason", d.reason, "err", err)
	}
	_ = msg.NakWithDelay(d.after)
}

// deadLetter publishes msg to the DLQ stream with why it was given up,
// then terminates it. When the DLQ cannot take it, the message is handed
// back instead: nothing is dropped.
func (s *settler) deadLetter(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, seq, delivery uint64, d decision, err error) {
	reason := d.giveUp + ": " + err.Error()
	if s.js != nil {
		if perr := publishDeadLetter(ctx, s.js, s.name, msg, md, delivery, reason); perr != nil {
			after := s.policy.delay(delivery)
			s.log.Error("message given up but not dead-lettered: the DLQ stream cannot take it, retrying",
				"consumer", s.name, "subject", msg.Subject(), "after", after, "reason", reason, "err", perr)
			s.backoff.failed(ctx, seq, "nats", perr)
			countRetry(s.name, "nats")
			_ = msg.NakWithDelay(after)
			return
		}
	}
	s.backoff.done(ctx, seq)
	countDeadLetter(s.name, d.class)
	s.log.Error("message dead-lettered", "consumer", s.name, "subject", msg.Subject(), "delivery", delivery,
		"why", d.class, "err", truncate(err.Error(), 2000), "dlq", s.js != nil)
	_ = msg.TermWithReason(truncate(reason, 200))
}

func safe(ctx context.Context, msg jetstream.Msg, h Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	return h(ctx, msg)
}

func safeBatch(ctx context.Context, msgs []jetstream.Msg, b BatchHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	return b(ctx, msgs)
}

// panicError is a handler's recovered panic.
type panicError struct{ err error }

func (e *panicError) Error() string { return e.err.Error() }
func (e *panicError) Unwrap() error { return e.err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
