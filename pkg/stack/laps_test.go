package stack_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/kinds/laps"
	"github.com/paddock-f1/paddock/streams"
)

// lapsFloor is the agreement with FastF1 the laps must keep, over every
// compared cell of every reference session.
const lapsFloor = 0.995

// TestLapsEqualFastF1 imports every reference session that has a
// laps.csv through the whole pipeline (stand-in, loader, archive,
// extract-laps, PostgreSQL), exports it and compares it with FastF1's
// laps.csv cell by cell: times within 1 ms, everything else exact. It
// prints the agreement per column and session.
func TestLapsEqualFastF1(t *testing.T) {
	st := start(t)
	type tally struct{ same, all int }
	perColumn := map[string]*tally{}
	var total tally
	var lines []string
	for _, rs := range referenceSessions(t, "laps.csv") {
		_, sum, _ := importRun(t, st, streams.PlanCommand{Year: rs.Year, Round: round(rs.Round), Session: rs.Session, Kinds: []string{"laps"}})
		if sum.DataExtracted["laps"] != 1 {
			t.Errorf("%s: laps not extracted: %+v", filepath.Base(rs.dir), sum)
			continue
		}
		rows, err := laps.Read(context.Background(), st.Pool, f1.Key(rs.Year, rs.Round, rs.Session))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := laps.WriteCSV(&got, rows); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(rs.dir, "laps.csv"))
		if err != nil {
			t.Fatal(err)
		}
		same, all, missing, extra, cols := compareLaps(t, got.Bytes(), want, nil)
		if missing > 0 {
			t.Errorf("%s: %d reference laps missing", filepath.Base(rs.dir), missing)
		}
		total.same += same
		total.all += all
		for c, v := range cols {
			if perColumn[c] == nil {
				perColumn[c] = &tally{}
			}
			perColumn[c].same += v[0]
			perColumn[c].all += v[1]
		}
		line := fmt.Sprintf("%-52s %6d/%6d cells %7.3f%%  laps missing %d extra %d", filepath.Base(rs.dir), same, all, 100*float64(same)/float64(all), missing, extra)
		lines = append(lines, line)
	}
	var names []string
	for c := range perColumn {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		v := perColumn[c]
		lines = append(lines, fmt.Sprintf("  column %-20s %6d/%6d %7.3f%%", c, v.same, v.all, 100*float64(v.same)/float64(v.all)))
	}
	share := float64(total.same) / float64(total.all)
	lines = append(lines, fmt.Sprintf("laps: %d of %d cells agree with FastF1 (%.3f%%)", total.same, total.all, 100*share))
	t.Log("\n" + strings.Join(lines, "\n"))
	if share < lapsFloor {
		t.Fatalf("agreement %.3f%% below the floor %.1f%%", 100*share, 100*lapsFloor)
	}
	// Every column reached 100%: none may fall below it.
	for _, c := range names {
		if v := perColumn[c]; v.same < v.all {
			t.Errorf("column %s: %d of %d cells agree, the level reached is all of them", c, v.same, v.all)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// compareLaps matches rows by (DriverNumber, LapNumber) and compares every
// reference column but those in skip.
func compareLaps(t *testing.T, got, want []byte, skip map[string]string) (same, all, missing, extra int, cols map[string][2]int) {
	t.Helper()
	parse := func(b []byte) ([]string, map[string][]string) {
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("csv: %v", err)
		}
		head := recs[0]
		idx := map[string]int{}
		for i, h := range head {
			idx[h] = i
		}
		rows := map[string][]string{}
		for _, r := range recs[1:] {
			rows[r[idx["DriverNumber"]]+"/"+r[idx["LapNumber"]]] = r
		}
		return head, rows
	}
	gh, grows := parse(got)
	wh, wrows := parse(want)
	gidx := map[string]int{}
	for i, h := range gh {
		gidx[h] = i
	}
	cols = map[string][2]int{}
	for key, w := range wrows {
		g, ok := grows[key]
		if !ok {
			missing++
			continue
		}
		for i, col := range wh {
			if _, skipped := skip[col]; skipped {
				continue
			}
			j, ok := gidx[col]
			agree := ok && cellsAgree(g[j], w[i])
			c := cols[col]
			c[1]++
			all++
			if agree {
				c[0]++
				same++
			}
			cols[col] = c
		}
	}
	for key := range grows {
		if _, ok := wrows[key]; !ok {
			extra++
		}
	}
	return same, all, missing, extra, cols
}

// cellsAgree: equal text, or numbers within 1 ms (speeds and counts are
// whole numbers, so this is exact for them).
func cellsAgree(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 0.0011
}
