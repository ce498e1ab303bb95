// Package telemetry is what the two telemetry kinds (car-data and
// position) share: the session's drivers in FastF1's order (from the
// DriverList and Jolpica's results, as Session.drivers), the bounded
// streaming writer that COPYs a feed's samples into a season partition
// in batches inside the extraction's transaction, the per-car stream
// rows, the session clock, and the read-back in FastF1's row order.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds/drivers"
	"github.com/paddock-f1/paddock/pkg/kinds/results"
	"github.com/paddock-f1/paddock/pkg/livetiming"
	"github.com/paddock-f1/paddock/pkg/store"
)

// driverList is the feed naming the session's drivers.
const driverList = "DriverList.jsonStream"

// Feeds are the documents a telemetry kind reads: its stream (required),
// the DriverList and Jolpica's results (optional: who the drivers are,
// their abbreviations and FastF1's order of them).
func Feeds(stream string) []f1.FeedNeed {
	return []f1.FeedNeed{
		{File: stream, Stream: true},
		{File: driverList, Optional: true},
		{Jolpica: f1.JolpicaResults, Optional: true, When: f1.HasJolpicaResults},
	}
}

// Feed is a telemetry stream ready to decode, with the session's drivers.
type Feed struct {
	// Name is the stream's feed name, e.g. "CarData.z.jsonStream".
	Name string
	// Open streams the archived feed; it is decoded while it is stored,
	// never held whole.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Drivers are the session's drivers in FastF1's order
	// (Session.drivers: the results' order), with their abbreviations.
	Drivers []Driver
}

// Driver is one driver of the session.
type Driver struct {
	Number, Abbreviation string
}

// Numbers lists the drivers' racing numbers in order.
func (f *Feed) Numbers() []string {
	out := make([]string, len(f.Drivers))
	for i, d := range f.Drivers {
		out[i] = d.Number
	}
	return out
}

// Prepare checks a telemetry kind's feeds and names the session's drivers:
// FastF1's results table (DriverList merged with Jolpica) gives them in
// order. It fails when the DriverList cannot be read (the stream is then
// not decoded: which cars are drivers is unknown).
func Prepare(s kind.Session, feeds kind.Feeds, stream string) (*Feed, error) {
	if s.Open == nil {
		return nil, fmt.Errorf("%s: no way to read it (kind.Session.Open is nil)", stream)
	}
	f := &Feed{Name: stream, Open: func(ctx context.Context) (io.ReadCloser, error) { return s.Open(ctx, stream) }}
	dl := feeds[driverList]
	if dl == nil {
		return nil, fmt.Errorf("%s is not published for this session: which cars of %s are drivers is unknown", driverList, stream)
	}
	rs, err := results.Build(results.Input{Year: s.Year, Round: max(s.Round, 0), Session: s.Session,
		DriverList: dl, Jolpica: feeds[f1.JolpicaResults]})
	if err != nil {
		return nil, fmt.Errorf("%s: the session's drivers: %w", stream, err)
	}
	abbr := map[string]string{}
	if ds, err := drivers.Parse(dl); err == nil {
		for _, d := range ds {
			abbr[d.Number] = d.Abbreviation
		}
	}
	for _, r := range rs {
		a := abbr[r.DriverNumber]
		if a == "" && r.Abbreviation != nil {
			a = *r.Abbreviation
		}
		f.Drivers = append(f.Drivers, Driver{Number: r.DriverNumber, Abbreviation: a})
	}
	return f, nil
}

// Classify maps a decoding error to the extractor's outcome: a malformed
// feed (a *livetiming.FormatError, with its line number) is invalid data
// and fails the kind; anything else (the database) is retried.
func Classify(err error) error {
	var fe *livetiming.FormatError
	if errors.As(err, &fe) {
		return kind.Invalid(err)
	}
	return err
}

// Tables names a telemetry kind's tables: Samples is partitioned by year
// and holds the samples, Streams one row per car of a session.
type Tables struct {
	Streams, Samples string
	// Columns are Samples' columns after year and stream_id.
	Columns []string
}

// Count is what a decoded feed held for one car.
type Count struct {
	Number       string
	Rows, Filled int
	// ByDate: FastF1 sorts the car's rows by date (an incomplete car).
	ByDate bool
}

// batchRows is how many samples travel to the COPY at once; batches
// bounds how many are in flight, so memory stays a few MB whatever the
// stream's length.
const (
	batchRows = 16384
	batches   = 3
)

// Writer replaces a session's samples of one feed: it clears the old ones,
// then streams the new ones into a single COPY as they are decoded. The
// COPY runs on its own goroutine, so decoding and PostgreSQL's ingestion
// overlap; memory stays bounded by a few batches.
type Writer[T any] struct {
	ctx    context.Context
	tx     pgx.Tx
	s      kind.Session
	t      Tables
	feed   string
	ids    map[string]int32
	driver func(*T) string
	values func(*T, []any) []any

	buf  []T        // the batch being filled
	full chan []T   // batches for the COPY
	free chan []T   // batches the COPY is done with
	done chan error // the COPY's end
	fail error      // set before full is closed: abort the COPY
	rows int64
}

// NewWriter clears the session's stored samples of t, registers a stream
// row per driver of f and starts the COPY. driver names a sample's racing
// number; values appends its Columns' values. Finish or Abort must follow.
func NewWriter[T any](ctx context.Context, tx pgx.Tx, s kind.Session, t Tables, f *Feed,
	driver func(*T) string, values func(*T, []any) []any) (*Writer[T], error) {
	if err := store.EnsureYearPartition(ctx, tx, t.Samples, s.Year); err != nil {
		return nil, err
	}
	k := s.SessionKey
	if _, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE year = $1 AND stream_id IN
		(SELECT stream_id FROM %s WHERE year = $1 AND round = $2 AND session = $3)`, t.Samples, t.Streams), k.Year, k.Round, k.Session); err != nil {
		return nil, fmt.Errorf("telemetry: clear %s of %s: %w", t.Samples, k, err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE year = $1 AND round = $2 AND session = $3`, t.Streams), k.Year, k.Round, k.Session); err != nil {
		return nil, fmt.Errorf("telemetry: clear %s of %s: %w", t.Streams, k, err)
	}
	w := &Writer[T]{ctx: ctx, tx: tx, s: s, t: t, feed: f.Name, ids: map[string]int32{}, driver: driver, values: values,
		full: make(chan []T, batches), free: make(chan []T, batches+1), done: make(chan error, 1)}
	for i, d := range f.Drivers {
		var id int32
		if err := tx.QueryRow(ctx, fmt.Sprintf(`INSERT INTO %s (year, round, session, ord, driver_number, driver)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING stream_id`, t.Streams),
			k.Year, k.Round, k.Session, i, d.Number, d.Abbreviation).Scan(&id); err != nil {
			return nil, fmt.Errorf("telemetry: stream of car %s in %s: %w", d.Number, k, err)
		}
		w.ids[d.Number] = id
	}
	for range batches + 1 {
		w.free <- make([]T, 0, batchRows)
	}
	w.buf = <-w.free
	go func() {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.Samples}, append([]string{"year", "stream_id"}, t.Columns...), &copySource[T]{w: w})
		w.rows = n
		w.done <- err
	}()
	return w, nil
}

// Add takes a batch of decoded samples (copied: the batch may be reused).
// It blocks while the COPY is behind, and fails once the COPY has.
func (w *Writer[T]) Add(batch []T) error {
	for len(batch) > 0 {
		n := min(len(batch), batchRows-len(w.buf))
		w.buf = append(w.buf, batch[:n]...)
		batch = batch[n:]
		if len(w.buf) == batchRows {
			select {
			case w.full <- w.buf:
			case err := <-w.done:
				w.done <- err // for Finish
				return fmt.Errorf("telemetry: copy %s of %s: %w", w.t.Samples, w.s.SessionKey, errOr(err))
			}
			w.buf = <-w.free
		}
	}
	return nil
}

// Abort stops the COPY after a decoding error and waits for it; the
// transaction is then rolled back by the caller.
func (w *Writer[T]) Abort(err error) {
	w.fail = err
	close(w.full)
	<-w.done
}

// errOr is err, or a note that the COPY ended early.
func errOr(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the COPY ended before the stream")
}

// copySource feeds batches to COPY as they arrive, one reused values
// slice.
type copySource[T any] struct {
	w     *Writer[T]
	batch []T
	i     int
	vals  []any
	err   error
}

func (c *copySource[T]) Next() bool {
	c.i++
	for c.i >= len(c.batch) {
		if c.batch != nil {
			c.w.free <- c.batch[:0]
		}
		b, ok := <-c.w.full
		if !ok {
			c.batch, c.err = nil, c.w.fail
			return false
		}
		c.batch, c.i = b, 0
	}
	return true
}

func (c *copySource[T]) Values() ([]any, error) {
	r := &c.batch[c.i]
	id, ok := c.w.ids[c.w.driver(r)]
	if !ok {
		return nil, fmt.Errorf("telemetry: a sample of car %s, which is no driver of the session", c.w.driver(r))
	}
	c.vals = append(c.vals[:0], int16(c.w.s.Year), id)
	c.vals = c.w.values(r, c.vals)
	return c.vals, nil
}

func (c *copySource[T]) Err() error { return c.err }

// Finish ends the COPY with what is held, records each car's counts (cars
// without rows lose their stream row) and the feed's clock (FastF1's
// t0_date candidate, the zero Time when the feed had no sample), and
// returns the rows written.
func (w *Writer[T]) Finish(counts []Count, clock time.Time) (int, error) {
	if len(w.buf) > 0 {
		select {
		case w.full <- w.buf:
		case err := <-w.done:
			return 0, fmt.Errorf("telemetry: copy %s of %s: %w", w.t.Samples, w.s.SessionKey, errOr(err))
		}
	}
	close(w.full)
	if err := <-w.done; err != nil {
		return 0, fmt.Errorf("telemetry: copy %s of %s: %w", w.t.Samples, w.s.SessionKey, err)
	}
	k := w.s.SessionKey
	for _, c := range counts {
		id, ok := w.ids[c.Number]
		if !ok {
			continue
		}
		var err error
		if c.Rows == 0 {
			_, err = w.tx.Exec(w.ctx, fmt.Sprintf(`DELETE FROM %s WHERE stream_id = $1`, w.t.Streams), id)
		} else {
			_, err = w.tx.Exec(w.ctx, fmt.Sprintf(`UPDATE %s SET samples = $2, filled = $3, by_date = $4 WHERE stream_id = $1`, w.t.Streams),
				id, c.Rows, c.Filled, c.ByDate)
		}
		if err != nil {
			return 0, fmt.Errorf("telemetry: stream of car %s in %s: %w", c.Number, k, err)
		}
	}
	if _, err := w.tx.Exec(w.ctx, `DELETE FROM session_clocks WHERE year=$1 AND round=$2 AND session=$3 AND feed=$4`,
		k.Year, k.Round, k.Session, w.feed); err != nil {
		return 0, fmt.Errorf("telemetry: clock of %s: %w", k, err)
	}
	if !clock.IsZero() {
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO session_clocks (year, round, session, feed, t0) VALUES ($1, $2, $3, $4, $5)`,
			k.Year, k.Round, k.Session, w.feed, roundMillis(clock)); err != nil {
			return 0, fmt.Errorf("telemetry: clock of %s: %w", k, err)
		}
	}
	return int(w.rows), nil
}

// roundMillis rounds t to the millisecond, halves to even (pandas'
// round("ms")), as FastF1 rounds t0_date.
func roundMillis(t time.Time) time.Time {
	us := t.UnixMicro()
	ms, rem := us/1000, us%1000
	if rem < 0 {
		ms, rem = ms-1, rem+1000
	}
	if rem > 500 || rem == 500 && ms%2 != 0 {
		ms++
	}
	return time.UnixMilli(ms).UTC()
}

// Header is what a read-back needs besides the samples.
type Header struct {
	// Drivers are the session's cars with samples, in FastF1's order.
	Drivers []Driver
	// Abbreviations by racing number.
	Abbreviations map[string]string
	// T0 is the session clock (FastF1's t0_date); zero when unknown.
	T0 time.Time
}

// Read reads back a session's stored samples of t, car by car in FastF1's
// order (one car when driver is set), each car's rows in FastF1's order;
// scan is called for every row with the car's number, columns being the
// select list.
func Read(ctx context.Context, db kind.Querier, k f1.SessionKey, driver string, t Tables, columns string,
	scan func(number string, rows pgx.Rows) error) (Header, error) {
	h := Header{Abbreviations: map[string]string{}}
	var t0 *time.Time
	if err := db.QueryRow(ctx, `SELECT t0_date FROM session_t0 WHERE year=$1 AND round=$2 AND session=$3`,
		k.Year, k.Round, k.Session).Scan(&t0); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return h, fmt.Errorf("telemetry: clock of %s: %w", k, err)
	}
	if t0 != nil {
		h.T0 = t0.UTC()
	}
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT stream_id, driver_number, driver, by_date FROM %s
		WHERE year=$1 AND round=$2 AND session=$3 AND ($4 = '' OR driver_number = $4) ORDER BY ord`, t.Streams),
		k.Year, k.Round, k.Session, driver)
	if err != nil {
		return h, fmt.Errorf("telemetry: streams of %s: %w", k, err)
	}
	type stream struct {
		id     int32
		number string
		byDate bool
	}
	var ss []stream
	for rows.Next() {
		var s stream
		var abbr string
		if err := rows.Scan(&s.id, &s.number, &abbr, &s.byDate); err != nil {
			rows.Close()
			return h, fmt.Errorf("telemetry: streams of %s: %w", k, err)
		}
		ss = append(ss, s)
		h.Drivers = append(h.Drivers, Driver{Number: s.number, Abbreviation: abbr})
		h.Abbreviations[s.number] = abbr
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("telemetry: streams of %s: %w", k, err)
	}
	for _, s := range ss {
		order := "seq"
		if s.byDate {
			order = "date, seq"
		}
		rows, err := db.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE year = $1 AND stream_id = $2 ORDER BY %s`, columns, t.Samples, order),
			int16(k.Year), s.id)
		if err != nil {
			return h, fmt.Errorf("telemetry: read %s of %s: %w", t.Samples, k, err)
		}
		for rows.Next() {
			if err := scan(s.number, rows); err != nil {
				rows.Close()
				return h, fmt.Errorf("telemetry: read %s of %s: %w", t.Samples, k, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return h, fmt.Errorf("telemetry: read %s of %s: %w", t.Samples, k, err)
		}
	}
	return h, nil
}

// Store is the telemetry kinds' store: it decodes f's stream with format,
// streaming the samples into t's tables (replacing the session's), and
// records each car's counts and the feed's clock. driver names a sample's
// racing number; values appends its Columns' values. A malformed line fails
// as invalid data (see Classify).
func Store[S any](ctx context.Context, tx pgx.Tx, s kind.Session, t Tables, f *Feed, format *Format[S],
	driver func(*S) string, values func(*S, []any) []any) (int, error) {
	w, err := NewWriter(ctx, tx, s, t, f, driver, values)
	if err != nil {
		return 0, err
	}
	r, err := f.Open(ctx)
	if err != nil {
		w.Abort(err)
		return 0, err
	}
	defer r.Close()
	sum, err := Decode[S, carRows](r, f.Numbers(), w.Add, format)
	if err != nil {
		w.Abort(err)
		return 0, Classify(err)
	}
	counts := make([]Count, 0, len(sum.Drivers))
	for _, d := range sum.Drivers {
		counts = append(counts, Count{Number: d.Number, Rows: d.Rows, Filled: d.Filled, ByDate: d.Incomplete})
	}
	return w.Finish(counts, sum.Clock)
}
