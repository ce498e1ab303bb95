package chaos

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestDigest digests tables the way a trial is judged: the same rows in
// another order, with other run ids, identities and timestamps, are
// equal; a missing row, a changed value and a duplicated row are not.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE streams (stream_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, driver text NOT NULL,
		run_id text NOT NULL DEFAULT '', loaded_at timestamptz NOT NULL DEFAULT now())`)
	exec(`CREATE TABLE samples (stream_id integer NOT NULL, seq integer NOT NULL, speed integer NOT NULL)`)
	exec(`CREATE TABLE runs (run_id text PRIMARY KEY)`)
	load := func(order string) {
		exec(`TRUNCATE streams, samples, runs`)
		exec(`INSERT INTO runs VALUES ('` + order + `')`)
		drivers := []string{"HAM", "LEC"}
		if order == "reversed" {
			drivers = []string{"LEC", "HAM"}
		}
		for _, d := range drivers {
			exec(`INSERT INTO streams (driver, run_id) VALUES ('` + d + `', '` + order + `')`)
			exec(`INSERT INTO samples SELECT stream_id, s, s * 10 FROM streams, generate_series(1, 3) s WHERE driver = '` + d + `'`)
		}
	}
	load("forward")
	want, err := Digest(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := want["runs"]; ok || len(want) != 2 || strings.Join(want["streams"].Columns, ",") != "driver" {
		t.Fatalf("digested %v, want streams (driver) and samples, not runs", want)
	}
	load("reversed")
	got, err := Digest(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if d := Differences(want, got); len(d) > 0 {
		t.Fatalf("the same rows in another order, run and identities differ: %v", d)
	}
	for _, tc := range []struct{ change, want string }{
		{`DELETE FROM samples WHERE seq = 3 AND speed = 30 AND stream_id = (SELECT min(stream_id) FROM samples)`, "samples: 5 rows, clean run 6"},
		{`UPDATE samples SET speed = 31 WHERE seq = 3 AND stream_id = (SELECT min(stream_id) FROM samples)`, "samples: 6 rows as in the clean run but different content"},
		{`INSERT INTO streams (driver) VALUES ('HAM')`, "streams: 1 duplicated rows"},
	} {
		load("reversed")
		exec(tc.change)
		got, err := Digest(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if d := strings.Join(Differences(want, got), "; "); !strings.Contains(d, tc.want) {
			t.Errorf("after %s: differences %q, want %q", tc.change, d, tc.want)
		}
	}
}
