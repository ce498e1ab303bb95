package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/streams"
)

// backingOff is what one consumer is retrying now, over its instances.
type backingOff struct {
	Consumer string    `json:"consumer"`
	Messages int       `json:"messages"`
	Reason   string    `json:"reason"` // the dependency down (postgresql, nats, archive) or error
	Since    time.Time `json:"since"`  // the oldest message's first failure
	Error    string    `json:"error,omitempty"`
}

// readBackingOff reads the consumers' backoff reports (the BACKOFF bucket)
// and sums them per consumer, oldest outage first; none when the bucket
// does not exist.
func readBackingOff(ctx context.Context, js jetstream.JetStream) ([]backingOff, error) {
	kv, err := js.KeyValue(ctx, streams.BackoffBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: read %s: %w", streams.BackoffBucket, err)
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: read %s: %w", streams.BackoffBucket, err)
	}
	by := map[string]*backingOff{}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue // withdrawn meanwhile
		}
		var r streams.Backoff
		if json.Unmarshal(e.Value(), &r) != nil || r.Messages == 0 {
			continue
		}
		b := by[r.Consumer]
		if b == nil {
			b = &backingOff{Consumer: r.Consumer}
			by[r.Consumer] = b
		}
		b.Messages += r.Messages
		if b.Since.IsZero() || r.Since.Before(b.Since) {
			b.Since, b.Reason, b.Error = r.Since, r.Reason, r.Error
		}
	}
	out := make([]backingOff, 0, len(by))
	for _, b := range by {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Consumer < out[j].Consumer
	})
	return out, nil
}

// dependencyNames are the dependencies as people name them.
var dependencyNames = map[string]string{"postgresql": "PostgreSQL", "nats": "NATS", "archive": "the raw archive"}

// printBackingOff writes one line per consumer retrying:
// "backing off: extract-laps 35 messages, PostgreSQL unreachable since 12:03:05 (4m10s)".
func printBackingOff(w io.Writer, list []backingOff, now time.Time) {
	for _, b := range list {
		why := "failing"
		if name, ok := dependencyNames[b.Reason]; ok {
			why = name + " unreachable"
		} else if b.Reason != "" && b.Reason != "error" {
			why = "failing (" + b.Reason + ")"
		}
		fmt.Fprintf(w, "backing off: %s %s, %s since %s (%s)\n", b.Consumer, plural(b.Messages, "message"), why,
			b.Since.Local().Format(time.TimeOnly), now.Sub(b.Since).Round(time.Second))
		if b.Error != "" {
			fmt.Fprintf(w, "  last error: %s\n", strings.TrimSpace(b.Error))
		}
	}
}

// natsHealth is what the services connected to NATS_URL report: what
// they are retrying now and the dead letters held per consumer. It is
// what explains a run that does not move, and it is readable while
// PostgreSQL is down.
type natsHealth struct {
	BackingOff  []backingOff   `json:"backing_off"`
	DeadLetters map[string]int `json:"dead_letters"`
}

// readNATSHealth reads natsHealth; nil without NATS_URL, or when NATS
// cannot be reached within 3 s. A part that cannot be read is logged and
// left empty.
func readNATSHealth(ctx context.Context, cl *cli) *natsHealth {
	if cl.cfg.NATSURL == "" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	nc, err := natsrv.Connect(cl.cfg.NATSURL, "paddock-status", cl.log, cl.cfg.NATSAuth)
	if err != nil {
		return nil
	}
	defer nc.Close()
	if natsrv.WaitConnected(cctx, nc, cl.cfg.NATSURL) != nil {
		return nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil
	}
	h := &natsHealth{BackingOff: []backingOff{}, DeadLetters: map[string]int{}}
	if list, err := readBackingOff(cctx, js); err != nil {
		cl.log.Warn("status: what the services are retrying is unknown", "err", err)
	} else if list != nil {
		h.BackingOff = list
	}
	if held, err := streams.CountDeadLetters(cctx, js); err != nil {
		cl.log.Warn("status: the dead letters held are unknown", "err", err)
	} else if held != nil {
		h.DeadLetters = held
	}
	return h
}

// printNATSHealth writes h before the runs: a line per consumer backing
// off, then the dead letters held; nothing when h is nil.
func printNATSHealth(w io.Writer, h *natsHealth) {
	if h == nil {
		return
	}
	printBackingOff(w, h.BackingOff, time.Now())
	printDeadLetterCount(w, h.DeadLetters)
}

// printDeadLetterCount writes how many dead letters wait, when any do:
// "dead letters: 3 (paddock dlq ls)".
func printDeadLetterCount(w io.Writer, held map[string]int) {
	n := 0
	for _, c := range held {
		n += c
	}
	if n > 0 {
		fmt.Fprintf(w, "dead letters: %d (paddock dlq ls)\n", n)
	}
}
