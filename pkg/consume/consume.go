// Package consume maps a pure handler's result to JetStream delivery
// semantics, in one place: nil acks, a *RetryError naks with its delay, a
// *PermanentError terminates with its reason, any other error naks with a
// growing delay. Long handlers keep their message alive with InProgress
// heartbeats; panics are recovered and logged once.
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

// RetryError asks for redelivery after After.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return fmt.Sprintf("retry in %s: %v", e.After, e.Err) }
func (e *RetryError) Unwrap() error { return e.Err }

// Retry wraps err so the message is redelivered after d.
func Retry(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }

// PermanentError means the message can never be processed; it is
// terminated (and lands in the advisory stream with the reason).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the message is terminated.
func Permanent(err error) error { return &PermanentError{Err: err} }

// Options tune Run.
type Options struct {
	// Concurrency is the number of messages handled at once; 1 by default.
	Concurrency int
	// Heartbeat is the InProgress interval; 0 = none.
	Heartbeat time.Duration
}

// Run consumes c with h until ctx ends, then drains: messages in hand are
// finished, nothing new is taken. It returns when every worker stopped.
func Run(ctx context.Context, c jetstream.Consumer, h Handler, log *slog.Logger, o Options) error {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < o.Concurrency; i++ {
		iter, err := c.Messages(jetstream.PullMaxMessages(1))
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
				handle(ctx, msg, h, log, o.Heartbeat)
			}
		}()
	}
	wg.Wait()
	return nil
}

// handle runs h on msg and settles the message.
func handle(ctx context.Context, msg jetstream.Msg, h Handler, log *slog.Logger, heartbeat time.Duration) {
	// The handler gets a context that outlives shutdown so that work in
	// hand finishes; drain waits for it.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if heartbeat > 0 {
		go func() {
			t := time.NewTicker(heartbeat)
			defer t.Stop()
			for {
				select {
				case <-hctx.Done():
					return
				case <-t.C:
					_ = msg.InProgress()
				}
			}
		}()
	}
	err := safe(hctx, msg, h)
	var retry *RetryError
	var perm *PermanentError
	switch {
	case err == nil:
		if aerr := msg.DoubleAck(hctx); aerr != nil {
			log.Warn("consume: ack", "subject", msg.Subject(), "err", aerr)
		}
	case errors.As(err, &perm):
		log.Error("message terminated", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason(truncate(err.Error(), 200))
	case errors.As(err, &retry):
		log.Info("message retried", "subject", msg.Subject(), "after", retry.After, "err", retry.Err)
		_ = msg.NakWithDelay(retry.After)
	default:
		n := uint64(1)
		if md, merr := msg.Metadata(); merr == nil {
			n = md.NumDelivered
		}
		d := time.Duration(min(n*n, 60)) * time.Second
		log.Warn("message failed, will retry", "subject", msg.Subject(), "delivery", n, "after", d, "err", err)
		_ = msg.NakWithDelay(d)
	}
}

func safe(ctx context.Context, msg jetstream.Msg, h Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
