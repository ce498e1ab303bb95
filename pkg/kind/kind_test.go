package kind_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
)

// TestDefRunsTypedParseAndStore: the erased kind hands the typed store
// exactly what the typed parse made, for the session it was parsed for,
// and a parse error stops it before any store.
func TestDefRunsTypedParseAndStore(t *testing.T) {
	var stored []int
	var storedFor kind.Session
	def := &kind.Def[[]int]{
		Spec: kind.Spec{Name: "numbers", Version: 3, Feeds: []f1.FeedNeed{{File: "A.jsonStream"}}},
		Parse: func(_ kind.Session, feeds kind.Feeds) ([]int, error) {
			if feeds["A.jsonStream"] == nil {
				return nil, errors.New("A.jsonStream: empty")
			}
			return []int{len(feeds["A.jsonStream"]), 7}, nil
		},
		Store: func(_ context.Context, _ pgx.Tx, s kind.Session, rows []int) (int, error) {
			stored, storedFor = rows, s
			return len(rows), nil
		},
	}
	k := def.Kind()
	if k.Spec().Name != "numbers" || k.Spec().Version != 3 {
		t.Fatalf("spec %+v", k.Spec())
	}
	s := kind.Session{SessionKey: f1.Key(2019, 14, "Qualifying"), CircuitKey: 39}
	if _, err := k.Parse(s, kind.Feeds{}); err == nil || err.Error() != "A.jsonStream: empty" {
		t.Fatalf("parse error = %v", err)
	}
	if stored != nil {
		t.Fatal("a failed parse stored rows")
	}
	rows, err := k.Parse(s, kind.Feeds{"A.jsonStream": []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	n, err := rows.Store(context.Background(), nil)
	if err != nil || n != 2 || len(stored) != 2 || stored[0] != 3 || storedFor.SessionKey != s.SessionKey || storedFor.CircuitKey != 39 {
		t.Fatalf("store got %v for %+v (n=%d, err=%v)", stored, storedFor, n, err)
	}
}

// TestFeedsFor keeps a feed whose When rejects the session out.
func TestFeedsFor(t *testing.T) {
	s := kind.Spec{Feeds: []f1.FeedNeed{
		{File: "TimingData.jsonStream"},
		{File: "LapCount.jsonStream", Optional: true, When: f1.RaceLike},
	}}
	if got := s.FeedsFor(2024, "Qualifying"); len(got) != 1 || got[0].File != "TimingData.jsonStream" {
		t.Fatalf("qualifying: %+v", got)
	}
	if got := s.FeedsFor(2024, "Race"); len(got) != 2 {
		t.Fatalf("race: %+v", got)
	}
}
