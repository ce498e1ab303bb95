package laps_test

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

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/kinds/laps"
	"github.com/paddock-f1/paddock/pkg/store"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// baku is the largest recorded session: the 2018 Azerbaijan race.
var baku = kind.Session{SessionKey: f1.Key(2018, 4, "Race")}

// bakuLaps parses the session through the kind, and derives its laps
// directly to compare with.
func bakuLaps(t testing.TB) (kind.Rows, []laps.Lap) {
	t.Helper()
	dir := filepath.Join(testenv.Recorded(t), "livetiming.formula1.com/static/2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race")
	feeds := kind.Feeds{}
	for _, f := range []string{"TimingData", "TimingAppData", "SessionInfo", "DriverList", "TrackStatus", "SessionStatus", "RaceControlMessages", "LapCount"} {
		b, err := os.ReadFile(filepath.Join(dir, f+".jsonStream"))
		if err != nil {
			t.Fatal(err)
		}
		feeds[f+".jsonStream"] = b
	}
	parsed, err := laps.Kind().Parse(baku, feeds)
	if err != nil {
		t.Fatal(err)
	}
	res, err := laps.Derive(laps.Input{Year: 2018, Session: "Race", TimingData: feeds["TimingData.jsonStream"],
		TimingAppData: feeds["TimingAppData.jsonStream"], SessionInfo: feeds["SessionInfo.jsonStream"],
		DriverList: feeds["DriverList.jsonStream"], TrackStatus: feeds["TrackStatus.jsonStream"],
		SessionStatus: feeds["SessionStatus.jsonStream"], RaceControlMessages: feeds["RaceControlMessages.jsonStream"],
		LapCount: feeds["LapCount.jsonStream"]})
	if err != nil {
		t.Fatal(err)
	}
	return parsed, res.Laps
}

func database(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), kinds.Schemas()...); err != nil {
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

func storeLaps(t testing.TB, pool *pgxpool.Pool, rows kind.Rows) int {
	t.Helper()
	var n int
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		n, err = rows.Store(context.Background(), tx)
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
	parsed, rows := bakuLaps(t)
	if n := storeLaps(t, pool, parsed); n != len(rows) || n < 800 {
		t.Fatalf("stored %d of %d laps", n, len(rows))
	}
	storeLaps(t, pool, parsed)
	back, err := laps.Read(context.Background(), pool, baku.SessionKey)
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
	parsed, rows := bakuLaps(b)
	for b.Loop() {
		storeLaps(b, pool, parsed)
	}
	b.ReportMetric(float64(len(rows)), "laps")
}
