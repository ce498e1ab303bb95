// Package streams is paddock's JetStream topology: the streams and the raw
// archive bucket declared in the JSON files beside this file, the durable
// consumers, the subjects (always built with the functions here, never by
// concatenation at call sites) and the message types that travel on them.
//
// Apply is idempotent: it creates what is missing and updates what differs,
// so every process calls it at start.
package streams

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

//go:embed *.json
var files embed.FS

// Stream names.
const (
	Plans  = "PLANS"
	Gaps   = "GAPS"
	Loaded = "LOADED"
	Events = "EVENTS"
)

// RawBucket is the object store bucket holding every upstream response.
const RawBucket = "RAW"

// PlanService is the NATS micro service name of the planner, and
// PlanSubject the request/reply subject of its plan endpoint. Requests are
// core NATS (not captured by a stream); accepted commands are recorded in
// PLANS under PlanAccepted.
const (
	PlanService = "planner"
	PlanSubject = "paddock.plan"
)

// Durable consumer names.
const (
	LoaderConsumer   = "loader"
	ScheduleConsumer = "schedule"
	RunsConsumer     = "runs"
	NotifierConsumer = "notifier"
	PlannerConsumer  = "planner"
)

// PlannerAckWait is how soon an accepted command a dead planner held is
// handed to another planner; a live planner keeps it with heartbeats
// (PlannerHeartbeat) for as long as planning takes.
const (
	PlannerAckWait   = 15 * time.Second
	PlannerHeartbeat = 4 * time.Second
)

// ExtractorConsumer is the durable consumer name of the extractor of kind.
func ExtractorConsumer(kind string) string { return "extract-" + kind }

// Topology is the parsed content of the declaration files.
type Topology struct {
	Streams []jetstream.StreamConfig
	Raw     jetstream.ObjectStoreConfig
}

// Load parses the embedded declaration files.
func Load() (*Topology, error) {
	t := &Topology{}
	for _, name := range []string{"plans.json", "gaps.json", "loaded.json", "events.json", "dlq.json"} {
		var cfg jetstream.StreamConfig
		if err := decode(name, &cfg); err != nil {
			return nil, err
		}
		t.Streams = append(t.Streams, cfg)
	}
	if err := decode("raw.json", &t.Raw); err != nil {
		return nil, err
	}
	return t, nil
}

func decode(name string, v any) error {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return fmt.Errorf("streams: read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("streams: parse %s: %w", name, err)
	}
	return nil
}

// Apply creates or updates every stream and the raw bucket. replicas > 1
// is used on a cluster; 0 keeps the declared value (1).
func Apply(ctx context.Context, js jetstream.JetStream, replicas int) error {
	t, err := Load()
	if err != nil {
		return err
	}
	for _, cfg := range t.Streams {
		if replicas > 0 {
			cfg.Replicas = replicas
		}
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("streams: apply stream %s: %w", cfg.Name, err)
		}
	}
	raw := t.Raw
	if replicas > 0 {
		raw.Replicas = replicas
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, raw); err != nil {
		return fmt.Errorf("streams: apply object store %s: %w", raw.Bucket, err)
	}
	return applyDeadLetters(ctx, js, replicas)
}

// LoaderInFlight is how many gaps the loader holds at once. Its requests
// go through one rate governor whatever the number, so this overlaps the
// waits of several loads without asking the upstream any faster.
const LoaderInFlight = 4

// ConsumerConfig returns the durable consumer configuration of name on
// its stream. The loader takes LoaderInFlight gaps at once; extractors may run many
// instances bound to the same durable. No consumer has a MaxDeliver: the
// server never drops a message; the handler's retry policy (package
// consume) decides when one is given up, and dead-letters it.
func ConsumerConfig(name string) (stream string, cfg jetstream.ConsumerConfig) {
	cfg = jetstream.ConsumerConfig{
		Durable:    name,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    time.Minute,
		MaxDeliver: -1,
	}
	switch name {
	case LoaderConsumer:
		cfg.MaxAckPending = LoaderInFlight
		cfg.AckWait = time.Minute // heartbeats keep a long load alive; a dead loader's gap returns in a minute
		return Gaps, cfg
	case ScheduleConsumer:
		cfg.FilterSubject = "f1.schedule.loaded.>"
		cfg.MaxAckPending = 4
		return Loaded, cfg
	case RunsConsumer:
		cfg.MaxAckPending = 64
		return Events, cfg
	case PlannerConsumer:
		// Every command accepted from now on (a new deployment does not
		// re-plan the audit log), several at once: a plan may wait long for
		// a schedule behind the quota.
		cfg.FilterSubject = "f1.plan.accepted.>"
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
		cfg.AckWait = PlannerAckWait
		cfg.MaxAckPending = 16
		return Plans, cfg
	case NotifierConsumer:
		cfg.FilterSubject = "f1.run.>"
		cfg.MaxAckPending = 1 // one message at a time: Slack takes about one a second
		return Events, cfg
	case DeadLetterConsumer:
		cfg.MaxAckPending = 16
		return DLQ, cfg
	default: // extractors
		cfg.FilterSubject = "f1.session.loaded.>"
		cfg.MaxAckPending = 64
		return Loaded, cfg
	}
}

// Consumer creates or updates the durable consumer name and returns it.
func Consumer(ctx context.Context, js jetstream.JetStream, name string) (jetstream.Consumer, error) {
	stream, cfg := ConsumerConfig(name)
	c, err := js.CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("streams: consumer %s on %s: %w", name, stream, err)
	}
	return c, nil
}

// QuotaPauses is the key-value bucket holding, per upstream host, the
// instant until which the host asked us to wait (a 429/503 Retry-After).
const QuotaPauses = "QUOTA_PAUSES"

// QuotaStream is the ledger stream of an upstream host and QuotaSubject
// its subject; slug is the host with dots replaced (see QuotaSlug).
func QuotaStream(slug string) string  { return "QUOTA_" + slug }
func QuotaSubject(slug string) string { return "f1.quota." + slug }

// QuotaSlug makes a host name usable in stream names and subjects.
func QuotaSlug(host string) string {
	out := []byte(host)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			out[i] = '_'
		}
	}
	return string(out)
}

// QuotaLedger returns the ledger stream configuration of host: perWindow
// calls at most within window, minInterval apart. The ledger is where the
// limits live: MaxMsgs is the calls per window, MaxAge the window, and the
// minimum interval is written into the Description (a field every
// nats-server since 2.2 keeps), where LedgerLimits reads it back.
func QuotaLedger(host string, perWindow int, window, minInterval time.Duration) (jetstream.StreamConfig, error) {
	var cfg jetstream.StreamConfig
	if err := decode("quota.json", &cfg); err != nil {
		return cfg, err
	}
	slug := QuotaSlug(host)
	cfg.Name = QuotaStream(slug)
	cfg.Subjects = []string{QuotaSubject(slug)}
	cfg.MaxMsgs = int64(perWindow)
	cfg.MaxAge = window
	if cfg.Duplicates > window {
		cfg.Duplicates = window
	}
	cfg.Description += "\n" + minIntervalKey + minInterval.String()
	return cfg, nil
}

// minIntervalKey introduces the minimum interval in a ledger's Description.
const minIntervalKey = "min_interval="

// LedgerLimits reads the limits a ledger stream holds: calls per window
// (MaxMsgs), the window (MaxAge) and the minimum interval between calls
// from its Description; hasInterval is false for a ledger whose
// Description records none (created before the interval was kept there).
func LedgerLimits(cfg jetstream.StreamConfig) (perWindow int, window, minInterval time.Duration, hasInterval bool) {
	perWindow, window = int(cfg.MaxMsgs), cfg.MaxAge
	if i := strings.LastIndex(cfg.Description, minIntervalKey); i >= 0 {
		v, _, _ := strings.Cut(cfg.Description[i+len(minIntervalKey):], "\n")
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d >= 0 {
			return perWindow, window, d, true
		}
	}
	return perWindow, window, 0, false
}

// ErrStreamMissing reports that the topology has not been applied.
var ErrStreamMissing = errors.New("streams: topology not applied; run the planner (or paddock migrate) first")
