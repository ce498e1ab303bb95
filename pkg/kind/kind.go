// Package kind is the contract a data kind plugs into paddock with. A kind
// is one folder under pkg/kinds/: the feeds it reads, its version, a typed
// pure parse, an idempotent store, its schema and its CSV exports. The
// registry (package kinds) lists every kind once; the planner, the gap
// detection, the loader's feed plan, the extractors, the CLI's export and
// the docs all read the registry, never a list of their own.
//
// A kind is written as a [Def] over its row type T, so its parse and store
// are typed; the extractor runs it through the type-erased [Kind].
package kind

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paddock-f1/paddock/pkg/f1"
)

// Session is the session an extraction works on.
type Session struct {
	f1.SessionKey
	// CircuitKey is the event's circuit as loaded (per-event kinds); 0
	// when unknown.
	CircuitKey int
	// Open streams one of the kind's Stream feeds (f1.FeedNeed.Stream),
	// which are not in Feeds: it fails with ErrNoFeed when the session's
	// manifest has no such feed. The reader reports a corrupted body as an
	// error at its end. Nil when the kind has no Stream feed.
	Open func(ctx context.Context, feed string) (io.ReadCloser, error)
}

// ErrNoFeed reports a feed the session's load does not hold.
var ErrNoFeed = errors.New("feed not loaded")

// Feeds holds the bodies of a session's available feeds, keyed by the
// feed's manifest name (f1.FeedNeed.Name). A feed the upstream does not
// publish, or an optional one not fetched, is absent; so is a Stream feed
// (see Session.Open).
type Feeds map[string][]byte

// Spec is everything about a kind but its rows: what the rest of paddock
// reads from the registry.
type Spec struct {
	// Name is the kind's name in commands, ledgers and subjects
	// ("race-control"); its extractor service is "extract-" + Name.
	Name string
	// Version is the extractor version; raising it re-plans every session
	// extracted by an older one.
	Version int
	// About is one line for help and the README's table of kinds.
	About string
	// Feeds are the upstream documents the kind reads: a required one
	// missing upstream makes the kind unavailable for the session; an
	// optional one only enriches it.
	Feeds []f1.FeedNeed
	// PerEvent kinds are loaded once per event (with one of its sessions)
	// and done for the whole event.
	PerEvent bool
	// Schema holds the kind's migrations (goose SQL files at its root),
	// applied after paddock's core schema with their own version table.
	Schema fs.FS
	// Exports are the CSV tables `paddock export` writes for the kind.
	Exports []Export
}

// FeedsFor returns the feeds the kind reads for one session.
func (s *Spec) FeedsFor(year int, session string) []f1.FeedNeed {
	var out []f1.FeedNeed
	for _, n := range s.Feeds {
		if n.When == nil || n.When(year, session) {
			out = append(out, n)
		}
	}
	return out
}

// Querier is what an export reads with: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Export is one CSV table of a kind.
type Export struct {
	// Name is the table's name on the command line ("race-control",
	// "corners").
	Name string
	// PerEvent exports are addressed by year and round only; the others
	// need the session too.
	PerEvent bool
	// Header is the CSV header line FastF1 writes, without the newline.
	Header string
	// FastF1 names FastF1's table the export reproduces, cell for cell
	// ("race_control_messages": Session.race_control_messages); its
	// reference outputs are <FastF1>.csv. Empty for tables FastF1 does
	// not have.
	FastF1 string
	// Driver exports take --driver (one driver, else every driver); Lap
	// exports need --driver and take --lap (a lap number or "fastest").
	Driver, Lap bool
	// Write reads the stored rows q asks for and writes them as FastF1's
	// CSV to w; it returns the number of rows. No stored rows is not an
	// error: n is 0.
	Write func(ctx context.Context, db Querier, q Query, w io.Writer) (n int, err error)
}

// Query is what an export is asked for.
type Query struct {
	// SessionKey is the session; Session is empty for a per-event export.
	f1.SessionKey
	// Driver is a racing number, "" for every driver (Driver exports).
	Driver string
	// Lap is a lap number or "fastest" (Lap exports).
	Lap string
}

// Kind is a kind as the extractor runs it: its spec, and a parse whose
// result stores itself.
type Kind interface {
	Spec() *Spec
	// Parse turns a session's feeds into rows ready to store; an error
	// means the data is bad (the outcome is failed, nothing is retried).
	Parse(s Session, feeds Feeds) (Rows, error)
}

// Rows are a session's parsed rows of one kind.
type Rows interface {
	// Store replaces the session's rows inside tx and returns how many it
	// wrote. It is idempotent; an error is retried, but one marked
	// Invalid fails the kind (the transaction is rolled back: nothing
	// partial stays).
	Store(ctx context.Context, tx pgx.Tx) (int, error)
}

// ErrInvalid marks bad upstream data found while storing: a streaming
// kind decodes its feed as it writes, so its parse errors surface in
// Store. See Invalid.
var ErrInvalid = errors.New("invalid data")

// Invalid marks err as bad data, not a failure of the database: the
// extractor fails the kind with err as its reason instead of retrying.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &invalidError{err}
}

type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() []error {
	return []error{e.err, ErrInvalid}
}

// Def defines a kind whose parsed rows are of type T.
type Def[T any] struct {
	Spec
	// Parse is pure: feeds in, rows out.
	Parse func(s Session, feeds Feeds) (T, error)
	// Store replaces the session's rows inside tx, typically by DELETE
	// and COPY, and returns the number of rows written.
	Store func(ctx context.Context, tx pgx.Tx, s Session, rows T) (int, error)
}

// Kind returns d as the extractor runs it.
func (d *Def[T]) Kind() Kind { return erased[T]{d} }

type erased[T any] struct{ d *Def[T] }

func (e erased[T]) Spec() *Spec { return &e.d.Spec }

func (e erased[T]) Parse(s Session, feeds Feeds) (Rows, error) {
	rows, err := e.d.Parse(s, feeds)
	if err != nil {
		return nil, err
	}
	return parsed[T]{e.d, s, rows}, nil
}

type parsed[T any] struct {
	d    *Def[T]
	s    Session
	rows T
}

func (p parsed[T]) Store(ctx context.Context, tx pgx.Tx) (int, error) {
	return p.d.Store(ctx, tx, p.s, p.rows)
}

// SchemaOf returns the "schema" folder of a kind's embedded files, where
// its migrations are (`//go:embed schema/*.sql`).
func SchemaOf(files fs.FS) fs.FS {
	sub, err := fs.Sub(files, "schema")
	if err != nil {
		panic("kind: schema folder: " + err.Error()) // a path constant: cannot fail
	}
	return sub
}
