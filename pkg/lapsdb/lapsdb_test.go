package lapsdb_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock-f1/paddock/pkg/extractor"
	"github.com/paddock-f1/paddock/pkg/laps"
	"github.com/paddock-f1/paddock/pkg/lapsdb"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// baku is the largest recorded session: the 2018 Azerbaijan race.
var baku = extractor.Session{Year: 2018, Round: 4, Name: "Race"}

func bakuLaps(t testing.TB) []laps.Lap {
	t.Helper()
	dir := filepath.Join(testenv.Recorded(t), "livetiming.formula1.com/static/2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race")
	feeds := extractor.Feeds{}
	for _, f := range []string{"TimingData", "TimingAppData", "SessionInfo", "DriverList", "TrackStatus", "SessionStatus", "RaceControlMessages", "LapCount"} {
		b, err := os.ReadFile(filepath.Join(dir, f+".jsonStream"))
		if err != nil {
			t.Fatal(err)
		}
		feeds[f+".jsonStream"] = b
	}
	parsed, err := lapsdb.Parse(baku, feeds)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.([]laps.Lap)
}

func database(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO seasons (year, sources, input_digest) VALUES (2018, '{}', 'test');
		INSERT INTO events (year, round, name) VALUES (2018, 4, 'Azerbaijan Grand Prix');
		INSERT INTO sessions (year, round, name, number, start_utc, archive_path) VALUES (2018, 4, 'Race', 5, '2018-04-29 12:10Z', 'x/')`)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func storeLaps(t testing.TB, pool *pgxpool.Pool, rows []laps.Lap) int {
	t.Helper()
	var n int
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		n, err = lapsdb.Store(context.Background(), tx, baku, rows)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStoreIsIdempotentAndLossless: storing a session twice leaves one
// copy, and what is read back equals what was derived, field by field.
func TestStoreIsIdempotentAndLossless(t *testing.T) {
	pool := database(t)
	rows := bakuLaps(t)
	if n := storeLaps(t, pool, rows); n != len(rows) || n < 800 {
		t.Fatalf("stored %d of %d laps", n, len(rows))
	}
	storeLaps(t, pool, rows)
	back, err := lapsdb.Read(context.Background(), pool, baku.Year, baku.Round, baku.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(rows) {
		t.Fatalf("read %d laps after two stores, derived %d", len(back), len(rows))
	}
	for i := range rows {
		if !reflect.DeepEqual(back[i], rows[i]) {
			t.Fatalf("lap %d differs after the round trip:\n got  %+v\n want %+v", i, back[i], rows[i])
		}
	}
}

// BenchmarkStore writes the largest session's laps (COPY in one
// transaction, replacing the previous copy).
func BenchmarkStore(b *testing.B) {
	pool := database(b)
	rows := bakuLaps(b)
	for b.Loop() {
		storeLaps(b, pool, rows)
	}
	b.ReportMetric(float64(len(rows)), "laps")
}
