package position_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kinds/position"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// biggestRecorded returns the largest recorded Position.z stream.
func biggestRecorded(tb testing.TB) (string, []byte) {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(testenv.Recorded(tb), "*", "static", "*", "*", "*", position.Feed))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no recorded %s: %v", position.Feed, err)
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

// benchDecode decodes the body open returns b.N times keeping every car of
// the feed and reports samples/s, MB/s of stream, allocated bytes per sample
// and the high-water mark of HeapInuse above what was in use before
// (sampled at every batch).
func benchDecode(b *testing.B, size int64, open func() io.ReadCloser) {
	rc := open()
	sum, err := position.Decode(rc, nil, func([]position.Sample) error { return nil })
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	var keep []string
	for _, d := range sum.Dropped {
		keep = append(keep, d.Number)
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
		sum, err := position.Decode(rc, keep, func(rows []position.Sample) error {
			h.sample()
			return nil
		})
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
		samples += sum.Samples
	}
	b.StopTimer()
	h.sample()
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(h.peak-base)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(h.ms.TotalAlloc-before)/float64(samples), "B/sample")
}

// BenchmarkDecode: the biggest recorded Position.z stream, from memory,
// every car kept.
func BenchmarkDecode(b *testing.B) {
	path, body := biggestRecorded(b)
	b.Logf("%s: %.1f MB", path, float64(len(body))/1e6)
	benchDecode(b, int64(len(body)), func() io.ReadCloser { return io.NopCloser(bytes.NewReader(body)) })
}

// BenchmarkDecodeGenerated: a large generated stream read from its file,
// e.g. a two-hour 20-car race made by shared/tools/telemetry/gen_telemetry.py
// synthetic --drivers 20 --duration 7200 --out /tmp/race, named by
// PADDOCK_TELEMETRY_DIR (skipped when unset).
func BenchmarkDecodeGenerated(b *testing.B) {
	dir := os.Getenv("PADDOCK_TELEMETRY_DIR")
	if dir == "" {
		b.Skip("PADDOCK_TELEMETRY_DIR not set")
	}
	path := filepath.Join(dir, position.Feed)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %.1f MB", path, float64(fi.Size())/1e6)
	benchDecode(b, fi.Size(), func() io.ReadCloser {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	})
}
