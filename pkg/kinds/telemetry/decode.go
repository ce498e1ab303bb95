package telemetry

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// Format describes one telemetry stream for [Decode]: the keys of its
// documents, which are all of the shape
//
//	{List:[{Date:"2020-08-08T09:45:03.0619797Z", Cars:{"44":{...}}}]}
//
// (Date and Cars in either order), and how a car's object becomes a row of
// the kind's sample type S.
type Format[S any] struct {
	// Pkg prefixes Decode's errors, e.g. "cardata".
	Pkg string
	// Name prefixes the reason of a livetiming.FormatError, e.g. "car data".
	Name string
	// Feed is the stream's feed name, which a livetiming.FormatError
	// names, e.g. "CarData.z.jsonStream".
	Feed string
	// List, Date and Cars are the document's keys, e.g. "Entries", "Utc"
	// and "Cars".
	List, Date, Cars string
	// BatchSize is the most rows Decode passes to emit at once.
	BatchSize int
	// Parse decodes one car's object at p into its row, whose Date, Driver
	// and Seq are k's. ok is false when the car has no sample there (a
	// required field is missing); flag marks the car for the Flagged
	// warning. On malformed input it sets p.Err (Decode names the car).
	Parse func(p *jsonwalk.Doc, k Key) (s S, flag, ok bool)
	// Fill makes the row FastF1 adds for an incomplete car at k.
	Fill func(k Key) S
	// Incomplete is FastF1's warning for an incomplete car, after
	// "Driver NN: ", e.g. "Car data is incomplete!".
	Incomplete string
	// Flagged is the warning, after "Driver NN: ", for a car of which
	// Parse flagged a sample; it follows the car's Incomplete warning.
	// Empty when Parse never flags.
	Flagged string
}

// Key is what Decode knows of a row before the kind's fields.
type Key struct {
	// Date is the entry's time rounded to the millisecond as FastF1 does.
	Date time.Time
	// Driver is the car's racing number from the driver list passed to
	// Decode (the string is shared with that slice); "" for a dropped car,
	// whose row is not emitted.
	Driver string
	// Seq numbers the car's rows from 0: stream order, filled rows last.
	Seq uint32
}

// CarRows is the constraint on a kind's DriverRows type: what the feed
// holds for one car (see cardata.DriverRows).
type CarRows interface {
	~struct {
		Number     string
		Rows       int
		Filled     int
		Incomplete bool
	}
}

// carRows is the underlying type of every CarRows.
type carRows = struct {
	Number     string
	Rows       int
	Filled     int
	Incomplete bool
}

// Summary describes a decoded feed; its underlying type is that of the
// kinds' Summary types, which convert from it (see cardata.Summary).
type Summary[D CarRows] struct {
	Lines    int
	Samples  int
	Rows     int
	Clock    time.Time
	Drivers  []D
	Dropped  []D
	Warnings []string
}

// car is the decoding state of one car number of the feed.
type car struct {
	number    string
	kept      int // index in the driver list, -1 when dropped
	samples   int
	flagged   bool     // Parse flagged one of its samples
	present   []uint64 // bit e: the car has a sample in entry e
	lastEntry int      // last entry the car appeared in, to reject duplicates
}

func (c *car) mark(e int) {
	for len(c.present) <= e/64 {
		c.present = append(c.present, 0)
	}
	c.present[e/64] |= 1 << (e % 64)
}

func (c *car) has(e int) bool {
	return e/64 < len(c.present) && c.present[e/64]&(1<<(e%64)) != 0
}

// decoder is the state of one Decode call.
type decoder[S any] struct {
	f       *Format[S]
	qList   string // the keys quoted, for messages
	qDate   string
	qCars   string
	drivers []string
	keep    map[string]int
	cars    []*car
	byNum   map[string]*car
	dates   []int64 // Date of every entry, µs since the epoch
	batch   []S
	emit    func([]S) error
	sum     Summary[carRows]
	clock   int64
	clocked bool
	doc     jsonwalk.Doc
}

// Decode reads a telemetry stream of format f from r and passes FastF1's
// rows of the drivers listed to emit, in batches of at most f.BatchSize:
// each car's samples in stream order, interleaved between cars as the
// stream has them, then the filled rows of incomplete cars. The batch slice
// is reused after emit returns. It is cardata.Decode and position.Decode,
// whose docs state the contract; errors are prefixed with f.Pkg.
func Decode[S any, D CarRows](r io.Reader, drivers []string, emit func([]S) error, f *Format[S]) (Summary[D], error) {
	d := &decoder[S]{
		f:       f,
		qList:   `"` + f.List + `"`,
		qDate:   `"` + f.Date + `"`,
		qCars:   `"` + f.Cars + `"`,
		drivers: drivers,
		keep:    make(map[string]int, len(drivers)),
		byNum:   map[string]*car{},
		emit:    emit,
		batch:   make([]S, 0, f.BatchSize),
	}
	for i, n := range drivers {
		if _, dup := d.keep[n]; !dup {
			d.keep[n] = i
		}
	}
	sc := livetiming.NewScanner(r, true)
	sc.SetValidate(false) // jsonwalk.Doc checks the syntax as it parses
	defer sc.Close()
	for sc.Scan() {
		ln := sc.Line()
		d.doc.Reset(ln.Data)
		if err := d.document(&d.doc, ln.Offset.Microseconds()); err != nil {
			var ee errEmit
			if errors.As(err, &ee) {
				return Summary[D]{}, fmt.Errorf("%s: emit: %w", f.Pkg, ee.err)
			}
			return Summary[D]{}, fmt.Errorf("%s: %w", f.Pkg, &livetiming.FormatError{
				Feed:   f.Feed,
				Reason: f.Name + ": " + err.Error(),
				Line:   sc.LineNumber(),
			})
		}
		d.sum.Lines++
	}
	if err := sc.Err(); err != nil {
		if fe := (*livetiming.FormatError)(nil); errors.As(err, &fe) {
			fe.Feed = f.Feed
		}
		return Summary[D]{}, fmt.Errorf("%s: %w", f.Pkg, err)
	}
	if err := d.finish(); err != nil {
		return Summary[D]{}, fmt.Errorf("%s: emit: %w", f.Pkg, err)
	}
	s := d.sum
	return Summary[D]{Lines: s.Lines, Samples: s.Samples, Rows: s.Rows, Clock: s.Clock,
		Drivers: convertRows[D](s.Drivers), Dropped: convertRows[D](s.Dropped), Warnings: s.Warnings}, nil
}

// convertRows converts rows to the kind's type, nil staying nil.
func convertRows[D CarRows](rows []carRows) []D {
	if rows == nil {
		return nil
	}
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = D(r)
	}
	return out
}

// errEmit marks an error returned by emit, to tell it from a shape error.
type errEmit struct{ err error }

func (e errEmit) Error() string { return e.err.Error() }
func (e errEmit) Unwrap() error { return e.err }

func (d *decoder[S]) document(p *jsonwalk.Doc, offsetUS int64) error {
	if !p.Open('{', "document") {
		return p.Err
	}
	seen := false
	for first := true; p.More('}', &first); {
		if string(p.Key()) != d.f.List {
			p.Skip()
			continue
		}
		if seen {
			p.Failf(`duplicate %s`, d.qList)
			break
		}
		seen = true
		if !p.Open('[', d.qList) {
			break
		}
		for first := true; p.More(']', &first); {
			if err := d.entry(p, offsetUS); err != nil {
				return err
			}
		}
	}
	p.End()
	if p.Err == nil && !seen {
		p.Failf(`no %s`, d.qList)
	}
	return p.Err
}

// entry decodes one entry: {Date: ..., Cars: {...}}, in either order.
func (d *decoder[S]) entry(p *jsonwalk.Doc, offsetUS int64) error {
	if !p.Open('{', "entry") {
		return p.Err
	}
	var (
		date           int64
		haveDate       bool
		cars           []byte // the Cars object when it precedes Date
		haveCars, done bool
	)
	e := len(d.dates)
	for first := true; p.More('}', &first); {
		switch string(p.Key()) {
		case d.f.Date:
			if haveDate {
				p.Failf(`entry has two %s`, d.qDate)
				return p.Err
			}
			s := p.Str(d.qDate)
			if p.Err != nil {
				return p.Err
			}
			us, ok := jsonwalk.ParseUTC(s)
			if !ok {
				p.Failf(`%s %q is not a timestamp`, d.qDate, s)
				return p.Err
			}
			date, haveDate = us, true
			d.dates = append(d.dates, date)
			if haveCars && !done {
				var sub jsonwalk.Doc
				sub.Reset(cars)
				if err := d.entryCars(&sub, e, date, offsetUS); err != nil {
					return err
				}
				done = true
			}
		case d.f.Cars:
			if haveCars {
				p.Failf(`entry has two %s`, d.qCars)
				return p.Err
			}
			haveCars = true
			if haveDate {
				if err := d.entryCars(p, e, date, offsetUS); err != nil {
					return err
				}
				done = true
			} else {
				cars = p.Span()
			}
		default:
			p.Skip()
		}
	}
	if p.Err != nil {
		return p.Err
	}
	if !haveDate {
		return fmt.Errorf(`entry without %s`, d.qDate)
	}
	if !haveCars {
		return fmt.Errorf(`entry without %s`, d.qCars)
	}
	return nil
}

// entryCars decodes an entry's Cars object.
func (d *decoder[S]) entryCars(p *jsonwalk.Doc, e int, date, offsetUS int64) error {
	if !p.Open('{', d.qCars) {
		return p.Err
	}
	k := Key{Date: time.UnixMicro(jsonwalk.RoundMillis(date)).UTC()}
	for first := true; p.More('}', &first); {
		num := p.Key()
		if p.Err != nil {
			return p.Err
		}
		c := d.byNum[string(num)]
		if c == nil {
			n := string(num)
			kept, ok := d.keep[n]
			if !ok {
				kept = -1
			}
			c = &car{number: n, kept: kept, lastEntry: -1}
			d.byNum[n] = c
			d.cars = append(d.cars, c)
		}
		if c.lastEntry == e {
			return fmt.Errorf("car %q twice in one entry", c.number)
		}
		c.lastEntry = e
		k.Driver, k.Seq = "", uint32(c.samples)
		if c.kept >= 0 {
			k.Driver = d.drivers[c.kept]
		}
		s, flag, ok := d.f.Parse(p, k)
		if p.Err != nil {
			p.Err = fmt.Errorf("car %s: %w", c.number, p.Err)
			return p.Err
		}
		if !ok {
			continue
		}
		c.samples++
		d.sum.Samples++
		c.mark(e)
		if v := date - offsetUS; !d.clocked || v > d.clock {
			d.clock, d.clocked = v, true
		}
		if flag {
			c.flagged = true
		}
		if c.kept < 0 {
			continue
		}
		if err := d.add(s); err != nil {
			return err
		}
	}
	return p.Err
}

// add queues a row, emitting the batch when it is full.
func (d *decoder[S]) add(s S) error {
	d.batch = append(d.batch, s)
	d.sum.Rows++
	if len(d.batch) == d.f.BatchSize {
		return d.flush()
	}
	return nil
}

func (d *decoder[S]) flush() error {
	if len(d.batch) == 0 {
		return nil
	}
	err := d.emit(d.batch)
	d.batch = d.batch[:0]
	if err != nil {
		return errEmit{err}
	}
	return nil
}

// finish applies FastF1's post-processing: the most complete car, the
// filled rows of incomplete cars, the warnings and the summary. Its only
// error is one from emit.
func (d *decoder[S]) finish() error {
	var ref *car
	for _, c := range d.cars {
		if c.samples > 0 && (ref == nil || c.samples > ref.samples) {
			ref = c
		}
	}
	d.sum.Drivers = make([]carRows, 0, len(d.drivers))
	seen := map[string]bool{}
	for _, n := range d.drivers {
		if !seen[n] {
			seen[n] = true
			d.sum.Drivers = append(d.sum.Drivers, carRows{Number: n})
		}
	}
	rows := make(map[*car]*carRows, len(d.cars))
	for i := range d.sum.Drivers {
		if c := d.byNum[d.sum.Drivers[i].Number]; c != nil && c.samples > 0 {
			rows[c] = &d.sum.Drivers[i]
		}
	}
	for _, c := range d.cars {
		if c.samples == 0 {
			continue
		}
		incomplete := c.samples < ref.samples
		if incomplete {
			d.sum.Warnings = append(d.sum.Warnings, fmt.Sprintf("Driver %2s: %s", c.number, d.f.Incomplete))
		}
		if c.flagged {
			d.sum.Warnings = append(d.sum.Warnings, fmt.Sprintf("Driver %2s: %s", c.number, d.f.Flagged))
		}
		dr := rows[c]
		if dr == nil { // a dropped car: a kept one with samples has its row
			d.sum.Dropped = append(d.sum.Dropped, carRows{Number: c.number, Rows: c.samples, Incomplete: incomplete})
			continue
		}
		dr.Rows, dr.Incomplete = c.samples, incomplete
		if !incomplete {
			continue
		}
		for _, date := range missingDates(d.dates, ref, c) {
			s := d.f.Fill(Key{
				Date:   time.UnixMicro(jsonwalk.RoundMillis(date)).UTC(),
				Driver: d.drivers[c.kept],
				Seq:    uint32(dr.Rows),
			})
			dr.Rows++
			dr.Filled++
			if err := d.add(s); err != nil {
				return err.(errEmit).err
			}
		}
	}
	if err := d.flush(); err != nil {
		return err.(errEmit).err
	}
	if d.clocked {
		d.sum.Clock = time.UnixMicro(d.clock).UTC()
	}
	return nil
}

// missingDates returns, in ascending order, the dates of ref's samples that
// c has no sample at (FastF1's outer merge of c's rows with ref's dates:
// each such date, as often as ref has it).
func missingDates(dates []int64, ref, c *car) []int64 {
	var have, want []int64
	for e, date := range dates {
		if c.has(e) {
			have = append(have, date)
		}
		if ref.has(e) {
			want = append(want, date)
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	var out []int64
	i := 0
	for _, w := range want {
		for i < len(have) && have[i] < w {
			i++
		}
		if i < len(have) && have[i] == w {
			continue
		}
		out = append(out, w)
	}
	return out
}

// Sort puts rows of one session's feed in FastF1's order: by driver in the
// order of drivers, then, for a complete car, by Seq and, for an incomplete
// car, by Date (ties by Seq); rows of drivers not in the list go last. key
// returns a row's Key. It is cardata.Sort and position.Sort.
func Sort[S any, D CarRows](rows []S, drivers []D, key func(*S) Key) {
	rank := make(map[string]int, len(drivers))
	byDate := make(map[string]bool, len(drivers))
	for i, d := range drivers {
		if _, dup := rank[carRows(d).Number]; !dup {
			rank[carRows(d).Number] = i
			byDate[carRows(d).Number] = carRows(d).Incomplete
		}
	}
	slices.SortFunc(rows, func(x, y S) int {
		a, b := key(&x), key(&y)
		ra, oka := rank[a.Driver]
		rb, okb := rank[b.Driver]
		if !oka {
			ra = len(drivers)
		}
		if !okb {
			rb = len(drivers)
		}
		if c := cmp.Compare(ra, rb); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Driver, b.Driver); c != 0 {
			return c
		}
		if byDate[a.Driver] {
			if c := a.Date.Compare(b.Date); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}
