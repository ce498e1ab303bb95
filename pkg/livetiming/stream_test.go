package livetiming_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// deflated returns s as a ".z" payload: a JSON string of base64 of raw
// DEFLATE.
func deflated(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return `"` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `"`
}

type scanned struct {
	num  int
	off  time.Duration
	data string
}

// scanAll scans body with the given worker count and returns the lines and
// Err.
func scanAll(body io.Reader, compressed bool, workers int) ([]scanned, error) {
	sc := livetiming.NewScanner(body, compressed)
	sc.SetWorkers(workers)
	var out []scanned
	for sc.Scan() {
		ln := sc.Line()
		out = append(out, scanned{sc.LineNumber(), ln.Offset, string(ln.Data)})
	}
	return out, sc.Err()
}

// recordedFeeds lists every recorded jsonStream body.
func recordedFeeds(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("../../testdata/f1/recorded/*/static/*/*/*/*.jsonStream")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded streams: %v", err)
	}
	return paths
}

// TestScannerMatchesDecode: on every recorded stream, plain and compressed,
// the Scanner yields exactly Decode's lines (Decode skips none in the
// recordings), whatever the worker count.
func TestScannerMatchesDecode(t *testing.T) {
	t.Parallel()
	paths := recordedFeeds(t)
	compressed := 0
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		z := livetiming.IsCompressed(p)
		if z {
			compressed++
		}
		want, err := livetiming.Decode(body, z)
		if err != nil {
			t.Errorf("%s: Decode: %v", p, err)
			continue
		}
		if len(want.Skipped) > 0 {
			t.Errorf("%s: Decode skipped %v", p, want.Skipped)
			continue
		}
		for _, workers := range []int{1, 3} {
			got, err := scanAll(iotest.HalfReader(bytes.NewReader(body)), z, workers)
			if err != nil {
				t.Errorf("%s (%d workers): %v", p, workers, err)
				continue
			}
			if len(got) != len(want.Lines) {
				t.Errorf("%s (%d workers): %d lines, Decode %d", p, workers, len(got), len(want.Lines))
				continue
			}
			for i, g := range got {
				w := want.Lines[i]
				if g.off != w.Offset || g.data != string(w.Data) || g.num <= 0 || (i > 0 && g.num <= got[i-1].num) {
					t.Errorf("%s (%d workers) line %d: got %v %q, Decode %v %.80q", p, workers, g.num, g.off, g.data, w.Offset, w.Data)
					break
				}
			}
		}
	}
	if compressed == 0 {
		t.Fatal("no compressed stream recorded")
	}
	t.Logf("%d recorded streams (%d compressed) scan as they decode", len(paths), compressed)
}

// TestScannerBody: the framing rules (BOM, CRLF or LF, blank lines, an
// unterminated last line, an empty body).
func TestScannerBody(t *testing.T) {
	t.Parallel()
	doc := deflated(t, "\ufeff {\"a\":1} \n")
	tests := []struct {
		name       string
		body       string
		compressed bool
		want       []scanned
	}{
		{name: "empty", body: ""},
		{name: "BOM only", body: "\ufeff"},
		{name: "blank lines only", body: "\r\n\r\n  \r\n"},
		{
			name: "plain CRLF with BOM", body: "\ufeff00:00:01.000{\"a\":1}\r\n00:00:02.500 {\"b\":[2]} \r\n",
			want: []scanned{{1, time.Second, `{"a":1}`}, {2, 2500 * time.Millisecond, `{"b":[2]}`}},
		},
		{
			name: "LF, blank lines counted, unterminated last line", body: "\n00:00:01.000{}\n\n01:00:00.001[]",
			want: []scanned{{2, time.Second, `{}`}, {4, time.Hour + time.Millisecond, `[]`}},
		},
		{
			name: "compressed, inflated BOM and spaces removed", compressed: true,
			body: "\ufeff00:00:01.000" + doc + "\r\n00:00:02.000" + doc + "\r\n",
			want: []scanned{{1, time.Second, `{"a":1}`}, {2, 2 * time.Second, `{"a":1}`}},
		},
		{
			name: "compressed stream with a plain object payload", compressed: true,
			body: "00:00:01.000{\"x\":true}\r\n",
			want: []scanned{{1, time.Second, `{"x":true}`}},
		},
		{
			name: "escaped slash in the base64 string", compressed: true,
			body: "00:00:01.000" + strings.ReplaceAll(deflated(t, `{"k":"???"}`), "/", `\/`) + "\r\n",
			want: []scanned{{1, time.Second, `{"k":"???"}`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				got, err := scanAll(strings.NewReader(tt.body), tt.compressed, workers)
				if err != nil {
					t.Fatalf("%d workers: %v", workers, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("%d workers: got %v, want %v", workers, got, tt.want)
				}
			}
		})
	}
}

// TestScannerMalformed: the first malformed line stops the scan with a
// *FormatError carrying its line number and the reason; the lines before it
// are yielded.
func TestScannerMalformed(t *testing.T) {
	t.Parallel()
	good := "00:00:01.000" + deflated(t, `{"Entries":[]}`)
	notJSON := "00:00:02.000" + deflated(t, `{"Entries":[`)
	truncated := good[:len(good)-10]
	var rawBad bytes.Buffer // valid base64 of bytes that are not DEFLATE
	rawBad.WriteString(`"` + base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0xfd, 0xfc}) + `"`)
	tests := []struct {
		name       string
		body       string
		compressed bool
		line       int
		reason     string
	}{
		{name: "truncated last line", body: good + "\r\n" + good + "\r\n" + truncated, compressed: true, line: 3, reason: "truncated"},
		{name: "truncated line mid-body", body: good + "\r\n" + truncated + "\r\n" + good + "\r\n", compressed: true, line: 2, reason: "truncated"},
		{name: "truncated DEFLATE data", body: good + "\r\n" + "00:00:02.000" + deflatedTruncated(t) + "\r\n", compressed: true, line: 2, reason: "bad DEFLATE data: truncated"},
		{name: "bad base64", body: good + "\r\n\r\n00:00:02.000\"not*base64!\"\r\n", compressed: true, line: 3, reason: "bad base64"},
		{name: "bad deflate", body: "00:00:02.000" + rawBad.String() + "\r\n", compressed: true, line: 1, reason: "bad DEFLATE data"},
		{name: "inflates to something not JSON", body: good + "\r\n" + notJSON + "\r\n", compressed: true, line: 2, reason: "inflated payload is not valid JSON"},
		{name: "compressed payload not a string", body: "00:00:02.000[1,2]\r\n", compressed: true, line: 1, reason: "not a JSON string"},
		{name: "plain payload not JSON", body: "00:00:01.000{}\r\n00:00:02.000{\"a\":}\r\n", line: 2, reason: "not valid JSON"},
		{name: "plain payload truncated", body: "00:00:01.000{\"a\":[1,", line: 1, reason: "truncated"},
		{name: "short line", body: "00:00:01.000{}\r\n00:00\r\n", line: 2, reason: "shorter than the 12-byte offset"},
		{name: "bad offset", body: "00:00:01,000{}\r\n", line: 1, reason: "want HH:MM:SS.mmm"},
		{name: "offset without payload", body: "00:00:01.000   \r\n", line: 1, reason: "offset without payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				got, err := scanAll(strings.NewReader(tt.body), tt.compressed, workers)
				var fe *livetiming.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("%d workers: err = %v, want a *FormatError", workers, err)
				}
				if fe.Line != tt.line || !strings.Contains(fe.Reason, tt.reason) {
					t.Errorf("%d workers: line %d %q, want line %d with %q", workers, fe.Line, fe.Reason, tt.line, tt.reason)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tt.line)) {
					t.Errorf("%d workers: %q does not name line %d", workers, err, tt.line)
				}
				for _, g := range got {
					if g.num >= tt.line {
						t.Errorf("%d workers: line %d yielded after the error", workers, g.num)
					}
				}
			}
		})
	}
}

// deflatedTruncated is a compressed payload whose DEFLATE data stops early.
func deflatedTruncated(t testing.TB) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	io.WriteString(w, strings.Repeat(`{"Entries":[{"Utc":"x"}]}`, 50))
	w.Close()
	b := buf.Bytes()
	return `"` + base64.StdEncoding.EncodeToString(b[:len(b)/2]) + `"`
}

// TestScannerLongLine: a line longer than MaxLineBytes stops the scan with
// its line number, after the lines before it.
func TestScannerLongLine(t *testing.T) {
	t.Parallel()
	body := "00:00:01.000{}\r\n00:00:02.000\"" + strings.Repeat("A", livetiming.MaxLineBytes) + "\"\r\n"
	got, err := scanAll(strings.NewReader(body), true, 2)
	var fe *livetiming.FormatError
	if !errors.As(err, &fe) || fe.Line != 2 || !strings.Contains(fe.Reason, "longer than") {
		t.Fatalf("err = %v, want a *FormatError for line 2", err)
	}
	if len(got) != 1 {
		t.Errorf("got %d lines before the error, want 1", len(got))
	}
}

// TestScannerReadError: an error from the reader ends the scan with that
// error, wrapped, after the lines read before it.
func TestScannerReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader("00:00:01.000{}\r\n00:00:02.000{}\r\n"), iotest.ErrReader(boom))
	got, err := scanAll(body, false, 2)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v wrapped", err, boom)
	}
	var fe *livetiming.FormatError
	if errors.As(err, &fe) {
		t.Errorf("a read error is reported as a format error: %v", err)
	}
	if len(got) != 2 {
		t.Errorf("got %d lines, want 2", len(got))
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bigBody returns a compressed body of n lines, each about 1.5 KB and
// inflating to about 2 KB of poorly compressible JSON.
func bigBody(t testing.TB, n int) []byte {
	t.Helper()
	var b, z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pad := make([]byte, 1000)
	b.WriteString("\ufeff")
	for i := range n {
		for j := range pad {
			pad[j] = byte(rng.Uint32())
		}
		z.Reset()
		w.Reset(&z)
		fmt.Fprintf(w, `{"i":%d,"pad":"%x"}`, i, pad)
		w.Close()
		fmt.Fprintf(&b, "%s\"%s\"\r\n", livetiming.FormatOffset(time.Duration(i)*time.Second), base64.StdEncoding.EncodeToString(z.Bytes()))
	}
	return b.Bytes()
}

// TestScannerStreams: the Scanner reads ahead only a bounded window of the
// body, and the lines' data are handed over one at a time.
func TestScannerStreams(t *testing.T) {
	t.Parallel()
	body := bigBody(t, 4000)
	cr := &countingReader{r: bytes.NewReader(body)}
	sc := livetiming.NewScanner(cr, true)
	sc.SetWorkers(2)
	defer sc.Close()
	var maxAhead int64
	n := 0
	for sc.Scan() {
		n++
		if !strings.HasPrefix(string(sc.Line().Data), fmt.Sprintf(`{"i":%d,`, n-1)) {
			t.Fatalf("line %d out of order: %.20s", n, sc.Line().Data)
		}
		maxAhead = max(maxAhead, cr.n-int64(n)*int64(len(body))/4000)
	}
	if err := sc.Err(); err != nil || n != 4000 {
		t.Fatalf("%d lines, err %v", n, err)
	}
	if maxAhead > 1<<20 {
		t.Errorf("read up to %d bytes ahead of the consumer; want a bounded window", maxAhead)
	}
	t.Logf("body %d bytes; read at most %d bytes ahead", len(body), maxAhead)
}

// TestScannerClose: abandoning a scan with Close stops its workers, and
// Scan then returns false.
func TestScannerClose(t *testing.T) {
	body := bigBody(t, 300)
	before := runtime.NumGoroutine()
	for range 5 {
		sc := livetiming.NewScanner(bytes.NewReader(body), true)
		sc.SetWorkers(4)
		if !sc.Scan() || !sc.Scan() {
			t.Fatal(sc.Err())
		}
		if err := sc.Close(); err != nil {
			t.Fatal(err)
		}
		if sc.Scan() {
			t.Fatal("Scan after Close returned true")
		}
		sc.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before: workers leaked", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestScannerSetWorkersAfterScan panics.
func TestScannerSetWorkersAfterScan(t *testing.T) {
	t.Parallel()
	sc := livetiming.NewScanner(strings.NewReader(""), false)
	sc.Scan()
	defer func() {
		if recover() == nil {
			t.Error("SetWorkers after Scan did not panic")
		}
	}()
	sc.SetWorkers(2)
}

// BenchmarkScanner scans the largest recorded compressed stream (or the
// CarData.z stream in PADDOCK_TELEMETRY_DIR) with 1, 2 and 4 workers, with
// and without the JSON check.
func BenchmarkScanner(b *testing.B) {
	var body []byte
	if dir := os.Getenv("PADDOCK_TELEMETRY_DIR"); dir != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join(dir, "CarData.z.jsonStream")); err != nil {
			b.Fatal(err)
		}
	} else {
		for _, p := range recordedFeeds(b) {
			if livetiming.IsCompressed(p) {
				if c, err := os.ReadFile(p); err == nil && len(c) > len(body) {
					body = c
				}
			}
		}
	}
	for _, validate := range []bool{true, false} {
		for _, workers := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("validate=%v/workers=%d", validate, workers), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var inflated int64
				for b.Loop() {
					sc := livetiming.NewScanner(bytes.NewReader(body), true)
					sc.SetWorkers(workers)
					sc.SetValidate(validate)
					for sc.Scan() {
						inflated += int64(len(sc.Line().Data))
					}
					if err := sc.Err(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(inflated)/1e6/b.Elapsed().Seconds(), "inflated-MB/s")
			})
		}
	}
}
