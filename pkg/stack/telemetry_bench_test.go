package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/kinds/cardata"
	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// BenchmarkTelemetryStore stores a whole-field telemetry stream through its
// kind exactly as the extractor does: streamed from the raw archive (an
// in-process JetStream object store), decoded line by line, COPYed in
// batches into PostgreSQL inside one transaction. PADDOCK_TELEMETRY_DIR
// names a directory with CarData.z.jsonStream and Position.z.jsonStream,
// e.g. made by
//
//	python3 testdata/f1/gen_telemetry.py synthetic --drivers 20 --duration 7200 --out /tmp/race
//
// It reports samples/s, MB/s of the stream, the process's peak RSS while
// storing (VmHWM, reset before the store), how much of it the store added
// to what the process held before (store-RSS-MiB) and what reading the
// stream alone from the archive adds (read-only-RSS-MiB); without the variable the
// 2018 Baku race's recorded streams (six cars) are used. With NATS_URL the
// archive is on that server, as for a deployed extractor; without it, on
// a server in this process, as for the embedded default.
func BenchmarkTelemetryStore(b *testing.B) {
	dir := os.Getenv("PADDOCK_TELEMETRY_DIR")
	if dir == "" {
		dir = filepath.Join(testenv.Recorded(b), "livetiming.formula1.com/static/2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race")
	}
	ctx := context.Background()
	pool, err := store.Open(ctx, testenv.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.Schemas()...); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO seasons (year, sources, input_digest) VALUES (2030, '{}', 'bench');
		INSERT INTO events (year, round, name) VALUES (2030, 1, 'Benchmark Grand Prix');
		INSERT INTO sessions (year, round, name, number, start_utc, archive_path) VALUES (2030, 1, 'Race', 5, '2030-01-01Z', 'x/')`); err != nil {
		b.Fatal(err)
	}
	// NATS_URL: a JetStream server of its own, so the RSS measured is the
	// extractor's alone (as deployed); else one in this process (as the
	// embedded default runs).
	var nc *nats.Conn
	if url := os.Getenv("NATS_URL"); url != "" {
		nc, err = nats.Connect(url)
	} else {
		srv, serr := natsrv.Start(natsrv.Options{StoreDir: b.TempDir()})
		if serr != nil {
			b.Fatal(serr)
		}
		defer srv.Shutdown()
		nc, err = srv.Connect("bench")
	}
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if err := streams.Apply(ctx, js, 1); err != nil {
		b.Fatal(err)
	}
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		b.Fatal(err)
	}
	carBody, err := os.ReadFile(filepath.Join(dir, cardata.Feed))
	if err != nil {
		b.Fatal(err)
	}
	dl := driverListOf(b, carBody)
	carBody = nil
	for _, feed := range []string{"CarData.z.jsonStream", "Position.z.jsonStream"} {
		b.Run(strings.TrimSuffix(feed, ".z.jsonStream"), func(b *testing.B) {
			body, err := os.ReadFile(filepath.Join(dir, feed))
			if err != nil {
				b.Fatal(err)
			}
			size := len(body)
			e, err := arc.Put(ctx, "bench", feed, 200, "bench", body)
			if err != nil {
				b.Fatal(err)
			}
			body = nil
			name := "car-data"
			if feed != cardata.Feed {
				name = "position"
			}
			k := kinds.MustLookup(name)
			s := kind.Session{SessionKey: f1.Key(2030, 1, "Race"), Open: func(ctx context.Context, _ string) (io.ReadCloser, error) {
				return arc.Open(ctx, e.Name, e.SHA256)
			}}
			// What reading the stream alone from the archive costs.
			runtime.GC()
			debug.FreeOSMemory()
			resetPeakRSS(b)
			before := peakRSSMiBNow(b)
			r, err := arc.Open(ctx, e.Name, e.SHA256)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
			r.Close()
			readRSS := peakRSSMiBNow(b) - before
			var rows int
			var peak, base float64
			for b.Loop() {
				runtime.GC()
				debug.FreeOSMemory()
				resetPeakRSS(b)
				base = peakRSSMiBNow(b)
				parsed, err := k.Parse(s, kind.Feeds{"DriverList.jsonStream": dl})
				if err != nil {
					b.Fatal(err)
				}
				err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					rows, err = parsed.Store(ctx, tx)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, peakRSSMiBNow(b))
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(rows), "samples")
			b.ReportMetric(float64(rows)/sec, "samples/s")
			b.ReportMetric(float64(size)/1e6/sec, "MB/s")
			b.ReportMetric(peak, "peak-RSS-MiB")
			b.ReportMetric(peak-base, "store-RSS-MiB")
			var bytes int64
			if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size($1)`, map[string]string{"car-data": "car_samples_y2030", "position": "position_samples_y2030"}[name]).Scan(&bytes); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(bytes)/float64(rows), "table-B/sample")
			b.ReportMetric(readRSS, "read-only-RSS-MiB")
		})
	}
}

// driverListOf makes a DriverList naming every car of a car data stream
// (a generated race has none of its own).
func driverListOf(b *testing.B, carData []byte) []byte {
	b.Helper()
	sum, err := cardata.Decode(bytes.NewReader(carData), nil, func([]cardata.Sample) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	var numbers []string
	for _, d := range sum.Dropped {
		numbers = append(numbers, d.Number)
	}
	var doc strings.Builder
	doc.WriteString("\xef\xbb\xbf00:00:00.000{")
	for i, n := range numbers {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `"%s":{"RacingNumber":"%s","Tla":"D%s","BroadcastName":"D %s","TeamName":"Team","Line":%d}`, n, n, n, n, i+1)
	}
	doc.WriteString("}\r\n")
	return []byte(doc.String())
}

// resetPeakRSS resets the process's peak RSS (VmHWM) on Linux.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSSMiBNow is the process's peak RSS since the last reset.
func peakRSSMiBNow(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
