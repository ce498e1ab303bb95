// Package extractor runs one data kind's extraction over loaded-session
// manifests: it decides the kind's outcome from the manifest (done,
// failed or unavailable), reads the kind's feeds from the raw archive,
// writes the kind's rows and the ledger in one transaction, and reports
// the outcome on EVENTS. The kinds themselves are package kind's: the
// extractor knows none by name.
package extractor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
	"github.com/paddock-f1/paddock/pkg/ops"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/streams"
)

// Source reads archived feeds; *archive.Archive implements it.
type Source interface {
	// Get reads a body whole.
	Get(ctx context.Context, name, sha256 string) ([]byte, *archive.Entry, error)
	// Open streams a body (Stream feeds), checking it at its end.
	Open(ctx context.Context, name, sha256 string) (io.ReadCloser, error)
}

// Extractor extracts one kind. Run as many instances as needed: they share
// one durable consumer.
type Extractor struct {
	bound atomic.Bool // the durable consumer is bound (readiness)
	kind  kind.Kind
	spec  *kind.Spec
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	src   Source
	log   *slog.Logger
	retry consume.Policy
}

// New returns an extractor of kind.
func New(k kind.Kind, pool *pgxpool.Pool, js jetstream.JetStream, src Source, log *slog.Logger) *Extractor {
	return &Extractor{kind: k, spec: k.Spec(), pool: pool, js: js, src: src, log: log.With("kind", k.Spec().Name)}
}

// Run consumes LOADED until ctx ends with concurrency workers.
func (x *Extractor) Run(ctx context.Context, concurrency int) error {
	c, err := streams.Consumer(ctx, x.js, streams.ExtractorConsumer(x.spec.Name))
	if err != nil {
		return err
	}
	x.bound.Store(true)
	defer x.bound.Store(false)
	return consume.Run(ctx, c, x.Handle, x.log, consume.Options{Concurrency: concurrency, Heartbeat: 20 * time.Second,
		Name: streams.ExtractorConsumer(x.spec.Name), DeadLetters: x.js, Policy: x.retry})
}

// SetRetry sets how long and how often a manifest is retried through an
// outage of PostgreSQL, the archive or NATS before it is dead-lettered;
// consume.DefaultPolicy() when never set. Call it before Run.
func (x *Extractor) SetRetry(p consume.Policy) { x.retry = p }

// Ready is the extractor's readiness: its consumer is bound.
func (x *Extractor) Ready() ops.Check { return ops.Bound("extract-"+x.spec.Name, &x.bound) }

// Handle extracts the kind from one manifest, if the manifest asks for it.
func (x *Extractor) Handle(ctx context.Context, msg jetstream.Msg) error {
	var m streams.Manifest
	if err := streams.Decode(msg.Data(), &m); err != nil {
		return consume.Permanent(err)
	}
	if m.Schedule || !m.Wants(x.spec.Name) {
		return nil
	}
	start := time.Now()
	out := x.Extract(ctx, &m)
	if out.err != nil {
		return out.err
	}
	if err := x.report(ctx, &m, out.Extraction); err != nil {
		return err
	}
	metrics.ExtractionSeconds.WithLabelValues(x.spec.Name).Observe(time.Since(start).Seconds())
	metrics.Extractions.WithLabelValues(x.spec.Name, out.Status).Inc()
	metrics.RowsWritten.WithLabelValues(x.spec.Name).Add(float64(out.Rows))
	return nil
}

type outcome struct {
	streams.Extraction
	refetch []string // feeds the next plan asks the upstream for anew
	err     error    // transient: retry the message
}

// Extract decides and records the outcome of the kind for manifest m.
func (x *Extractor) Extract(ctx context.Context, m *streams.Manifest) *outcome {
	s := kind.Session{SessionKey: m.SessionKey, CircuitKey: m.CircuitKey}
	o := &outcome{Extraction: streams.Extraction{
		V: streams.SchemaVersion, RunID: m.RunID, Kind: x.spec.Name, SessionKey: m.SessionKey, Digest: m.Digest(),
	}}
	if reason, status := x.availability(m); status != "" {
		o.Status, o.Reason = status, reason
		if err := x.ledger(ctx, x.pool, s, o); err != nil {
			o.err = consume.Down("postgresql", err)
		}
		return o
	}
	var prev struct {
		digest, status, reason, runID string
		version, rows, skipped        int
		refetch                       []string
	}
	err := x.pool.QueryRow(ctx, `SELECT input_digest, status, extractor_version, rows, error, run_id, skipped_lines, refetch_feeds FROM extractions
		WHERE year=$1 AND round=$2 AND session=$3 AND kind=$4`, s.Year, s.Round, s.Session, x.spec.Name).
		Scan(&prev.digest, &prev.status, &prev.version, &prev.rows, &prev.reason, &prev.runID, &prev.skipped, &prev.refetch)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		o.err = consume.Down("postgresql", fmt.Errorf("extractor: ledger: %w", err))
		return o
	}
	if !m.Force && err == nil && prev.digest == o.Digest && prev.status == streams.StatusDone && prev.version == x.spec.Version && len(prev.refetch) == 0 {
		// Already extracted from this very input.
		o.Status, o.Rows, o.SkippedLines = streams.StatusDone, prev.rows, prev.skipped
		if prev.skipped > 0 {
			o.Reason = prev.reason
		}
		return o
	}
	// A feed the previous outcome asked to refetch was asked anew for this
	// manifest (gap detection plans it so), unless this is that run again.
	askedAnew := map[string]bool{}
	if prev.runID != m.RunID {
		for _, f := range prev.refetch {
			askedAnew[f] = true
		}
	}
	feeds := kind.Feeds{}
	blank := map[string]*livetiming.BlankCounter{} // per jsonStream feed: the lines the kind skips
	streamed := map[string]streams.Feed{}
	for _, need := range x.spec.FeedsFor(m.Year, m.Session) {
		f := m.Feed(need.Name())
		if f == nil || f.Status != streams.FeedOK {
			continue
		}
		if need.Stream {
			streamed[need.Name()] = *f
			continue
		}
		body, _, err := x.src.Get(ctx, f.Object, f.SHA256)
		if err != nil {
			o.err = consume.Down("archive", err)
			return o
		}
		feeds[need.Name()] = body
		if isJSONStream(need.Name()) {
			c := &livetiming.BlankCounter{}
			_, _ = c.Write(body)
			blank[need.Name()] = c
		}
	}
	if len(streamed) > 0 {
		s.Open = func(ctx context.Context, name string) (io.ReadCloser, error) {
			f, ok := streamed[name]
			if !ok {
				return nil, fmt.Errorf("%s of %s: %w", name, s.SessionKey, kind.ErrNoFeed)
			}
			r, err := x.src.Open(ctx, f.Object, f.SHA256)
			if err != nil {
				return nil, err
			}
			c := &livetiming.BlankCounter{}
			blank[name] = c
			return teeCloser{io.TeeReader(r, c), r}, nil
		}
	}
	parsed, err := x.kind.Parse(s, feeds)
	if err != nil {
		return x.invalid(ctx, s, o, m, err)
	}
	err = pgx.BeginFunc(ctx, x.pool, func(tx pgx.Tx) error {
		n, err := parsed.Store(ctx, tx)
		if err != nil {
			return err
		}
		o.Status, o.Rows = streams.StatusDone, n
		o.SkippedLines, o.Reason, o.refetch = skipped(blank, askedAnew)
		return x.ledger(ctx, tx, s, o)
	})
	if errors.Is(err, kind.ErrInvalid) {
		// Found while streaming into the (rolled back) transaction.
		return x.invalid(ctx, s, o, m, err)
	}
	if err != nil {
		o.err = storeError(fmt.Errorf("extractor: store %s of %s: %w", x.spec.Name, s.SessionKey, err))
	}
	return o
}

// storeError says how a failed write of a kind's rows is retried.
// PostgreSQL refusing the rows themselves fails the same way on every
// delivery: a data exception (SQLSTATE class 22), a violated NOT NULL,
// foreign key or check constraint (23502, 23503, 23514), an exception a
// trigger raised (class P0). The manifest is then dead-lettered at once
// with the server's reason, for 'paddock dlq replay' once the cause is
// fixed. Anything else — a lost connection, a deadlock, a server shutting
// down, a unique key two deliveries raced for — is an outage, waited out.
func storeError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "22"), strings.HasPrefix(pg.Code, "P0"),
			pg.Code == "23502", pg.Code == "23503", pg.Code == "23514":
			return consume.Permanent(fmt.Errorf("%w: PostgreSQL refuses the rows themselves, retrying cannot help", err))
		}
	}
	return consume.Down("postgresql", err)
}

// invalid records that the kind's data is bad: the outcome is failed with
// err as its reason, and nothing is retried. The feed err names (a
// *livetiming.FormatError's), else every feed the kind read, is to be asked
// anew by the next plan.
func (x *Extractor) invalid(ctx context.Context, s kind.Session, o *outcome, m *streams.Manifest, err error) *outcome {
	o.Status, o.Rows, o.SkippedLines = streams.StatusFailed, 0, 0
	o.refetch = nil
	var fe *livetiming.FormatError
	if errors.As(err, &fe) && fe.Feed != "" && m.Feed(fe.Feed) != nil {
		o.refetch = []string{fe.Feed}
	} else {
		for _, need := range x.spec.FeedsFor(m.Year, m.Session) {
			if f := m.Feed(need.Name()); f != nil && f.Status == streams.FeedOK {
				o.refetch = append(o.refetch, need.Name())
			}
		}
	}
	o.Reason = err.Error() + " (the next import asks the upstream for " + strings.Join(o.refetch, ", ") + " anew)"
	if err := x.ledger(ctx, x.pool, s, o); err != nil {
		o.err = consume.Down("postgresql", err)
	}
	return o
}

// skipped sums the lines a done kind skipped: the count, the reason that
// names them ("WeatherData.jsonStream: blank line 49"),
// and the feeds to ask anew: those that were not just asked anew.
func skipped(blank map[string]*livetiming.BlankCounter, askedAnew map[string]bool) (n int, reason string, refetch []string) {
	names := make([]string, 0, len(blank))
	for name := range blank {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		lines := blank[name].Blank()
		if len(lines) == 0 {
			continue
		}
		n += len(lines)
		if len(lines) == 1 {
			parts = append(parts, fmt.Sprintf("%s: blank line %d", name, lines[0]))
		} else {
			nums := make([]string, 0, 4)
			for i, l := range lines {
				if i == 3 {
					nums = append(nums, "...")
					break
				}
				nums = append(nums, strconv.Itoa(l))
			}
			parts = append(parts, fmt.Sprintf("%s: %d blank lines (%s)", name, len(lines), strings.Join(nums, ", ")))
		}
		if !askedAnew[name] {
			refetch = append(refetch, name)
		}
	}
	return n, strings.Join(parts, "; "), refetch
}

// isJSONStream reports whether a feed is a live-timing jsonStream.
func isJSONStream(name string) bool { return strings.HasSuffix(name, ".jsonStream") }

// teeCloser reads through a tee and closes the underlying reader.
type teeCloser struct {
	io.Reader
	c io.Closer
}

func (t teeCloser) Close() error { return t.c.Close() }

// availability returns the outcome a manifest imposes before any parsing:
// unavailable when the session or a required feed is not there, failed
// when a required feed could not be fetched; "" when the kind can run.
func (x *Extractor) availability(m *streams.Manifest) (reason, status string) {
	if m.Unavailable != "" {
		return m.Unavailable, streams.StatusUnavailable
	}
	for _, need := range x.spec.FeedsFor(m.Year, m.Session) {
		if need.Optional {
			continue
		}
		f := m.Feed(need.Name())
		switch {
		case f == nil:
			return need.Name() + " was not loaded", streams.StatusFailed
		case f.Status == streams.FeedMissing:
			return fmt.Sprintf("%s is not published for this session (%s)", need.Name(), f.Error), streams.StatusUnavailable
		case f.Status == streams.FeedFailed:
			return f.Error, streams.StatusFailed
		case f.Status == streams.FeedSkipped:
			return need.Name() + " was not fetched", streams.StatusUnavailable
		}
	}
	return "", ""
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ledger records the outcome in the extraction ledger.
func (x *Extractor) ledger(ctx context.Context, db execer, s kind.Session, o *outcome) error {
	refetch := o.refetch
	if refetch == nil {
		refetch = []string{}
	}
	_, err := db.Exec(ctx, `INSERT INTO extractions (year, round, session, kind, status, input_digest, extractor_version, rows, error, run_id, skipped_lines, refetch_feeds, extracted_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12, now())
		ON CONFLICT (year, round, session, kind) DO UPDATE SET status=EXCLUDED.status, input_digest=EXCLUDED.input_digest,
			extractor_version=EXCLUDED.extractor_version, rows=EXCLUDED.rows, error=EXCLUDED.error, run_id=EXCLUDED.run_id,
			skipped_lines=EXCLUDED.skipped_lines, refetch_feeds=EXCLUDED.refetch_feeds, extracted_at=now()`,
		s.Year, s.Round, s.Session, x.spec.Name, o.Status, o.Digest, x.spec.Version, o.Rows, o.Reason, o.RunID, o.SkippedLines, refetch)
	if err != nil {
		return fmt.Errorf("extractor: ledger %s %s: %w", s.SessionKey, x.spec.Name, err)
	}
	return nil
}

// report publishes the outcome on EVENTS.
func (x *Extractor) report(ctx context.Context, m *streams.Manifest, e streams.Extraction) error {
	subj := streams.Extracted(x.spec.Name, m.SessionKey)
	_, err := x.js.Publish(ctx, subj, streams.Encode(e), jetstream.WithMsgID(streams.MsgID(e.RunID, subj, e.Digest, e.Status, m.Force)))
	if err != nil {
		return consume.Down("nats", fmt.Errorf("extractor: report %s: %w", subj, err))
	}
	x.log.Info("extracted", "session", m.SessionKey, "status", e.Status, "rows", e.Rows, "reason", e.Reason, "run_id", e.RunID)
	return nil
}
