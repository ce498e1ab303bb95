package stack_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/streams"
)

// TestEveryKindEqualsFastF1 imports every reference session through the
// whole pipeline (stand-in, loader, archive, every extractor, PostgreSQL)
// with every kind, exports every session table the registry says FastF1
// also has, and compares each with FastF1's reference CSV cell by cell,
// row by row in FastF1's order. It prints the agreement per table and
// column; every cell of every column must agree, and every file must be
// byte-identical.
func TestEveryKindEqualsFastF1(t *testing.T) {
	st := start(t)
	var exports []kind.Export
	for _, k := range kinds.All() {
		for _, e := range k.Spec().Exports {
			if e.FastF1 != "" && !e.PerEvent {
				exports = append(exports, e)
			}
		}
	}
	agreement := map[string]*kindtest.Agreement{}
	for _, e := range exports {
		agreement[e.FastF1] = &kindtest.Agreement{}
	}
	for _, r := range kindtest.References(t, "info.json") {
		var want []kind.Export
		tables := map[string][]byte{}
		for _, e := range exports {
			// FastF1's laps with telemetry loaded have LapStartDate.
			if b, ok := r.Table(t, e.FastF1+"_with_telemetry"); ok {
				tables[e.FastF1], want = b, append(want, e)
			} else if b, ok := r.Table(t, e.FastF1); ok {
				tables[e.FastF1], want = b, append(want, e)
			}
		}
		if len(want) == 0 {
			continue // a stage-1 only reference (no FastF1 table)
		}
		_, sum, _ := importRun(t, st, streams.PlanCommand{Year: r.Year, Round: round(r.Round), Session: r.Session})
		if len(sum.KindsFailed) > 0 {
			t.Errorf("%s: kinds failed: %v (%v)", r.Name, sum.KindsFailed, sum.Failures)
		}
		for _, e := range want {
			var got bytes.Buffer
			key := f1.Key(r.Year, r.Round, r.Session)
			if e.Lap {
				// FastF1's table holds every driver's fastest lap, one after
				// the other: export each, header once.
				for i, driver := range column(t, tables[e.FastF1], "DriverNumber") {
					var one bytes.Buffer
					if _, err := e.Write(context.Background(), st.Pool, kind.Query{SessionKey: key, Driver: driver, Lap: "fastest"}, &one); err != nil {
						t.Fatalf("%s: export %s --driver %s: %v", r.Name, e.Name, driver, err)
					}
					b := one.Bytes()
					if i > 0 {
						b = b[bytes.IndexByte(b, '\n')+1:]
					}
					got.Write(b)
				}
			} else if _, err := e.Write(context.Background(), st.Pool, kind.Query{SessionKey: key}, &got); err != nil {
				t.Fatalf("%s: export %s: %v", r.Name, e.Name, err)
			}
			agreement[e.FastF1].Compare(t, r.Name+" "+e.FastF1, got.Bytes(), tables[e.FastF1])
		}
	}
	var lines []string
	for _, e := range exports {
		a := agreement[e.FastF1]
		if a.Files == 0 {
			t.Errorf("no reference session has %s.csv", e.FastF1)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s (%d sessions, paddock export %s): %s", e.FastF1, a.Files, e.Name, a))
	}
	t.Log("\n" + strings.Join(lines, "\n"))
}

// column lists the distinct values of a CSV column in order of appearance.
func column(t *testing.T, table []byte, name string) []string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(table)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("csv: %v", err)
	}
	col := slices.Index(recs[0], name)
	if col < 0 {
		t.Fatalf("no column %s in %v", name, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		if !slices.Contains(out, r[col]) {
			out = append(out, r[col])
		}
	}
	return out
}
