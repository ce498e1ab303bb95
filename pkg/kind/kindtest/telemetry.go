package kindtest

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/livetiming"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// ZStream builds a .z.jsonStream body: BOM, then one CRLF line per document,
// the i-th at offset i seconds (or at the offset given as "HH:MM:SS.mmm|doc").
func ZStream(t testing.TB, docs ...string) []byte {
	t.Helper()
	var b, z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("\ufeff")
	for i, doc := range docs {
		off := livetiming.FormatOffset(time.Duration(i+1) * time.Second)
		if o, d, ok := strings.Cut(doc, "|"); ok && len(o) == 12 {
			off, doc = o, d
		}
		z.Reset()
		w.Reset(&z)
		io.WriteString(w, doc)
		w.Close()
		fmt.Fprintf(&b, "%s\"%s\"\r\n", off, base64.StdEncoding.EncodeToString(z.Bytes()))
	}
	return b.Bytes()
}

// DecodeFunc runs a telemetry kind's Decode on r keeping the drivers
// listed, calling batch for every batch emitted; it returns the samples
// parsed and the numbers of the dropped cars.
type DecodeFunc func(r io.Reader, keep []string, batch func()) (samples int, dropped []string, err error)

// BiggestRecorded returns the largest recorded stream of the feed.
func BiggestRecorded(tb testing.TB, feed string) (string, []byte) {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(testenv.Recorded(tb), "*", "static", "*", "*", "*", feed))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no recorded %s: %v", feed, err)
	}
	var best string
	var size int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			best, size = p, fi.Size()
		}
	}
	body, err := os.ReadFile(best)
	if err != nil {
		tb.Fatal(err)
	}
	return best, body
}

// heapWatch records the high-water mark of HeapInuse, sampled when called.
type heapWatch struct {
	ms   runtime.MemStats
	peak uint64
}

func (h *heapWatch) sample() {
	runtime.ReadMemStats(&h.ms)
	h.peak = max(h.peak, h.ms.HeapInuse)
}

// BenchDecode decodes the body open returns b.N times keeping every car of
// the feed and reports samples/s, MB/s of stream, allocated bytes per sample
// and the high-water mark of HeapInuse above what was in use before
// (sampled at every batch).
func BenchDecode(b *testing.B, size int64, open func() io.ReadCloser, decode DecodeFunc) {
	rc := open()
	_, keep, err := decode(rc, nil, func() {})
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var h heapWatch
	h.sample()
	base := h.ms.HeapInuse
	before := h.ms.TotalAlloc
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	samples := 0
	for b.Loop() {
		rc := open()
		n, _, err := decode(rc, keep, h.sample)
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
		samples += n
	}
	b.StopTimer()
	h.sample()
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(h.peak-base)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(h.ms.TotalAlloc-before)/float64(samples), "B/sample")
}

// BenchDecodeRecorded: the biggest recorded stream of the feed, from
// memory, every car kept.
func BenchDecodeRecorded(b *testing.B, feed string, decode DecodeFunc) {
	path, body := BiggestRecorded(b, feed)
	b.Logf("%s: %.1f MB", path, float64(len(body))/1e6)
	BenchDecode(b, int64(len(body)), func() io.ReadCloser { return io.NopCloser(bytes.NewReader(body)) }, decode)
}

// BenchDecodeGenerated: a large generated stream of the feed read from its
// file, e.g. a two-hour 20-car race made by
// shared/tools/telemetry/gen_telemetry.py synthetic --drivers 20 --duration
// 7200 --out /tmp/race, named by PADDOCK_TELEMETRY_DIR (skipped when unset).
func BenchDecodeGenerated(b *testing.B, feed string, decode DecodeFunc) {
	dir := os.Getenv("PADDOCK_TELEMETRY_DIR")
	if dir == "" {
		b.Skip("PADDOCK_TELEMETRY_DIR not set")
	}
	path := filepath.Join(dir, feed)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %.1f MB", path, float64(fi.Size())/1e6)
	BenchDecode(b, fi.Size(), func() io.ReadCloser {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}, decode)
}
