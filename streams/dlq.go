package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DLQ is the dead-letter stream (declared in dlq.json): a message a
// consumer gives up on is copied there, subject DeadLetterSubject(consumer),
// before the original is terminated.
const DLQ = "DLQ"

// DeadLetterSubject is the DLQ subject of what consumer gave up.
func DeadLetterSubject(consumer string) string { return "f1.dlq." + consumer }

// DeadLetterConsumer is run accounting's durable consumer on DLQ: it
// fails the (session, kind) items of the runs a dead letter belongs to.
const DeadLetterConsumer = "runs-dlq"

// Headers of a dead letter. The data and every other header are the
// original message's, so a replay publishes them to OriginalSubject as
// they were (with the original Nats-Msg-Id under HeaderDLQMsgID).
const (
	HeaderDLQStream     = "Paddock-Dlq-Stream"     // the original stream
	HeaderDLQSubject    = "Paddock-Dlq-Subject"    // the original subject
	HeaderDLQSequence   = "Paddock-Dlq-Sequence"   // its sequence in the original stream
	HeaderDLQConsumer   = "Paddock-Dlq-Consumer"   // the durable consumer that gave it up
	HeaderDLQDeliveries = "Paddock-Dlq-Deliveries" // deliveries to that consumer, the last included
	HeaderDLQReason     = "Paddock-Dlq-Reason"     // why it was given up
	HeaderDLQTime       = "Paddock-Dlq-Time"       // when, RFC 3339 UTC
	HeaderDLQMsgID      = "Paddock-Dlq-Msg-Id"     // the original Nats-Msg-Id, if any
)

// DeadLetter is one message given up, as the DLQ stream holds it.
type DeadLetter struct {
	Stream     string
	Subject    string
	Sequence   uint64
	Consumer   string
	Deliveries uint64
	Reason     string
	Time       time.Time
	Data       []byte
	Header     nats.Header // the original's headers (Nats-Msg-Id restored)
}

// Msg is d as it is published to the DLQ stream; its Nats-Msg-Id makes a
// repeated dead-lettering of the same delivery a no-op.
func (d *DeadLetter) Msg() *nats.Msg {
	h := nats.Header{}
	for k, v := range d.Header {
		if k == jetstream.MsgIDHeader {
			h[HeaderDLQMsgID] = v
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	h.Set(HeaderDLQStream, d.Stream)
	h.Set(HeaderDLQSubject, d.Subject)
	h.Set(HeaderDLQSequence, strconv.FormatUint(d.Sequence, 10))
	h.Set(HeaderDLQConsumer, d.Consumer)
	h.Set(HeaderDLQDeliveries, strconv.FormatUint(d.Deliveries, 10))
	h.Set(HeaderDLQReason, d.Reason)
	h.Set(HeaderDLQTime, d.Time.UTC().Format(time.RFC3339Nano))
	h.Set(jetstream.MsgIDHeader, MsgID("dlq", d.Stream, d.Sequence, d.Consumer))
	return &nats.Msg{Subject: DeadLetterSubject(d.Consumer), Header: h, Data: d.Data}
}

// ParseDeadLetter reads a message of the DLQ stream back.
func ParseDeadLetter(h nats.Header, data []byte) (*DeadLetter, error) {
	d := &DeadLetter{Stream: h.Get(HeaderDLQStream), Subject: h.Get(HeaderDLQSubject), Consumer: h.Get(HeaderDLQConsumer),
		Reason: h.Get(HeaderDLQReason), Data: data, Header: nats.Header{}}
	if d.Stream == "" || d.Subject == "" || d.Consumer == "" {
		return nil, fmt.Errorf("streams: not a dead letter: %s, %s and %s headers are required", HeaderDLQStream, HeaderDLQSubject, HeaderDLQConsumer)
	}
	d.Sequence, _ = strconv.ParseUint(h.Get(HeaderDLQSequence), 10, 64)
	d.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDLQDeliveries), 10, 64)
	d.Time, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderDLQTime))
	for k, v := range h {
		switch k {
		case HeaderDLQStream, HeaderDLQSubject, HeaderDLQSequence, HeaderDLQConsumer, HeaderDLQDeliveries,
			HeaderDLQReason, HeaderDLQTime, jetstream.MsgIDHeader:
		case HeaderDLQMsgID:
			d.Header[jetstream.MsgIDHeader] = v
		default:
			d.Header[k] = v
		}
	}
	return d, nil
}

// Affected names the run, session and kinds whose outcomes d holds back:
// an extractor's manifest (its kind), the loader's gap (every kind of it),
// or run accounting's extraction outcome (its kind). runID is "" for a
// dead letter outside any run's items (a schedule, a run event, a plan
// command: its run is in the PlanCommand).
func (d *DeadLetter) Affected() (runID string, key SessionKey, kinds []string) {
	switch {
	case strings.HasPrefix(d.Consumer, ExtractorConsumer("")):
		var m Manifest
		if Decode(d.Data, &m) != nil || m.Schedule {
			return "", key, nil
		}
		return m.RunID, m.SessionKey, []string{strings.TrimPrefix(d.Consumer, ExtractorConsumer(""))}
	case d.Consumer == LoaderConsumer:
		var g Gap
		if Decode(d.Data, &g) != nil || g.Schedule {
			return "", key, nil
		}
		return g.RunID, g.SessionKey, g.Kinds
	case d.Consumer == RunsConsumer && strings.HasPrefix(d.Subject, "f1.extracted.") && !strings.HasPrefix(d.Subject, "f1.extracted.schedule."):
		var e Extraction
		if Decode(d.Data, &e) != nil {
			return "", key, nil
		}
		return e.RunID, e.SessionKey, []string{e.Kind}
	}
	return "", key, nil
}

// CountDeadLetters returns how many dead letters DLQ holds per consumer;
// none when the stream does not exist yet.
func CountDeadLetters(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	s, err := js.Stream(ctx, DLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streams: count dead letters: %w", err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(DeadLetterSubject(">")))
	if err != nil {
		return nil, fmt.Errorf("streams: count dead letters: %w", err)
	}
	out := map[string]int{}
	for subj, n := range info.State.Subjects {
		out[strings.TrimPrefix(subj, DeadLetterSubject(""))] += int(n)
	}
	return out, nil
}

// BackoffBucket is the key-value bucket where each consumer instance
// reports the messages it is backing off on (key "<consumer>.<instance>",
// value Backoff); an entry lives BackoffTTL unless refreshed, so a dead
// instance's report goes away by itself.
const (
	BackoffBucket = "BACKOFF"
	BackoffTTL    = 2 * time.Minute
)

// Backoff is a consumer instance's report of what it is retrying.
type Backoff struct {
	Consumer string    `json:"consumer"`
	Messages int       `json:"messages"`           // messages backing off
	Reason   string    `json:"reason"`             // the dependency down ("postgresql") or "error"
	Error    string    `json:"error,omitempty"`    // the last failure
	Since    time.Time `json:"since"`              // the oldest message's first failure
	Updated  time.Time `json:"updated"`            // when this report was written
	Instance string    `json:"instance,omitempty"` // the process reporting
}

// applyDeadLetters creates the backoff bucket (the DLQ stream is one of
// the declaration files).
func applyDeadLetters(ctx context.Context, js jetstream.JetStream, replicas int) error {
	cfg := jetstream.KeyValueConfig{Bucket: BackoffBucket, TTL: BackoffTTL, Storage: jetstream.MemoryStorage,
		Description: "Messages each consumer instance is backing off on, and why ('paddock status')."}
	if replicas > 0 {
		cfg.Replicas = replicas
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
		return fmt.Errorf("streams: apply key-value bucket %s: %w", BackoffBucket, err)
	}
	return nil
}
