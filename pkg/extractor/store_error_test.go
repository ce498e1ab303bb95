package extractor

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paddock-f1/paddock/pkg/consume"
)

// TestStoreErrorTellsRefusedRowsFromOutages: rows PostgreSQL refuses
// fail the same way on every delivery and are given up at once; a lost
// connection, a deadlock, a shutdown or a unique key two deliveries raced
// for is an outage, retried.
func TestStoreErrorTellsRefusedRowsFromOutages(t *testing.T) {
	for _, c := range []struct {
		err       error
		permanent bool
	}{
		{&pgconn.PgError{Code: "22P02", Message: "invalid input syntax for type integer"}, true},
		{&pgconn.PgError{Code: "22003", Message: "numeric field overflow"}, true},
		{&pgconn.PgError{Code: "23502", Message: "null value in column violates not-null constraint"}, true},
		{&pgconn.PgError{Code: "23503", Message: "violates foreign key constraint"}, true},
		{&pgconn.PgError{Code: "23514", Message: "violates check constraint"}, true},
		{&pgconn.PgError{Code: "P0001", Message: "weather_samples refuses rows"}, true},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}, false},
		{&pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, false},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, false},
		{&pgconn.PgError{Code: "42P01", Message: "relation does not exist"}, false}, // a migration not applied yet
		{errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"), false},
		{context.DeadlineExceeded, false},
	} {
		err := storeError(fmt.Errorf("extractor: store weather of 2019/14/Qualifying: %w", c.err))
		var perm *consume.PermanentError
		var down *consume.DownError
		switch {
		case c.permanent && !errors.As(err, &perm):
			t.Errorf("%v: %v, want it given up at once", c.err, err)
		case !c.permanent && (!errors.As(err, &down) || down.Dependency != "postgresql"):
			t.Errorf("%v: %v, want a PostgreSQL outage", c.err, err)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v: the cause is lost: %v", c.err, err)
		}
	}
}
