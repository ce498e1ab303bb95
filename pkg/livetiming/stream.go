package livetiming

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"
)

// MaxLineBytes is the longest jsonStream line, in bytes without its line
// end, that a [Scanner] accepts; a longer line stops the scan with a
// *FormatError. Real CarData.z lines are a few kilobytes.
const MaxLineBytes = 16 << 20

// Scanner sizing: lines are read and decoded in jobs of up to scanJobLines
// lines or scanJobBytes raw bytes, and at most 2*workers+2 jobs are in
// flight, which bounds the memory a scan holds (a few MB) whatever the
// body's size.
const (
	scanJobLines = 32
	scanJobBytes = 256 << 10
	maxWorkers   = 4
)

// Scanner reads a jsonStream body from an io.Reader one line at a time, as
// [Decode] does for a body held in memory, without holding the body's lines
// or their decoded payloads: it reads ahead at most 2*workers+2 runs of up
// to 32 lines or 256 KB each, so its memory is bounded (a few MB for real
// feeds) whatever the body's size.
//
// For compressed streams (".z", see [IsCompressed]) each line's payload, a
// JSON string of base64 of raw DEFLATE, is decoded and inflated. Every line
// is its own DEFLATE stream, so lines are decoded by a small pool of worker
// goroutines (see [Scanner.SetWorkers]) while [Scanner.Scan] still yields
// them in body order; base64 buffers and inflaters are reused.
//
// Body rules are those of Decode: an optional UTF-8 BOM, CRLF or LF line
// ends, blank lines ignored (they still count in line numbers), an
// unterminated last line accepted, each line a 12-character offset
// ("HH:MM:SS.mmm") followed by the payload. Unlike Decode (and FastF1, which
// skips undecodable lines), the first malformed line stops the scan: Err
// then returns a *FormatError carrying its 1-based line number and the
// reason (shorter than the offset, bad offset, missing payload, truncated,
// bad base64, bad DEFLATE, not JSON, longer than [MaxLineBytes]). An empty
// body yields no line and no error.
//
// A Scanner is not safe for concurrent use; its worker goroutines are
// internal. Call [Scanner.Close] when abandoning a scan before Scan has
// returned false, or the workers stay blocked.
type Scanner struct {
	br         *bufio.Reader
	compressed bool
	workers    int
	noValidate bool
	started    bool

	// Reading (only ever done by Scan, in the caller's goroutine).
	lineNo  int   // physical lines read so far
	bomDone bool  // the leading BOM has been checked
	eof     bool  // nothing more to read
	readErr error // terminal read error, reported after the queued jobs

	// Decoding.
	inline   *lineDecoder // used when workers == 1
	work     chan *scanJob
	wg       sync.WaitGroup
	stopping atomic.Bool
	queue    []*scanJob // jobs in flight, in body order
	free     []*scanJob

	// Current position.
	cur  *scanJob
	idx  int
	line Line
	num  int
	err  error
	done bool
}

// NewScanner returns a Scanner reading a jsonStream body from r;
// compressed selects the ".z" payload encoding (see [IsCompressed]). It reads
// r only from within Scan, never after Scan has returned false or Close has
// returned. The default worker count is min(GOMAXPROCS, 4).
func NewScanner(r io.Reader, compressed bool) *Scanner {
	return &Scanner{
		br:         bufio.NewReaderSize(r, 64<<10),
		compressed: compressed,
		workers:    min(runtime.GOMAXPROCS(0), maxWorkers),
	}
}

// SetWorkers sets how many goroutines decode lines (clamped to 1..4); 1
// decodes in the goroutine calling Scan, with no other goroutine. It must be
// called before the first Scan and panics otherwise.
func (s *Scanner) SetWorkers(n int) {
	if s.started {
		panic("livetiming: SetWorkers after Scan")
	}
	s.workers = max(1, min(n, maxWorkers))
}

// SetValidate sets whether each payload is checked to be JSON (the
// default). A caller that parses every payload with a strict JSON parser
// anyway may turn the check off, saving about a quarter of the CPU time of
// a compressed scan; Line().Data is then not known to be JSON, and a payload
// that is not JSON is the caller's to reject. It must be called before the
// first Scan and panics otherwise.
func (s *Scanner) SetValidate(validate bool) {
	if s.started {
		panic("livetiming: SetValidate after Scan")
	}
	s.noValidate = !validate
}

// Scan advances to the next non-blank line and reports whether there is
// one. It returns false at the end of the body or at the first error; Err
// tells which.
func (s *Scanner) Scan() bool {
	if s.done {
		return false
	}
	if !s.started {
		s.start()
	}
	for {
		if j := s.cur; j != nil {
			if s.idx < j.ok {
				i := s.idx
				s.idx++
				s.line = Line{Offset: j.offs[i], Data: j.data[j.dstart[i]:j.dend[i]:j.dend[i]]}
				s.num = j.nums[i]
				return true
			}
			if j.err != nil {
				s.finish(j.err)
				return false
			}
			s.putJob(j)
			s.cur = nil
		}
		s.fill()
		if len(s.queue) == 0 {
			s.finish(s.readErr)
			return false
		}
		s.cur = s.queue[0]
		copy(s.queue, s.queue[1:])
		s.queue = s.queue[:len(s.queue)-1]
		<-s.cur.done
		s.idx = 0
	}
}

// Line returns the current line. Its Data is valid JSON, unless
// validation is off (see [Scanner.SetValidate]), for compressed streams the
// inflated document with a leading BOM and surrounding space removed; it
// aliases the Scanner's buffers: it is valid only until the next call
// to Scan or Close, and must not be modified.
func (s *Scanner) Line() Line { return s.line }

// LineNumber returns the 1-based line number in the body of the current
// line (blank lines count).
func (s *Scanner) LineNumber() int { return s.num }

// Err returns the error that ended the scan: nil at the end of the body, a
// *FormatError for a malformed line (with its line number and the reason),
// or the reader's error wrapped with context.
func (s *Scanner) Err() error { return s.err }

// Close stops the scan and its workers; later Scans return false. It is
// needed only when abandoning a scan before Scan returned false, is safe to
// call more than once, and returns Err (nil when stopped early without an
// error).
func (s *Scanner) Close() error {
	if !s.done {
		s.finish(nil)
	}
	return s.err
}

func (s *Scanner) start() {
	s.started = true
	if s.workers <= 1 {
		s.inline = &lineDecoder{}
		return
	}
	s.work = make(chan *scanJob, 2*s.workers+2)
	for range s.workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var d lineDecoder
			for j := range s.work {
				if !s.stopping.Load() {
					d.run(j, s.compressed, !s.noValidate)
				}
				j.done <- struct{}{}
			}
		}()
	}
}

func (s *Scanner) finish(err error) {
	s.done, s.err = true, err
	s.line, s.cur, s.queue, s.free = Line{}, nil, nil, nil
	if s.work != nil {
		s.stopping.Store(true)
		close(s.work)
		s.wg.Wait()
		s.work = nil
	}
}

// fill reads jobs from the body until the pipeline is full or the body
// ends, and hands them to the decoders.
func (s *Scanner) fill() {
	limit := 1
	if s.work != nil {
		limit = 2*s.workers + 2
	}
	for len(s.queue) < limit && !s.eof {
		j := s.getJob()
		s.readJob(j)
		if len(j.nums) == 0 {
			s.putJob(j)
			break
		}
		if s.work != nil {
			s.work <- j // never blocks: the channel holds every job in flight
		} else {
			s.inline.run(j, s.compressed, !s.noValidate)
			j.done <- struct{}{}
		}
		s.queue = append(s.queue, j)
	}
}

func (s *Scanner) getJob() *scanJob {
	if n := len(s.free); n > 0 {
		j := s.free[n-1]
		s.free = s.free[:n-1]
		return j
	}
	return &scanJob{done: make(chan struct{}, 1)}
}

func (s *Scanner) putJob(j *scanJob) {
	j.reset()
	s.free = append(s.free, j)
}

// readJob reads lines into j until it is full or the body ends (then eof is
// set, and readErr when reading failed).
func (s *Scanner) readJob(j *scanJob) {
	for len(j.nums) < scanJobLines && len(j.raw) < scanJobBytes && !s.eof {
		start := len(j.raw)
		for {
			frag, err := s.br.ReadSlice('\n')
			j.raw = append(j.raw, frag...)
			if len(j.raw)-start > MaxLineBytes+2 {
				j.raw = j.raw[:start]
				s.eof = true
				s.readErr = &FormatError{Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes), Line: s.lineNo + 1}
				return
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				s.eof = true
				if err != io.EOF {
					j.raw = j.raw[:start]
					s.readErr = fmt.Errorf("livetiming: read jsonStream (line %d): %w", s.lineNo+1, err)
					return
				}
			}
			break
		}
		if len(j.raw) == start { // clean end of the body
			return
		}
		s.lineNo++
		raw := j.raw[start:]
		raw = bytes.TrimSuffix(raw, []byte{'\n'})
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if !s.bomDone {
			s.bomDone = true
			if bytes.HasPrefix(raw, utf8BOM) {
				copy(raw, raw[len(utf8BOM):])
				raw = raw[:len(raw)-len(utf8BOM)]
			}
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			j.raw = j.raw[:start]
			continue
		}
		j.raw = j.raw[:start+len(raw)]
		j.ends = append(j.ends, len(j.raw))
		j.nums = append(j.nums, s.lineNo)
	}
}

// scanJob is a run of consecutive non-blank lines, read by Scan and decoded
// by one worker.
type scanJob struct {
	raw  []byte // the lines, concatenated without their line ends
	ends []int  // end of each line in raw (its start is the previous end)
	nums []int  // 1-based line number of each line

	// Set by the decoder.
	offs         []time.Duration
	data         []byte // decoded payloads, concatenated
	dstart, dend []int
	ok           int          // lines decoded; the rest are not
	err          *FormatError // why line ok failed, nil when all decoded
	done         chan struct{}
}

func (j *scanJob) reset() {
	j.raw, j.ends, j.nums = j.raw[:0], j.ends[:0], j.nums[:0]
	j.offs, j.data, j.dstart, j.dend = j.offs[:0], j.data[:0], j.dstart[:0], j.dend[:0]
	j.ok, j.err = 0, nil
}

// lineDecoder holds the reusable state of one decoding goroutine.
type lineDecoder struct {
	b64 []byte
	src bytes.Reader
	fr  io.ReadCloser
}

// run decodes j's lines in order until one fails.
func (d *lineDecoder) run(j *scanJob, compressed, validate bool) {
	start := 0
	for i, end := range j.ends {
		raw := j.raw[start:end]
		start = end
		off, reason := d.line(j, raw, compressed, validate)
		if reason != "" {
			j.err = &FormatError{Reason: reason, Line: j.nums[i]}
			return
		}
		j.offs = append(j.offs, off)
		j.ok++
	}
}

// line decodes one line, appending its payload to j.data and its bounds to
// j.dstart/j.dend; a non-empty reason means failure.
func (d *lineDecoder) line(j *scanJob, raw []byte, compressed, validate bool) (time.Duration, string) {
	if len(raw) < OffsetLen {
		return 0, fmt.Sprintf("line of %d bytes is shorter than the %d-byte offset (truncated?)", len(raw), OffsetLen)
	}
	off, err := parseOffset(raw[:OffsetLen])
	if err != nil {
		return 0, err.Error()
	}
	payload := bytes.TrimSpace(raw[OffsetLen:])
	if len(payload) == 0 {
		return 0, "offset without payload"
	}
	begin := len(j.data)
	if compressed && payload[0] != '{' {
		var reason string
		if j.data, reason = d.inflate(j.data, payload); reason != "" {
			j.data = j.data[:begin]
			return 0, reason
		}
		doc := bytes.TrimPrefix(j.data[begin:], utf8BOM)
		lead := len(j.data) - begin - len(doc)
		for len(doc) > 0 && isJSONSpace(doc[0]) {
			doc, lead = doc[1:], lead+1
		}
		for len(doc) > 0 && isJSONSpace(doc[len(doc)-1]) {
			doc = doc[:len(doc)-1]
		}
		if validate && !json.Valid(doc) {
			j.data = j.data[:begin]
			return 0, "compressed payload: inflated " + describeInvalidJSON(doc)
		}
		j.dstart = append(j.dstart, begin+lead)
		j.dend = append(j.dend, begin+lead+len(doc))
		return off, ""
	}
	if validate && !json.Valid(payload) {
		return 0, describeInvalidJSON(payload)
	}
	j.data = append(j.data, payload...)
	j.dstart = append(j.dstart, begin)
	j.dend = append(j.dend, len(j.data))
	return off, ""
}

// inflate decodes a compressed payload (JSON string -> base64 -> raw
// DEFLATE) and appends the inflated bytes to dst.
func (d *lineDecoder) inflate(dst, payload []byte) ([]byte, string) {
	if payload[0] != '"' {
		return dst, "compressed payload is not a JSON string"
	}
	if len(payload) < 2 || payload[len(payload)-1] != '"' {
		return dst, "compressed payload is not a JSON string: truncated (no closing quote)"
	}
	enc := payload[1 : len(payload)-1]
	if bytes.IndexByte(enc, '\\') >= 0 || bytes.IndexByte(enc, '"') >= 0 {
		var s string
		if err := json.Unmarshal(payload, &s); err != nil {
			return dst, fmt.Sprintf("compressed payload is not a JSON string: %v", err)
		}
		enc = []byte(s)
	}
	n := base64.StdEncoding.DecodedLen(len(enc))
	if cap(d.b64) < n {
		d.b64 = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.b64[:n], enc)
	if err != nil {
		return dst, fmt.Sprintf("compressed payload: bad base64: %v", err)
	}
	d.src.Reset(d.b64[:n])
	if d.fr == nil {
		d.fr = flate.NewReader(&d.src)
	} else if err := d.fr.(flate.Resetter).Reset(&d.src, nil); err != nil {
		return dst, fmt.Sprintf("compressed payload: reset inflater: %v", err)
	}
	begin := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := d.fr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		if len(dst)-begin > MaxInflatedLine {
			return dst, fmt.Sprintf("compressed payload inflates to more than %d bytes", MaxInflatedLine)
		}
		if err == io.EOF {
			return dst, ""
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return dst, "compressed payload: bad DEFLATE data: truncated (unexpected end of stream)"
			}
			return dst, fmt.Sprintf("compressed payload: bad DEFLATE data: %v", err)
		}
	}
}

// isJSONSpace reports whether c is JSON whitespace.
func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
