package stack_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kind"
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
	type tally struct{ same, all int }
	cells := map[string]*tally{} // "table/column"
	files, identical := map[string]int{}, map[string]int{}
	var lines []string
	for _, rs := range referenceSessions(t, "info.json") {
		var want []kind.Export
		for _, e := range exports {
			if _, err := os.Stat(filepath.Join(rs.dir, e.FastF1+".csv")); err == nil {
				want = append(want, e)
			}
		}
		if len(want) == 0 {
			continue // a stage-1 only reference (no FastF1 table)
		}
		name := filepath.Base(rs.dir)
		_, sum, _ := importRun(t, st, streams.PlanCommand{Year: rs.Year, Round: round(rs.Round), Session: rs.Session})
		if len(sum.KindsFailed) > 0 {
			t.Errorf("%s: kinds failed: %v (%v)", name, sum.KindsFailed, sum.Failures)
		}
		key := f1.Key(rs.Year, rs.Round, rs.Session)
		for _, e := range want {
			var got bytes.Buffer
			if _, err := e.Write(context.Background(), st.Pool, key, &got); err != nil {
				t.Fatalf("%s: export %s: %v", name, e.Name, err)
			}
			ref, err := os.ReadFile(filepath.Join(rs.dir, e.FastF1+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			files[e.FastF1]++
			if bytes.Equal(got.Bytes(), ref) {
				identical[e.FastF1]++
			}
			diffs := compareTable(t, got.Bytes(), ref, func(col string, same bool) {
				c := cells[e.FastF1+"/"+col]
				if c == nil {
					c = &tally{}
					cells[e.FastF1+"/"+col] = c
				}
				c.all++
				if same {
					c.same++
				}
			})
			for _, d := range diffs {
				t.Errorf("%s %s: %s", name, e.FastF1, d)
			}
		}
	}
	var keys []string
	for k := range cells {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := cells[k]
		lines = append(lines, fmt.Sprintf("  %-40s %6d/%6d %8.3f%%", k, c.same, c.all, 100*float64(c.same)/float64(c.all)))
	}
	var tables []string
	for tbl := range files {
		tables = append(tables, tbl)
	}
	sort.Strings(tables)
	for _, tbl := range tables {
		lines = append(lines, fmt.Sprintf("%s: %d of %d sessions byte-identical to FastF1's %s.csv", tbl, identical[tbl], files[tbl], tbl))
	}
	t.Log("\n" + strings.Join(lines, "\n"))
	if len(files) == 0 {
		t.Fatal("no reference table compared")
	}
}

// compareTable compares a CSV with FastF1's row by row: the headers must
// be equal, the row counts too, and each cell is reported to cell. It
// returns the differences found (at most a few per column).
func compareTable(t *testing.T, got, want []byte, cell func(col string, same bool)) []string {
	t.Helper()
	read := func(b []byte) [][]string {
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("csv: %v", err)
		}
		return recs
	}
	g, w := read(got), read(want)
	var diffs []string
	if strings.Join(g[0], ",") != strings.Join(w[0], ",") {
		return []string{fmt.Sprintf("header %v, FastF1's %v", g[0], w[0])}
	}
	if len(g) != len(w) {
		diffs = append(diffs, fmt.Sprintf("%d rows, FastF1 has %d", len(g)-1, len(w)-1))
	}
	shown := map[string]int{}
	for i := 1; i < len(w); i++ {
		for j, col := range w[0] {
			gv := ""
			if i < len(g) && j < len(g[i]) {
				gv = g[i][j]
			}
			same := i < len(g) && gv == w[i][j]
			cell(col, same)
			if !same && shown[col] < 3 {
				shown[col]++
				diffs = append(diffs, fmt.Sprintf("row %d %s: %q, FastF1 %q", i, col, gv, w[i][j]))
			}
		}
	}
	return diffs
}
